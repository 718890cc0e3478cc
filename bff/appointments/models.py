"""Appointments the BFF owns: the booking state machine, its log, and per-slot counters."""
from __future__ import annotations

import datetime as dt
import uuid

from bff.db_types import AwareDateTime
from bff.extensions import db

# Statuses that hold a place: at most one per patient, department and day.
HOLDING = ("pending", "awaiting_payment", "paid", "confirmed", "checked_in", "completed")

# Allowed transitions; anything else is a bug and refused. With online payment:
# awaiting_payment → paid (the money arrived) → confirmed (the HIS registered it); a payment that
# lands after the hold expired takes the place again if it can (expired → paid) or is refunded.
TRANSITIONS = {
    "pending": {"awaiting_payment", "confirmed", "failed"},
    "awaiting_payment": {"paid", "confirmed", "expired", "cancelled", "failed"},
    "paid": {"confirmed", "cancelled"},
    "expired": {"paid"},
    "confirmed": {"checked_in", "cancelled", "completed"},
    "checked_in": {"completed"},
    "cancelled": {"refunded"},
}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


class Appointment(db.Model):
    __tablename__ = "appointments"
    # `active` is 1 while the booking holds a place and NULL after; NULLs are distinct in a unique
    # constraint, so this is the database's own guard against a second booking of the same day.
    __table_args__ = (db.UniqueConstraint("patient_id", "department_code", "visit_date", "active"),)

    id = db.Column(db.String(32), primary_key=True, default=_new_id)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    patient_id = db.Column(db.Integer, db.ForeignKey("patients.id"), nullable=False, index=True)
    his_patient_id = db.Column(db.String(64), nullable=False)
    request_id = db.Column(db.String(32), nullable=False, unique=True, default=_new_id)
    schedule_id = db.Column(db.String(64), nullable=False)
    slot_id = db.Column(db.String(64), nullable=False)
    department_code = db.Column(db.String(32), nullable=False)
    department_name = db.Column(db.String(64), nullable=False, default="")
    doctor_code = db.Column(db.String(32), nullable=False)
    doctor_name = db.Column(db.String(64), nullable=False)
    title = db.Column(db.String(32), nullable=False, default="")
    visit_date = db.Column(db.Date, nullable=False)
    period = db.Column(db.String(8), nullable=False)
    slot_start = db.Column(AwareDateTime(), nullable=False)
    slot_end = db.Column(AwareDateTime(), nullable=False)
    fee = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="pending", index=True)
    active = db.Column(db.Integer, nullable=True, default=1)
    lock_id = db.Column(db.String(64))
    registration_id = db.Column(db.String(64))
    visit_no = db.Column(db.String(32))
    queue_no = db.Column(db.Integer)
    hold_expires_at = db.Column(AwareDateTime())
    trade_no = db.Column(db.String(32))  # out_trade_no of the payment that paid the fee (online mode)
    failure_code = db.Column(db.String(32))
    created_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, index=True)
    updated_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, onupdate=_utcnow)

    patient = db.relationship("Patient", lazy="joined")


class AppointmentEvent(db.Model):
    """Append-only log of every status change."""

    __tablename__ = "appointment_events"

    id = db.Column(db.Integer, primary_key=True)
    appointment_id = db.Column(db.String(32), db.ForeignKey("appointments.id"), nullable=False, index=True)
    from_status = db.Column(db.String(20))
    to_status = db.Column(db.String(20), nullable=False)
    note = db.Column(db.String(255), nullable=False, default="")
    at = db.Column(AwareDateTime(), nullable=False, default=_utcnow)


class SlotCounter(db.Model):
    """Places the BFF has handed out per HIS slot: never more than the slot's capacity."""

    __tablename__ = "slot_counters"

    slot_id = db.Column(db.String(64), primary_key=True)
    schedule_id = db.Column(db.String(64), nullable=False)
    capacity = db.Column(db.Integer, nullable=False)
    booked = db.Column(db.Integer, nullable=False, default=0)
    __table_args__ = (db.CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),)
