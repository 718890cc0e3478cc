"""Catalog schemas: departments, doctors, schedules, slots."""
import datetime as dt

from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class ChildDepartmentOut(Schema):
    code = fields.String()
    name = fields.String()
    intro = fields.String()


class DepartmentOut(Schema):
    code = fields.String()
    name = fields.String()
    children = fields.List(fields.Nested(ChildDepartmentOut))


class DepartmentList(Schema):
    items = fields.List(fields.Nested(DepartmentOut))
    stale = fields.Boolean()


class DoctorQuery(Schema):
    department = fields.String(validate=validate.Length(max=32))


class DoctorOut(Schema):
    code = fields.String()
    name = fields.String()
    title = fields.String()
    department_code = fields.String()
    specialty = fields.String()
    intro = fields.String()


class DoctorList(Schema):
    items = fields.List(fields.Nested(DoctorOut))
    stale = fields.Boolean()


class ScheduleQuery(Schema):
    department = fields.String(validate=validate.Length(max=32))
    doctor = fields.String(validate=validate.Length(max=32))
    date_from = fields.Date()
    date_to = fields.Date()

    @validates_schema
    def _range(self, data, **kwargs):
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and (end < start or end - start > dt.timedelta(days=31)):
            raise ValidationError("日期范围无效（最多31天）", "date_to")


class ScheduleOut(Schema):
    id = fields.String()
    doctor_code = fields.String()
    doctor_name = fields.String()
    title = fields.String()
    department_code = fields.String()
    department_name = fields.String()
    date = fields.Date()
    period = fields.String()
    fee = fields.Integer()
    total = fields.Integer()
    remaining = fields.Integer()
    status = fields.String()
    release_at = fields.DateTime()


class ScheduleList(Schema):
    items = fields.List(fields.Nested(ScheduleOut))
    stale = fields.Boolean()


class SlotOut(Schema):
    id = fields.String()
    start = fields.DateTime()
    end = fields.DateTime()
    capacity = fields.Integer()
    remaining = fields.Integer()
    status = fields.String(metadata={"description": "open / full / passed (the slot has ended)"})


class SlotList(Schema):
    items = fields.List(fields.Nested(SlotOut))
    stale = fields.Boolean()
