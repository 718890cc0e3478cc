"""Kiosk payment by face: charge the face code for an order, poll a payer still confirming, reverse when
it never ends; answered paid or with a clear decline."""
from __future__ import annotations

import datetime as dt
import logging

from bff import outbox, rows
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
    ReversalUnconfirmed,
    TradeNotFound,
    TradeState,
    TradeStatus,
)

log = logging.getLogger("bff.kiosk")

# The declines a kiosk can tell apart (its screen says what to do next); any other is PAYMENT_DECLINED.
_DECLINES = ("INSUFFICIENT_FUNDS", "AUTH_CODE_INVALID", "PAYMENT_DECLINED")


def pay_by_face(kiosk_id: str, channel: str, auth_code: str, order_type: str, order_id: str,
                client_ip: str) -> Payment:
    """Charge a face code for an order at a kiosk: paid, or a clear decline (the trade is reversed)."""
    payable = cashier.payable(order_type, order_id, None)
    gateway = cashier.gateway_for(channel, "face")  # before touching anything: face-pay may not be set up
    cashier.settle_current(payable, channel, "face")  # a payment started in the app: the kiosk takes over
    payment = cashier.new_payment(payable, channel, "face", gateway.name, None, kiosk_id)
    try:
        trade = gateway.pay_by_face(FacePayRequest(cashier.trade_request(payment, client_ip), auth_code, kiosk_id))
    except PaymentDeclined as error:
        cashier.end_unpaid(payment, "failed", failure_code=error.code)
        raise AppError(error.code if error.code in _DECLINES else "PAYMENT_DECLINED") from error
    except ReversalUnconfirmed as error:
        if not _reverse_later(payment):  # recorded paid at this very moment: the kiosk must ask, not say no
            raise _outcome_unknown(payment) from error
        raise AppError("PAYMENT_DECLINED", "支付未完成，交易正在撤销，如已扣款将原路退回") from error
    except PaymentOutcomeUnknown as error:
        trade = _ask_after_unknown(payment, error)
    cashier.record_paid(payment, trade)
    db.session.commit()
    outbox.kick()
    return payment


def _reverse_later(payment: Payment) -> bool:
    """The reverse was sent and not confirmed: send it again from the outbox until it is.

    The payment no longer counts as the order's live one (the patient may pay again at once), and
    the stuck-payment job leaves it alone: a 'paid' it might read would be undone by the reverse.
    """
    try:
        records.change(Payment, payment, failure_code=cashier.REVERSING, live=None)
    except rows.StatusChanged:  # the stuck-payment job (or a notification) recorded it at this very moment
        db.session.rollback()
        db.session.refresh(payment)
        log.error("face payment %d: reverse not confirmed while it was recorded %s: needs a person",
                  payment.id, payment.status, extra={"out_trade_no": payment.out_trade_no})
        return False
    outbox.enqueue("reverse_face_trade", f"reverse:{payment.id}", {"payment_id": payment.id})
    db.session.commit()
    outbox.kick()
    log.warning("face payment %d: reverse not confirmed, the outbox sends it again", payment.id,
                extra={"out_trade_no": payment.out_trade_no})
    return True


@outbox.handler("reverse_face_trade")
def reverse_face_trade(payload: dict) -> None:
    """Outbox: reverse a face-pay trade until the gateway confirms it (the money, if taken, goes back)."""
    payment = db.session.get(Payment, payload["payment_id"])
    if payment.status != "pending" or payment.failure_code != cashier.REVERSING:
        return
    try:
        cashier.gateways().by_name(payment.gateway).reverse(payment.out_trade_no)
    except TradeNotFound:  # the charge never reached the gateway: nothing to reverse, once it cannot turn up
        # created_at is stamped by the real clock: its age is measured on the same one.
        if payment.created_at >= dt.datetime.now(dt.UTC) - cashier.unseen_horizon(payment):
            raise
    records.move(payment, "closed", failure_code="REVERSED")
    db.session.commit()


def _ask_after_unknown(payment: Payment, error: PaymentError) -> TradeStatus:
    """A face-pay answer was lost: query once; still unknown stays pending for the stuck-payment job."""
    try:
        trade = cashier.gateways().by_name(payment.gateway).query(payment.out_trade_no)
    except PaymentError:
        trade = None
    if trade is not None and trade.state == TradeState.PAID:
        return trade
    log.warning("face payment %d outcome unknown (%s): left to the stuck-payment job", payment.id,
                error.code, extra={"out_trade_no": payment.out_trade_no})
    raise _outcome_unknown(payment) from error


def _outcome_unknown(payment: Payment) -> AppError:
    """The kiosk polls GET /kiosk/payments/{id} for the end (a 503 is never kept for its Idempotency-Key)."""
    return AppError("PAYMENT_UNKNOWN", details={"payment_id": payment.id}, headers={"Retry-After": "3"})
