"""Appointment schemas."""
from marshmallow import Schema, fields, validate

from bff.ids import HIS_ID, MAX_ID

STATUSES = ("pending", "awaiting_payment", "paid", "confirmed", "checked_in", "completed", "cancelled", "expired",
            "refunded")


class BookingIn(Schema):
    patient_id = fields.Integer(required=True, strict=False, validate=validate.Range(1, MAX_ID, error="就诊人编号无效"))
    schedule_id = fields.String(required=True, validate=HIS_ID)
    slot_id = fields.String(required=True, validate=HIS_ID)


class AppointmentQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))


class PatientBrief(Schema):
    id = fields.Integer()
    name = fields.String()
    id_number_masked = fields.String()


class ScheduleBrief(Schema):
    id = fields.String()
    date = fields.Date()
    period = fields.String()
    department_code = fields.String()
    department_name = fields.String()
    doctor_code = fields.String()
    doctor_name = fields.String()
    title = fields.String()


class SlotBrief(Schema):
    id = fields.String()
    start = fields.DateTime()
    end = fields.DateTime()


class RefundBrief(Schema):
    amount = fields.Integer()
    status = fields.String()
    reason = fields.String()
    succeeded_at = fields.DateTime(allow_none=True)


class PaymentBrief(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "pending / paid / refunding / refunded / closed / failed"})
    channel = fields.String()
    amount = fields.Integer()
    paid_at = fields.DateTime(allow_none=True)
    refunded = fields.Integer()
    refunds = fields.List(fields.Nested(RefundBrief))


class AppointmentOut(Schema):
    id = fields.String()
    status = fields.String()
    patient = fields.Nested(PatientBrief)
    schedule = fields.Nested(ScheduleBrief)
    slot = fields.Nested(SlotBrief)
    fee = fields.Integer()
    hold_expires_at = fields.DateTime(allow_none=True)
    visit_no = fields.String(allow_none=True)
    queue_no = fields.Integer(allow_none=True)
    cancellable = fields.Boolean()
    created_at = fields.DateTime()
    payment = fields.Nested(PaymentBrief, allow_none=True, metadata={"description": "the latest payment, if any"})


class AppointmentList(Schema):
    items = fields.List(fields.Nested(AppointmentOut))


class QueueOut(Schema):
    queue_no = fields.Integer()
    current_no = fields.Integer()
    ahead = fields.Integer()
    estimated_wait_minutes = fields.Integer()
