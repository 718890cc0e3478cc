"""Giving money back: a refund intent recorded with the decision that needs it, sent and retried from the
outbox until the gateway says how it ended; success reaches the ledger and the order."""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app

from bff import clock, outbox
from bff.extensions import db
from bff.payments import orders, records
from bff.payments.models import OPEN_REFUNDS, Payment, Refund, new_trade_no
from payments.interface import (
    GatewayRejected,
    RefundRefusal,
    RefundRejected,
    RefundRequest,
    RefundState,
    RefundStatus,
)

log = logging.getLogger("bff.payments")


def request_refund(payment: Payment, amount: int, reason: str) -> Refund | None:
    """Record the intent to refund and queue it (caller commits, with the decision that needs it).

    The payment is locked and read afresh first: two decisions at once (a cancel and a late
    duplicate's refund) never ask back more than was paid between them.
    """
    payment = records.locked(payment.id)
    open_amount = db.session.execute(db.select(db.func.coalesce(db.func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment.id, Refund.status != "failed")).scalar_one()
    amount = min(amount, payment.amount - open_amount)
    if amount <= 0:
        return None
    refund = Refund(payment=payment, out_refund_no=new_trade_no("YR"), amount=amount, reason=reason[:80])
    db.session.add(refund)
    db.session.flush()
    if payment.status == "paid":
        records.move(payment, "refunding")
    outbox.enqueue("send_refund", f"refund:{refund.id}", {"refund_id": refund.id})
    log.info("payment %d: refund of %d fen queued (%s)", payment.id, amount, reason,
             extra={"payment_id": payment.id, "out_trade_no": payment.out_trade_no,
                    "out_refund_no": refund.out_refund_no})
    return refund


@outbox.handler("send_refund")
def send_refund(payload: dict) -> None:
    """Outbox: ask the gateway for the refund; the same out_refund_no makes a retry safe.

    A transient answer (no answer, SYSTEMERROR, a frequency limit) raises and the outbox asks
    again; a refusal for good (GatewayRejected: the merchant's balance, a trade too old, the
    payer's account closed …) ends the refund `refund_failed`, for a person, and is not retried.
    """
    refund = db.session.get(Refund, payload["refund_id"])
    if refund.status not in ("pending", "processing"):
        return
    payment = refund.payment
    gateway = records.gateways().by_name(payment.gateway)
    # Counted before the gateway is asked, so an ask whose answer is lost still counts.
    db.session.execute(db.update(Refund).where(Refund.id == refund.id).values(attempts=Refund.attempts + 1)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    try:
        status = gateway.refund(RefundRequest(payment.out_trade_no, refund.out_refund_no, refund.amount,
                                              payment.amount, refund.reason,
                                              records.gateways().notify_url(payment.gateway)))
    except GatewayRejected as error:
        db.session.rollback()
        refusal = error.refusal if isinstance(error, RefundRejected) else RefundRefusal.OTHER
        give_up(db.session.get(Refund, refund.id), refusal,
                f"gateway refused: {error.gateway_code or error.code} {error.message}".strip())
        db.session.commit()
        return
    record_refund(refund, status)
    if refund.status == "processing":
        # Confirmed later by its notification; this follow-up, queued in the same commit, asks the
        # gateway if none comes.
        outbox.enqueue("check_refund", f"check-refund:{refund.id}:{refund.attempts}", {"refund_id": refund.id},
                       delay=dt.timedelta(seconds=current_app.config["REFUND_CHECK_SECONDS"]))
    db.session.commit()


def give_up(refund: Refund, refusal: str, error: str) -> bool:
    """The refund needs a person: `refund_failed`, logged at ERROR once (caller commits)."""
    try:
        records.move_refund(refund, "refund_failed", refusal=str(refusal)[:20], last_error=error[:255])
    except (records.StatusChanged, ValueError):  # ended meanwhile (its notification), or already given up
        return False
    log.error("refund of %d fen needs a person (%s): %s", refund.amount, refusal, error,
              extra={"payment_id": refund.payment_id, "out_refund_no": refund.out_refund_no})
    return True


@outbox.handler("check_refund")
def check_refund(payload: dict) -> None:
    """Outbox: a refund still processing is asked about until the gateway says how it ended."""
    refund = db.session.get(Refund, payload["refund_id"])
    if refund.status != "processing":
        return
    gateway = records.gateways().by_name(refund.payment.gateway)
    status = gateway.query_refund(refund.out_refund_no, refund.payment.out_trade_no)
    record_refund(refund, status)
    db.session.commit()
    if refund.status == "processing":
        raise outbox.Retry(f"refund {refund.out_refund_no} still processing")


def record_refund(refund: Refund, status: RefundStatus) -> bool:
    """What the gateway says of a refund: on success, the ledger and the order learn it (caller commits)."""
    if status.amount != refund.amount:
        raise records.AmountMismatch(f"refund {refund.out_refund_no}: gateway says {status.amount}, "
                                     f"we asked {refund.amount}")
    if refund.status in ("succeeded", "failed", "refunded_offline"):
        if refund.status == "refunded_offline" and status.state == RefundState.SUCCEEDED:
            log.error("refund paid back offline and by the gateway too: recover the money",
                      extra={"payment_id": refund.payment_id, "out_refund_no": refund.out_refund_no})
        return False
    if refund.status == "refund_failed" and status.state != RefundState.SUCCEEDED:
        return False  # given up already; only money that did go back changes that
    # The payment first, then its refund (one order for every path), read afresh under the lock:
    # two refunds of one payment ending at once each add to what the other wrote.
    payment = records.locked(refund.payment_id)
    refund_id = status.refund_id or refund.refund_id
    try:
        if status.state == RefundState.PROCESSING:
            if refund.status != "processing":
                records.change(Refund, refund, status="processing", refund_id=refund_id)
            return True
        if status.state != RefundState.SUCCEEDED:
            _ended_unpaid(refund, status, refund_id)
            return True
        records.move_refund(refund, "succeeded", refund_id=refund_id, succeeded_at=status.succeeded_at or clock.now())
    except records.StatusChanged:  # recorded at this moment by another request (its notification, a query)
        db.session.refresh(refund)
        return False
    money_back(payment, refund, "refund")
    log.info("refund succeeded: %d fen", refund.amount,
             extra={"payment_id": payment.id, "out_refund_no": refund.out_refund_no})
    return True


def money_back(payment: Payment, refund: Refund, kind: str) -> None:
    """The refund's money is with the payer: the ledger, the payment and the order learn it (caller commits)."""
    records.add_ledger_entry(payment, kind, -refund.amount, refund.succeeded_at, refund)
    payment.refunded += refund.amount
    if payment.refunded >= payment.amount:
        records.move(payment, "refunded", live=None)
        orders.of(payment.order_type).refunded(payment)
    elif not db.session.execute(db.select(Refund.id).where(
            Refund.payment_id == payment.id, Refund.status.in_(OPEN_REFUNDS)).limit(1)).first():
        records.move(payment, "paid")


def _ended_unpaid(refund: Refund, status: RefundStatus, refund_id: str | None) -> None:
    """The gateway ended the refund without paying it: closed ones are asked again (bounded), the rest need a person."""
    error = f"gateway {status.state}: {status.gateway_state}"
    if status.state == RefundState.CLOSED and _closed_before(refund) < REISSUES:
        records.move_refund(refund, "failed", refund_id=refund_id, last_error=error[:255])
        again = request_refund(refund.payment, refund.amount, refund.reason)
        if again is not None:
            log.warning("refund closed at the gateway: asked again under a new number",
                        extra={"payment_id": refund.payment_id, "out_refund_no": refund.out_refund_no,
                               "again_out_refund_no": again.out_refund_no})
        return
    records.change(Refund, refund, refund_id=refund_id)
    refusal = RefundRefusal.ACCOUNT_ABNORMAL if status.state == RefundState.FAILED else RefundRefusal.TRADE_CLOSED
    give_up(refund, refusal, error)


REISSUES = 2  # a refund the gateway closed is asked again this many times under a new number


def _closed_before(refund: Refund) -> int:
    """How many refunds of this payment the gateway closed before (each was asked again)."""
    return db.session.execute(db.select(db.func.count()).select_from(Refund).where(
        Refund.payment_id == refund.payment_id, Refund.status == "failed")).scalar_one()
