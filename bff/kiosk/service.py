"""Kiosk payment by face: charge the face code for an order, poll a payer still confirming, reverse when
it never ends; answered paid or with a clear decline."""
from __future__ import annotations

import logging

from bff import outbox
from bff.errors import AppError
from bff.extensions import db
from bff.payments import records
from bff.payments import service as cashier
from bff.payments.models import Payment
from payments.interface import (
    FacePayRequest,
    PaymentDeclined,
    PaymentError,
    PaymentOutcomeUnknown,
    TradeState,
    TradeStatus,
)

log = logging.getLogger("bff.kiosk")

_DECLINES = {
    "INSUFFICIENT_FUNDS": "余额不足，请更换支付方式或到窗口缴费",
    "AUTH_CODE_INVALID": "刷脸凭证已失效，请重新刷脸",
    "PAYMENT_DECLINED": "支付未成功，请更换支付方式或到窗口缴费",
}


def pay_by_face(kiosk_id: str, channel: str, auth_code: str, order_type: str, order_id: str,
                client_ip: str) -> Payment:
    """Charge a face code for an order at a kiosk: paid, or a clear decline (the trade is reversed)."""
    payable = cashier.payable(order_type, order_id, None)
    current = cashier.live_payment(payable.order_type, payable.order_id)
    if current is not None:
        if current.status != "pending":
            raise AppError("ORDER_ALREADY_PAID", 409, "该订单已支付")
        cashier.close_trade(current)  # a payment started in the mini-program: the kiosk takes over
        if current.status != "closed":
            raise AppError("ORDER_ALREADY_PAID", 409, "该订单已支付")
    gateway = cashier.gateway_for(channel, "face")
    payment = cashier.new_payment(payable, channel, "face", gateway.name, None, kiosk_id)
    try:
        trade = gateway.pay_by_face(FacePayRequest(cashier.trade_request(payment, client_ip), auth_code, kiosk_id))
    except PaymentDeclined as error:
        records.move(payment, "failed", failure_code=error.code)
        db.session.commit()
        raise AppError(error.code, 402, _DECLINES.get(error.code, _DECLINES["PAYMENT_DECLINED"])) from error
    except PaymentOutcomeUnknown as error:
        trade = _ask_after_unknown(payment, error)
    cashier.record_paid(payment, trade)
    db.session.commit()
    outbox.kick()
    return payment


def _ask_after_unknown(payment: Payment, error: PaymentError) -> TradeStatus:
    """A face-pay answer was lost: query once; still unknown stays pending for the stuck-payment job."""
    try:
        trade = records.gateways().by_name(payment.gateway).query(payment.out_trade_no)
    except PaymentError:
        trade = None
    if trade is not None and trade.state == TradeState.PAID:
        return trade
    log.warning("face payment %s outcome unknown (%s): left to the stuck-payment job", payment.out_trade_no,
                error.code)
    raise AppError("PAYMENT_UNKNOWN", 503, "支付结果确认中，请稍候查询，切勿重复支付",
                   {"payment_id": payment.id}, headers={"Retry-After": "3"}) from error
