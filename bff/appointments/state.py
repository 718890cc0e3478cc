"""Guarded status changes: compare-and-set in the database, each one logged."""
from __future__ import annotations

import datetime as dt
import logging
import time

from flask import current_app

from bff import rows
from bff.appointments.models import HOLDING, TRANSITIONS, Appointment, AppointmentEvent, SlotCounter
from bff.extensions import db

log = logging.getLogger("bff.appointments")


class TransitionLost(Exception):
    """Another request changed the appointment first."""


def move(appointment: Appointment, to_status: str, note: str = "", **fields) -> None:
    """Change status only if it is still what we read; refuse transitions the machine forbids."""
    from_status = appointment.status
    if to_status not in HOLDING:
        fields["active"] = None
    elif from_status not in HOLDING:
        fields["active"] = 1  # taking the place again: the caller has counted it (take_place)
    try:
        rows.transition(appointment, to_status, TRANSITIONS, **fields)
    except rows.StatusChanged:
        raise TransitionLost(appointment.id) from None
    db.session.add(AppointmentEvent(appointment_id=appointment.id, from_status=from_status,
                                    to_status=to_status, note=note[:255]))
    if from_status in HOLDING and to_status not in HOLDING:
        release_place(appointment.slot_id)
    log.info("appointment %s: %s → %s", appointment.id, from_status, to_status,
             extra={"appointment_id": appointment.id, "note": note})


def take_place(slot_id: str, schedule_id: str, capacity: int) -> bool:
    """Count one more BFF booking of the slot; False when the slot is already full."""
    if capacity < 1:
        return False
    counters = SlotCounter.__table__
    for _ in range(3):  # each round either decides or saw another request change the counter
        taken = db.session.execute(
            counters.update()
            .where(counters.c.slot_id == slot_id, counters.c.booked < capacity)
            .values(booked=counters.c.booked + 1, capacity=capacity))
        if taken.rowcount == 1:
            return True
        booked = db.session.execute(db.select(counters.c.booked).where(counters.c.slot_id == slot_id)).scalar()
        if booked is not None and booked >= capacity:
            remember_full(slot_id)
            return False
        if booked is None and rows.insert_once(SlotCounter, slot_id=slot_id, schedule_id=schedule_id,
                                               capacity=capacity, booked=1):
            return True
        # The counter appeared (or had room again) between our statements: take a place in it now.
    return False


# Slots this process recently found full, until a monotonic deadline. At a release rush nearly
# every attempt is for a full slot; remembering that for a moment spares the database a read per
# attempt. It only ever refuses early: taking a place is still decided by the counter row.
_FULL_MEMO_SECONDS = 2.0


def _known_full() -> dict[str, float]:
    return current_app.extensions.setdefault("full_slots", {})


def slot_is_full(slot_id: str, capacity: int) -> bool:
    """True when the BFF has already handed out every place of the slot (a read, no lock)."""
    if _known_full().get(slot_id, 0.0) > time.monotonic():
        return True
    counters = SlotCounter.__table__
    booked = db.session.execute(db.select(counters.c.booked).where(counters.c.slot_id == slot_id)).scalar()
    full = booked is not None and booked >= capacity
    if full:
        remember_full(slot_id)
    return full


def remember_full(slot_id: str) -> None:
    """Note that the slot is full, for a moment."""
    memo = _known_full()
    if len(memo) > 10_000:
        memo.clear()
    memo[slot_id] = time.monotonic() + _FULL_MEMO_SECONDS


def release_place(slot_id: str) -> None:
    """Give back one BFF place in the slot."""
    counters = SlotCounter.__table__
    db.session.execute(counters.update().where(counters.c.slot_id == slot_id, counters.c.booked > 0)
                       .values(booked=counters.c.booked - 1))
    _known_full().pop(slot_id, None)


def recovery_age(config) -> dt.timedelta:
    """How old a pending booking must be before recovery may settle it.

    Never less than the longest a booking request can still be talking to the HIS (four calls,
    each up to the HIS timeout), so recovery never races a request that is still running.
    """
    floor = 4 * config["HIS_TIMEOUT_SECONDS"] + 30
    return dt.timedelta(seconds=max(config["PENDING_RECOVERY_SECONDS"], floor))
