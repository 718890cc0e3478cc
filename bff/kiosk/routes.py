"""`/api/v1/kiosk/…`: kiosks pay orders by face (WeChat 刷脸, Alipay smile-to-pay), HMAC-signed per device."""
from flask import g, request
from flask_smorest import Blueprint

from bff.errors import AppError
from bff.idempotency import idempotent
from bff.kiosk import schemas
from bff.kiosk import service as kiosk_service
from bff.kiosk.auth import kiosk_required
from bff.payments import service as cashier
from payments.interface import PaymentError
from payments.registry import GatewayNotConfigured

blp = Blueprint("kiosk", __name__, url_prefix="/api/v1/kiosk", description="自助机刷脸支付")


def present(payment) -> dict:
    """A kiosk payment and where its order stands."""
    return {**cashier.present(payment), **cashier.receipt(payment)}


@blp.route("/facepay/authinfo", methods=["POST"])
@kiosk_required
@blp.arguments(schemas.AuthInfoIn)
@blp.response(200, schemas.AuthInfoOut)
def face_authinfo(body):
    """WeChat face-pay: the device's rawdata → the authinfo its face SDK needs."""
    try:
        info = cashier.gateways().for_face("wechat").get_facepay_authinfo(
            body["rawdata"], store_id=body["store_id"] or g.kiosk_id, store_name=body["store_name"] or "医院自助机",
            device_id=body["device_id"] or g.kiosk_id)
    except (PaymentError, GatewayNotConfigured) as error:
        raise AppError("FACEPAY_UNAVAILABLE") from error
    return {"authinfo": info.authinfo, "expires_in": info.expires_in}


@blp.route("/facepay", methods=["POST"])
@kiosk_required
@blp.arguments(schemas.FacePayIn)
@idempotent()
@blp.response(201, schemas.KioskPaymentOut)
def face_pay(body):
    """Pay an order by face: paid, or a clear decline code (402) with the trade reversed.

    A kiosk that lost the answer signs the request again (a signature is accepted once) with the
    same Idempotency-Key: it gets the first answer, and the face is never charged twice.
    """
    payment = kiosk_service.pay_by_face(g.kiosk_id, body["channel"], body["auth_code"], body["order_type"],
                                  body["order_id"], request.remote_addr or "127.0.0.1")
    return present(payment)


@blp.route("/payments/<int:payment_id>", methods=["GET"])
@kiosk_required
@blp.response(200, schemas.KioskPaymentOut)
def kiosk_payment(payment_id):
    """A payment this kiosk made, with its order's status once fulfilled (to print the slip)."""
    return present(cashier.get_for_kiosk(g.kiosk_id, payment_id))
