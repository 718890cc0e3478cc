"""Payment schemas: starting a payment, its status and refunds."""
from marshmallow import Schema, fields, validate

from bff.payments.orders import ORDER_TYPES
from bff.validation import FullMatch
from payments.registry import CHANNELS


class PaymentIn(Schema):
    order_type = fields.String(required=True, validate=validate.OneOf(ORDER_TYPES, error="订单类型无效"))
    order_id = fields.String(required=True, validate=FullMatch(r"^[A-Za-z0-9_-]{1,32}$", error="订单编号无效"))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS, error="支付方式无效"))
    payer_id = fields.String(validate=validate.Length(1, 64), metadata={
        "description": "Alipay: the buyer's user id from the Alipay mini-program (WeChat uses the login's openid)"})


class RefundOut(Schema):
    id = fields.Integer()
    out_refund_no = fields.String()
    amount = fields.Integer()
    reason = fields.String()
    status = fields.String(metadata={"description": "pending / processing / succeeded / failed (closed, asked again) "
                                                    "/ refund_failed (refused for good: the hospital follows it up) "
                                                    "/ refunded_offline (paid back another way)"})
    created_at = fields.DateTime()
    succeeded_at = fields.DateTime(allow_none=True)


class PaymentOut(Schema):
    id = fields.Integer()
    out_trade_no = fields.String()
    order_type = fields.String()
    order_id = fields.String()
    amount = fields.Integer()
    channel = fields.String()
    status = fields.String(metadata={"description": "pending / paid / refunding / refunded / closed / failed"})
    pay_params = fields.Dict(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    refunded = fields.Integer()
    refunds = fields.List(fields.Nested(RefundOut))
