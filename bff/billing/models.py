"""Settlement orders: the bills a patient chose to pay together, until the HIS has settled them."""
from __future__ import annotations

import datetime as dt
import uuid

from bff.db_types import AwareDateTime
from bff.extensions import db

# pending → paid (the money arrived) → settled (the HIS gave a receipt); paid → cancelled (the HIS
# refused: the money goes back) → refunded. A settled order refunded in the HIS (退费) is `refunding`
# until the money is back, then refunded. An order never paid stays pending and shows as expired.
SETTLEMENT_TRANSITIONS = {
    "pending": {"paid"},
    "paid": {"settled", "cancelled"},
    "cancelled": {"refunded"},
    "settled": {"refunding"},
    "refunding": {"refunded"},
}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


class SettlementOrder(db.Model):
    __tablename__ = "bill_settlements"

    id = db.Column(db.String(32), primary_key=True, default=_new_id)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    patient_id = db.Column(db.Integer, db.ForeignKey("patients.id"), nullable=False, index=True)
    his_patient_id = db.Column(db.String(64), nullable=False)
    request_id = db.Column(db.String(32), nullable=False, unique=True, default=_new_id)  # the HIS's key
    bills = db.Column(db.Text, nullable=False)  # JSON: the bills as listed when chosen
    amount = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(12), nullable=False, default="pending", index=True)
    trade_no = db.Column(db.String(32))  # out_trade_no of the payment that paid the bills
    receipt_no = db.Column(db.String(64))
    his_settlement_id = db.Column(db.String(64))
    failure_reason = db.Column(db.String(80))
    expires_at = db.Column(AwareDateTime(), nullable=False)
    created_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, index=True)
    settled_at = db.Column(AwareDateTime())
    his_refund_request_id = db.Column(db.String(32))  # 退费: the HIS's key, kept before it is asked
    his_refund_id = db.Column(db.String(64))
    refund_reason = db.Column(db.String(80))
