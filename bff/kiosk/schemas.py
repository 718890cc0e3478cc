"""Kiosk schemas."""
from marshmallow import Schema, fields, validate

from bff.payments.orders import ORDER_TYPES
from bff.validation import FullMatch
from payments.registry import CHANNELS


class AuthInfoIn(Schema):
    rawdata = fields.String(required=True, validate=validate.Length(1, 4096))
    store_id = fields.String(load_default="", validate=validate.Length(max=32))
    store_name = fields.String(load_default="", validate=validate.Length(max=64))
    device_id = fields.String(load_default="", validate=validate.Length(max=64))


class AuthInfoOut(Schema):
    authinfo = fields.String()
    expires_in = fields.Integer()


class FacePayIn(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS, error="支付方式无效"))
    auth_code = fields.String(required=True, validate=validate.Length(1, 128))
    order_type = fields.String(required=True, validate=validate.OneOf(ORDER_TYPES, error="订单类型无效"))
    order_id = fields.String(required=True, validate=FullMatch(r"^[A-Za-z0-9_-]{1,32}$", error="订单编号无效"))


class KioskPaymentOut(Schema):
    id = fields.Integer()
    out_trade_no = fields.String()
    order_type = fields.String()
    order_id = fields.String()
    amount = fields.Integer()
    channel = fields.String()
    status = fields.String()
    paid_at = fields.DateTime(allow_none=True)
    order_status = fields.String(metadata={"description": "the order's status: confirmed / settled once fulfilled"})
    receipt_no = fields.String(allow_none=True)
