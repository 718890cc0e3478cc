"""`/api/v1/health-cards`: a patient's electronic health card and its dynamic QR code."""
from flask import g, make_response
from flask_smorest import Blueprint

from bff.auth.tokens import login_required
from bff.health_cards import schemas, service
from bff.idempotency import idempotent
from bff.patients import service as patients

blp = Blueprint("health_cards", __name__, url_prefix="/api/v1/health-cards", description="电子健康卡")


def present(card) -> dict:
    """A card as its owner sees it: the patient's numbers masked."""
    shown = patients.present(card.patient)
    return {"id": card.id, "patient_id": card.patient_id, "health_card_id": card.health_card_id,
            "qr_code_text": service.static_code(card), "status": card.status, "created_at": card.created_at,
            "patient": {k: shown[k] for k in ("id", "name", "relation", "id_number_masked", "phone_masked")}}


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(schemas.CardIn)
@idempotent()
@blp.response(201, schemas.CardOut)
@blp.alt_response(200, schema=schemas.CardOut, description="the patient's existing card")
def apply(body):
    """Apply for a patient's card (the existing one again when they have it)."""
    card, created = service.apply(g.user_id, body["patient_id"], body["wechat_code"])
    return present(card), 201 if created else 200


@blp.route("", methods=["GET"])
@login_required
@blp.response(200, schemas.CardList)
def list_cards():
    """The user's cards."""
    return {"items": [present(c) for c in service.list_for(g.user_id)]}


@blp.route("/<int:card_id>/qrcode", methods=["GET"])
@login_required
@blp.response(200, schemas.QrCodeOut)
def qrcode(card_id):
    """A fresh dynamic code with its expiry and a PNG; never cached."""
    response = make_response(schemas.QrCodeOut().dump(service.dynamic_code(g.user_id, card_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
