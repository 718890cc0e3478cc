"""What the cashier's modules share: the configured gateways, payment and refund statuses
(compare-and-set), the ledger, and the money balance."""
from __future__ import annotations

import datetime as dt

from flask import current_app

from bff import rows
from bff.extensions import db
from bff.payments import orders
from bff.payments.models import PAYMENT_TRANSITIONS, REFUND_TRANSITIONS, LedgerEntry, Payment, Refund
from bff.rows import StatusChanged  # noqa: F401 -- the cashier's modules catch it as records.StatusChanged
from payments.interface import PaymentError


def add_ledger_entry(payment: Payment, kind: str, amount: int, at: dt.datetime, refund: Refund | None = None) -> None:
    """Append one money movement to the ledger (caller commits)."""
    db.session.add(LedgerEntry(at=at, kind=kind, payment_id=payment.id, refund_id=refund.id if refund else 0,
                               gateway=payment.gateway, out_trade_no=payment.out_trade_no,
                               transaction_id=payment.transaction_id or "",
                               out_refund_no=refund.out_refund_no if refund else "", amount=amount,
                               order_type=payment.order_type, order_id=payment.order_id))


def gateways():
    """The configured gateways (payments.registry.Gateways)."""
    return current_app.extensions["payment_gateways"]


class AmountMismatch(PaymentError):
    """The gateway reports another amount than the one we asked for: believe nothing."""

    code = "AMOUNT_MISMATCH"


def change(model, row, **values) -> None:
    """Compare-and-set a payment's or refund's values, the model naming which (rows.transition; caller commits)."""
    rows.transition(row, **values)


def locked(payment_id: int) -> Payment:
    """The payment, locked until the transaction ends and read afresh (not the session's older copy)."""
    return db.session.execute(db.select(Payment).where(Payment.id == payment_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def move(payment: Payment, to_status: str, **fields) -> None:
    """Change a payment's status along the allowed transitions, compare-and-set (caller commits)."""
    if to_status in ("closed", "failed", "refunded"):
        fields.setdefault("live", None)
    rows.transition(payment, to_status, PAYMENT_TRANSITIONS, **fields)


def move_refund(refund: Refund, to_status: str, **fields) -> None:
    """Change a refund's status along the allowed transitions, compare-and-set (caller commits)."""
    if to_status not in REFUND_TRANSITIONS.get(refund.status, set()):
        raise ValueError(f"refund transition {refund.status} → {to_status} is not allowed")
    change(Refund, refund, status=to_status, **fields)


def money_balance() -> dict[str, int]:
    """The money invariant, in fen: captured = fulfilled + refunded + in flight.

    `in_flight` is money captured whose order is still being fulfilled or whose refund is still
    on its way; once the outbox is idle it must be 0.
    """
    captured = refunded = fulfilled = 0
    for payment in db.session.execute(db.select(Payment).where(Payment.paid_at.is_not(None))).scalars():
        captured += payment.amount
        refunded += payment.refunded
        if payment.refunded == 0 and orders.of(payment.order_type).fulfilled(payment):
            fulfilled += payment.amount
    ledger = db.session.execute(db.select(db.func.coalesce(db.func.sum(LedgerEntry.amount), 0))).scalar_one()
    return {"captured": captured, "fulfilled": fulfilled, "refunded": refunded,
            "in_flight": captured - fulfilled - refunded, "ledger_net": ledger}
