"""What the BFF records of money: payments, refunds, notifications received, and the ledger.

The ledger is append-only (the database itself refuses UPDATE and DELETE on it, see migration
0002): one `capture` row when we learn money was taken, one `refund` row when we learn it went
back. Everything finance asks (what did we take, what did we give back, what is left) is a sum
over it; the reconciliation compares it with the gateways' bills and the HIS's records.
"""
from __future__ import annotations

import datetime as dt
import secrets

from bff.db_types import AwareDateTime
from bff.extensions import db

# Payment statuses (API.md): pending → paid → refunding → refunded; pending → closed / failed.
PAYMENT_TRANSITIONS = {
    "pending": {"paid", "closed", "failed"},
    "closed": {"paid"},  # the payer paid as we closed it: the money is real, so is the payment
    "failed": {"paid"},
    "paid": {"refunding"},
    "refunding": {"refunded", "paid"},  # back to paid when a partial refund left money
}


# Refund statuses: pending → processing → succeeded; failed: closed at the gateway (asked again under a new
# number); refund_failed: refused for good, or abnormal at the bank, or closed too often — a person decides:
# reissue (back to pending) or pay it back another way (refunded_offline, in the ledger as `offline`).
REFUND_TRANSITIONS = {
    "pending": {"processing", "succeeded", "failed", "refund_failed"},
    "processing": {"succeeded", "failed", "refund_failed"},
    "refund_failed": {"pending", "succeeded", "refunded_offline"},  # succeeded: the gateway did it after all
}
OPEN_REFUNDS = ("pending", "processing", "refund_failed")  # money still owed to the payer


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_trade_no(prefix: str) -> str:
    """Our out_trade_no / out_refund_no: a prefix, the UTC time to the second, 10 random hex (<= 32 chars)."""
    return f"{prefix}{_utcnow():%Y%m%d%H%M%S}{secrets.token_hex(5).upper()}"


class Payment(db.Model):
    __tablename__ = "payments"
    # `live` is 1 while the payment is pending, paid or refunding and NULL after (NULLs are distinct):
    # the database's own guard against two live payments for one order.
    __table_args__ = (db.UniqueConstraint("order_type", "order_id", "live"),
                      db.UniqueConstraint("gateway", "transaction_id"))  # one gateway's numbers, not all of them

    id = db.Column(db.Integer, primary_key=True)
    out_trade_no = db.Column(db.String(32), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), index=True)
    order_type = db.Column(db.String(16), nullable=False)  # appointment / bills
    order_id = db.Column(db.String(32), nullable=False)
    channel = db.Column(db.String(16), nullable=False)  # wechat / alipay
    method = db.Column(db.String(8), nullable=False, default="app")  # app (mini-program) / face (kiosk)
    gateway = db.Column(db.String(32), nullable=False)
    amount = db.Column(db.Integer, nullable=False)
    description = db.Column(db.String(128), nullable=False, default="")
    status = db.Column(db.String(12), nullable=False, default="pending", index=True)
    live = db.Column(db.Integer, nullable=True, default=1)
    transaction_id = db.Column(db.String(64))
    pay_params = db.Column(db.Text)  # JSON, what the client needs to pay
    payer_id = db.Column(db.String(64))
    refunded = db.Column(db.Integer, nullable=False, default=0)  # fen confirmed refunded
    failure_code = db.Column(db.String(32))
    expires_at = db.Column(AwareDateTime())
    paid_at = db.Column(AwareDateTime())
    next_check_at = db.Column(AwareDateTime(), index=True)  # when the stuck-payment job asks the gateway next
    kiosk_id = db.Column(db.String(32))
    created_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, index=True)
    updated_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, onupdate=_utcnow)

    refunds = db.relationship("Refund", back_populates="payment", order_by="Refund.id")


class Refund(db.Model):
    __tablename__ = "refunds"

    id = db.Column(db.Integer, primary_key=True)
    payment_id = db.Column(db.Integer, db.ForeignKey("payments.id"), nullable=False, index=True)
    out_refund_no = db.Column(db.String(32), nullable=False, unique=True)
    amount = db.Column(db.Integer, nullable=False)
    reason = db.Column(db.String(80), nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default="pending", index=True)  # REFUND_TRANSITIONS
    refund_id = db.Column(db.String(64))
    last_error = db.Column(db.String(255))
    attempts = db.Column(db.Integer, nullable=False, default=0)  # times the gateway was asked
    refusal = db.Column(db.String(20))  # payments.interface.RefundRefusal, while refund_failed
    settled_note = db.Column(db.String(255))  # refunded_offline: how it was paid back
    settled_by = db.Column(db.Integer, db.ForeignKey("staff_accounts.id"))
    settled_at = db.Column(AwareDateTime())
    created_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow)
    succeeded_at = db.Column(AwareDateTime())

    payment = db.relationship("Payment", back_populates="refunds")


class PaymentNotification(db.Model):
    """Each verified notification we acted on, unique by what it is about: a duplicate is a no-op."""

    __tablename__ = "payment_notifications"

    id = db.Column(db.Integer, primary_key=True)
    subject = db.Column(db.String(120), nullable=False, unique=True)  # "<gateway>:payment:<transaction_id>" …
    gateway = db.Column(db.String(32), nullable=False)
    kind = db.Column(db.String(8), nullable=False)
    notification_id = db.Column(db.String(64), nullable=False, default="")
    payment_id = db.Column(db.Integer, db.ForeignKey("payments.id"), index=True)
    received_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow)


class LedgerEntry(db.Model):
    """One money movement, never changed: + captured, − refunded, in fen."""

    __tablename__ = "ledger_entries"
    __table_args__ = (db.UniqueConstraint("payment_id", "kind", "refund_id"),)

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, index=True)  # when the money moved
    kind = db.Column(db.String(8), nullable=False)  # capture / refund / offline (paid back outside the gateway)
    payment_id = db.Column(db.Integer, db.ForeignKey("payments.id"), nullable=False, index=True)
    refund_id = db.Column(db.Integer, nullable=False, default=0)  # refunds.id, 0 for a capture
    gateway = db.Column(db.String(32), nullable=False)
    out_trade_no = db.Column(db.String(32), nullable=False)
    transaction_id = db.Column(db.String(64), nullable=False, default="")
    out_refund_no = db.Column(db.String(32), nullable=False, default="")
    amount = db.Column(db.Integer, nullable=False)  # + capture, − refund
    order_type = db.Column(db.String(16), nullable=False)
    order_id = db.Column(db.String(32), nullable=False)
    recorded_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow)
