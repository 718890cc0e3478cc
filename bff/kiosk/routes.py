"""`/api/v1/kiosk/…`: kiosks pay orders by face (WeChat 刷脸, Alipay smile-to-pay), HMAC-signed per device."""
from flask import g, request
from flask_smorest import Blueprint

from bff.errors import AppError
from bff.extensions import db
from bff.idempotency import idempotent
from bff.kiosk import schemas
from bff.kiosk import service as kiosk_service
from bff.kiosk.auth import kiosk_required
from bff.payments import records
from bff.payments.models import Payment
from payments.interface import PaymentError
from payments.registry import GatewayNotConfigured

blp = Blueprint("kiosk", __name__, url_prefix="/api/v1/kiosk", description="自助机刷脸支付")


def _order_state(payment: Payment) -> dict:
    """The paid order's status and receipt, as the kiosk prints it."""
    if payment.order_type == "appointment":
        from bff.appointments.models import Appointment

        appointment = db.session.get(Appointment, payment.order_id)
        return {"order_status": appointment.status, "receipt_no": appointment.visit_no}
    from bff.billing.models import SettlementOrder

    order = db.session.get(SettlementOrder, payment.order_id)
    return {"order_status": order.status, "receipt_no": order.receipt_no}


def present(payment: Payment) -> dict:
    """A kiosk payment and where its order stands."""
    return {"id": payment.id, "out_trade_no": payment.out_trade_no, "order_type": payment.order_type,
            "order_id": payment.order_id, "amount": payment.amount, "channel": payment.channel,
            "status": payment.status, "paid_at": payment.paid_at, **_order_state(payment)}


@blp.route("/facepay/authinfo", methods=["POST"])
@kiosk_required
@blp.arguments(schemas.AuthInfoIn)
@blp.response(200, schemas.AuthInfoOut)
def face_authinfo(body):
    """WeChat face-pay: the device's rawdata → the authinfo its face SDK needs."""
    try:
        info = records.gateways().for_face("wechat").get_facepay_authinfo(
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
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.kiosk_id != g.kiosk_id:
        raise AppError("PAYMENT_NOT_FOUND")
    return present(payment)
