"""`/api/v1/admin/bill-settlements`: 退费 of settled outpatient fees (admins and registrars)."""
from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from bff.billing import refunds, schemas, service
from bff.staff.tokens import staff_required

blp = Blueprint("admin_bill_settlements", __name__, url_prefix="/api/v1/admin/bill-settlements",
                description="门诊退费")


class BillRefundIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 80, error="请填写退费原因"))


@blp.route("/<settlement_id>/refund", methods=["POST"])
@staff_required("admin", "registrar")
@blp.arguments(BillRefundIn)
@blp.response(200, schemas.SettlementOut)
def refund(body, settlement_id):
    """退费: the HIS lets the settled bills go, then the money goes back through the payment. Audited."""
    order = refunds.refund_settled(settlement_id, g.staff, body["reason"], request.remote_addr or "")
    return service.present(order)
