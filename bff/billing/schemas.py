"""Outpatient fee schemas."""
from marshmallow import Schema, fields, validate

from bff.ids import HIS_ID, MAX_ID


class BillQuery(Schema):
    patient_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID, error="就诊人编号无效"))


class BillItemOut(Schema):
    name = fields.String()
    amount = fields.Integer()
    quantity = fields.String()
    category = fields.String()


class BillOut(Schema):
    id = fields.String()
    title = fields.String()
    department = fields.String()
    doctor_name = fields.String()
    amount = fields.Integer()
    created_at = fields.DateTime()
    items = fields.List(fields.Nested(BillItemOut))


class BillList(Schema):
    items = fields.List(fields.Nested(BillOut))


class SettlementIn(Schema):
    patient_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID, error="就诊人编号无效"))
    bill_ids = fields.List(fields.String(validate=HIS_ID), required=True,
                           validate=validate.Length(1, 50, error="请选择1至50项费用"))


class SettledBillOut(Schema):
    id = fields.String()
    title = fields.String()
    department = fields.String()
    amount = fields.Integer()


class SettlementPaymentOut(Schema):
    id = fields.Integer()
    status = fields.String()
    channel = fields.String()
    amount = fields.Integer()
    paid_at = fields.DateTime(allow_none=True)
    refunded = fields.Integer()


class SettlementOut(Schema):
    id = fields.String()
    patient_id = fields.Integer()
    amount = fields.Integer()
    status = fields.String(metadata={"description": "pending / expired / paid / settled / cancelled / refunding "
                                                    "(退费 in the HIS, money on its way) / refunded"})
    bills = fields.List(fields.Nested(SettledBillOut))
    receipt_no = fields.String(allow_none=True)
    failure_reason = fields.String(allow_none=True)
    expires_at = fields.DateTime()
    created_at = fields.DateTime()
    settled_at = fields.DateTime(allow_none=True)
    payment = fields.Nested(SettlementPaymentOut, allow_none=True)
