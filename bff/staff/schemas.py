"""Staff schemas."""
from marshmallow import Schema, fields, validate

from bff.ids import HIS_ID, MAX_ID
from health_card.codes import Scene


class LoginIn(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 32))
    password = fields.String(required=True, validate=validate.Length(1, 128), load_only=True)


class StaffOut(Schema):
    id = fields.Integer()
    name = fields.String()
    roles = fields.List(fields.String())


class LoginOut(Schema):
    token = fields.String()
    expires_in = fields.Integer()
    staff = fields.Nested(StaffOut)


class ScanIn(Schema):
    qr_code_text = fields.String(required=True, validate=validate.Length(1, 512))
    scene = fields.String(load_default=str(Scene.SAME_DAY_REGISTRATION), validate=validate.OneOf(
        [str(s) for s in Scene], error="用卡环节代码无效"), metadata={"description": "usage scene code, e.g. 0101012"})


class ScannedPatientOut(Schema):
    name = fields.String()
    gender = fields.String()
    age = fields.Integer(allow_none=True)
    id_number_masked = fields.String()
    phone_masked = fields.String()
    his_patient_id = fields.String(allow_none=True)
    patient_id = fields.Integer(allow_none=True)
    health_card_id = fields.String()


class TodayAppointmentOut(Schema):
    id = fields.String()
    status = fields.String()
    department_name = fields.String()
    doctor_name = fields.String()
    title = fields.String()
    period = fields.String()
    slot_start = fields.DateTime()
    slot_end = fields.DateTime()
    visit_no = fields.String(allow_none=True)
    queue_no = fields.Integer(allow_none=True)


class PendingOrderOut(Schema):
    kind = fields.String(metadata={"description": "bill: a fee waiting to be paid"})
    id = fields.String()
    title = fields.String()
    department = fields.String()
    amount = fields.Integer()
    created_at = fields.DateTime()


class ScanOut(Schema):
    patient = fields.Nested(ScannedPatientOut)
    appointments = fields.List(fields.Nested(TodayAppointmentOut))
    orders = fields.List(fields.Nested(PendingOrderOut))
    orders_available = fields.Boolean(metadata={"description": "false when the HIS could not list them just now"})


class AuditQuery(Schema):
    before = fields.Integer(validate=validate.Range(1, MAX_ID))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    staff_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    patient_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    # scans of cards not issued through us have no patient of ours, only the HIS's id
    his_patient_id = fields.String(validate=HIS_ID)


class AuditEntryOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    staff_id = fields.Integer()
    action = fields.String()
    patient_id = fields.Integer(allow_none=True)
    his_patient_id = fields.String(allow_none=True)
    detail = fields.String()
    ip = fields.String()


class AuditList(Schema):
    items = fields.List(fields.Nested(AuditEntryOut))
    next_cursor = fields.Integer(allow_none=True)


class UnlockOut(Schema):
    username = fields.String()
    active = fields.Boolean(metadata={"description": "false: the account is disabled (only the CLI re-enables it)"})
