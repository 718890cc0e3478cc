"""`/api/v1/payments` (patients) and `/notify/*` (the gateways)."""
from flask import Blueprint as FlaskBlueprint
from flask import Response, g, request
from flask_smorest import Blueprint

from bff.auth.tokens import login_required
from bff.idempotency import idempotent
from bff.payments import notify, schemas, service

blp = Blueprint("payments", __name__, url_prefix="/api/v1/payments", description="支付")
notify_blp = FlaskBlueprint("payment_notify", __name__, url_prefix="/notify")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(schemas.PaymentIn)
@idempotent()
@blp.response(201, schemas.PaymentOut)
def create_payment(body):
    """Start paying an order: the parameters wx.requestPayment / my.tradePay need."""
    return service.present(service.create(g.user_id, body["order_type"], body["order_id"], body["channel"],
                                  request.remote_addr or "127.0.0.1", body.get("payer_id")))


@blp.route("/<int:payment_id>", methods=["GET"])
@login_required
@blp.response(200, schemas.PaymentOut)
def get_payment(payment_id):
    """A payment and its refunds; a pending one is asked about at the gateway when it may have been paid."""
    return service.present(service.refreshed(service.get_for(g.user_id, payment_id)))


def _answer(ack) -> Response:
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


@notify_blp.post("/wechatpay")
def wechatpay():
    """WeChat Pay notifications (v3 JSON, or v2 XML where the merchant is on v2)."""
    return _answer(notify.handle("wechat", request.headers, request.get_data()))


@notify_blp.post("/alipay")
def alipay():
    """Alipay asynchronous notifications (form), answered `success`."""
    return _answer(notify.handle("alipay", request.headers, request.get_data()))
