"""Gateway notifications: verify first, then act once, answer fast; the order's work runs from the outbox."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace

from flask import request

from bff import outbox, rows
from bff.extensions import db
from bff.payments import records, refunds, service
from bff.payments.models import Payment, PaymentNotification, Refund
from payments.interface import (
    Ack,
    Notification,
    NotificationInvalid,
    NotificationKind,
    PaymentError,
    RefundStatus,
    TradeState,
)
from payments.registry import GatewayNotConfigured

log = logging.getLogger("bff.payments.notify")


def handle(channel: str, headers, body: bytes) -> Ack:
    """Verify and apply one notification from a gateway of `channel`; the answer the gateway expects."""
    try:
        gateway = records.gateways().for_notification(channel, headers, body)
    except GatewayNotConfigured:
        log.warning("%s notification from %s: no such gateway is configured", channel, request.remote_addr)
        return Ack(404, b"", "text/plain")
    try:
        note = gateway.parse_notification(headers, body)
    except NotificationInvalid as error:
        log.warning("%s notification rejected from %s: %s", gateway.name, request.remote_addr, error.message)
        return gateway.ack(False)
    try:
        _apply(note)
    except records.AmountMismatch as error:
        db.session.rollback()
        log.error("%s notification rejected: %s", gateway.name, error)
        return gateway.ack(False)
    except PaymentError as error:  # the gateway could not tell us more just now: let it send again
        db.session.rollback()
        log.warning("%s notification deferred: %s", gateway.name, error.code)
        return gateway.ack(False)
    outbox.kick()
    return gateway.ack(True)


def _apply(note: Notification) -> None:
    if note.kind == NotificationKind.PAYMENT:
        _apply_payment(note)
    else:
        _apply_refund(note)
    db.session.commit()


def _payment(gateway: str, out_trade_no: str) -> Payment | None:
    payment = db.session.execute(db.select(Payment).where(Payment.out_trade_no == out_trade_no)).scalar_one_or_none()
    if payment is None or payment.gateway != gateway:
        log.error("%s notification for a trade we never made", gateway, extra={"out_trade_no": out_trade_no})
        return None
    return payment


def _first_time(note: Notification, payment: Payment, about: str) -> bool:
    """Record that we act on this; False when a notification about the same thing came before."""
    return rows.insert_once(PaymentNotification, subject=f"{note.gateway}:{note.kind}:{about}"[:120],
                            gateway=note.gateway, kind=note.kind.value, notification_id=note.notification_id[:64],
                            payment_id=payment.id, received_at=dt.datetime.now(dt.UTC))


def _apply_payment(note: Notification) -> None:
    trade = note.trade
    payment = _payment(note.gateway, trade.out_trade_no)
    if payment is None or trade.state != TradeState.PAID or not trade.transaction_id:
        return
    service.check_amount(payment, trade)  # a mismatch is refused even when the real one came before
    if _first_time(note, payment, trade.transaction_id):
        service.record_paid(payment, trade)


def _apply_refund(note: Notification) -> None:
    status = note.refund
    payment = _payment(note.gateway, status.out_trade_no)
    if payment is None:
        return
    refund = db.session.execute(db.select(Refund).where(Refund.out_refund_no == status.out_refund_no,
                                                        Refund.payment_id == payment.id)).scalar_one_or_none()
    if refund is None:
        log.error("%s refund notification for a refund we never asked", note.gateway,
                  extra={"out_refund_no": status.out_refund_no, "payment_id": payment.id})
        return
    if payment.status in ("pending", "closed", "failed"):
        # The refund came first (its payment's notification is late): a refund proves the capture.
        service.query_and_record(payment)
    rows.lock(Payment, payment.id)
    if _first_time(note, payment, f"{status.refund_id or status.out_refund_no}:{status.state}"):
        refunds.record_refund(refund, _this_refund(status, refund))


def _this_refund(status: RefundStatus, refund: Refund) -> RefundStatus:
    """What a notification says of this one refund, when it gave the trade's refunded total instead.

    Alipay's refund_fee is that total: less what the trade's other refunds already confirmed, it is
    this refund's amount. When it does not add up (another refund ended at the gateway and its word
    has not reached us yet), the gateway is asked about this refund by its own number.
    """
    if status.trade_refunded is None:
        return status
    payment = records.locked(refund.payment_id)
    others = payment.refunded - (refund.amount if refund.status == "succeeded" else 0)
    if refund.status in ("succeeded", "failed") or status.trade_refunded - others == refund.amount:
        return replace(status, amount=refund.amount, trade_refunded=None)
    return records.gateways().by_name(payment.gateway).query_refund(refund.out_refund_no, payment.out_trade_no)
