"""The admin desks: refunds that need a person (`/api/v1/admin/refunds`) and 退费 of settled fees
(`/api/v1/admin/bill-settlements`). Staff serve them; the use cases are the cashier's and billing's."""
from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from bff import audit
from bff.billing import schemas as billing_schemas
from bff.billing import service as billing
from bff.extensions import db
from bff.payments import service as cashier
from bff.staff.tokens import staff_required

blp = Blueprint("admin_refunds", __name__, url_prefix="/api/v1/admin/refunds", description="退款人工处理")

STATUSES = ("pending", "processing", "succeeded", "failed", "refund_failed", "refunded_offline")


class RefundQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES, error="退款状态无效"))


class AdminRefundOut(Schema):
    id = fields.Integer()
    payment_id = fields.Integer()
    order_type = fields.String()
    order_id = fields.String()
    channel = fields.String()
    out_trade_no = fields.String()
    out_refund_no = fields.String()
    amount = fields.Integer(metadata={"description": "fen"})
    status = fields.String(metadata={"description": " / ".join(STATUSES)})
    reason = fields.String(metadata={"description": "why the money goes back"})
    attempts = fields.Integer(metadata={"description": "times the gateway was asked"})
    refusal = fields.String(allow_none=True, metadata={"description": "why the gateway refused, while refund_failed"})
    failure_reason = fields.String()
    last_error = fields.String(allow_none=True)
    settled_note = fields.String(allow_none=True)
    settled_by = fields.Integer(allow_none=True)
    settled_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    succeeded_at = fields.DateTime(allow_none=True)


class AdminRefundList(Schema):
    items = fields.List(fields.Nested(AdminRefundOut))


class SettleOfflineIn(Schema):
    note = fields.String(required=True, validate=validate.Length(1, 255, error="请填写线下退款说明"))


def _ip() -> str:
    return request.remote_addr or ""


@blp.route("", methods=["GET"])
@staff_required("admin")
@blp.arguments(RefundQuery(), location="query")
@blp.response(200, AdminRefundList)
def list_refunds(query):
    """Refunds newest first, e.g. status=refund_failed: refused by the gateway for good, a person must act.

    The list shows orders and trade numbers of patients' payments: reading it is audited.
    """
    answer = {"items": [cashier.present_refund(r) for r in cashier.list_refunds(query.get("status"))]}
    audit.record(g.staff, "refunds_read", _ip(), detail=f"status={query.get('status') or 'any'}")
    db.session.commit()
    return answer


@blp.route("/<int:refund_id>/reissue", methods=["POST"])
@staff_required("admin")
@blp.response(200, AdminRefundOut)
def reissue(refund_id):
    """Ask the gateway again (e.g. after the merchant account was topped up). Audited."""
    return cashier.present_refund(cashier.reissue(refund_id, g.staff, _ip()))


@blp.route("/<int:refund_id>/settle-offline", methods=["POST"])
@staff_required("admin")
@blp.arguments(SettleOfflineIn)
@blp.response(200, AdminRefundOut)
def settle_offline(body, refund_id):
    """The money was paid back another way: recorded with the note and who, audited, counted in reconciliation."""
    return cashier.present_refund(cashier.settle_offline(refund_id, g.staff, body["note"], _ip()))


bills_blp = Blueprint("admin_bill_settlements", __name__, url_prefix="/api/v1/admin/bill-settlements",
                description="门诊退费")


class BillRefundIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 80, error="请填写退费原因"))


@bills_blp.route("/<settlement_id>/refund", methods=["POST"])
@staff_required("admin", "registrar")
@bills_blp.arguments(BillRefundIn)
@bills_blp.response(200, billing_schemas.SettlementOut)
def refund(body, settlement_id):
    """退费: the HIS lets the settled bills go, then the money goes back through the payment. Audited."""
    order = billing.refund_settled(settlement_id, g.staff, body["reason"], _ip())
    return billing.present(order)
