"""`/api/v1/bills`: pending outpatient fees and their settlement."""
from flask import g
from flask_smorest import Blueprint

from bff.auth.tokens import login_required
from bff.billing import schemas, service
from bff.idempotency import idempotent

blp = Blueprint("billing", __name__, url_prefix="/api/v1/bills", description="门诊缴费")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(schemas.BillQuery(), location="query")
@blp.response(200, schemas.BillList)
def list_bills(query):
    """The patient's pending fees (待缴费), from the HIS."""
    return {"items": [service.present_bill(b) for b in service.pending_bills(g.user_id, query["patient_id"])]}


@blp.route("/settlements", methods=["POST"])
@login_required
@blp.arguments(schemas.SettlementIn)
@idempotent()
@blp.response(201, schemas.SettlementOut)
def create_settlement(body):
    """Choose bills to pay together; then pay the order with POST /api/v1/payments (order_type bills)."""
    return service.present(service.create_settlement(g.user_id, body["patient_id"], body["bill_ids"]), None)


@blp.route("/settlements/<settlement_id>", methods=["GET"])
@login_required
@blp.response(200, schemas.SettlementOut)
def get_settlement(settlement_id):
    """A settlement order: paid, settled with its receipt number, or refunded."""
    return service.present(service.get_for(g.user_id, settlement_id))
