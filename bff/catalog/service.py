"""Catalog reads: the HIS's departments, doctors, schedules and slots (cached, stale when down)."""
from __future__ import annotations

import datetime as dt
import re

from bff import clock
from bff.errors import AppError
from bff.his import current as current_his
from bff.his import resilience
from bff.his.port import NOT_FOUND, HisRejected, Schedule, TimeSlot
from bff.ids import HIS_ID_PATTERN

DEFAULT_DAYS = 7
_HIS_ID = re.compile(HIS_ID_PATTERN)


def departments() -> list[dict]:
    """Top-level departments with their children."""
    flat = current_his().list_departments()
    tops = [{"code": d.code, "name": d.name, "children": []} for d in flat if not d.parent_code]
    by_code = {t["code"]: t for t in tops}
    for dept in flat:
        if dept.parent_code in by_code:
            by_code[dept.parent_code]["children"].append({"code": dept.code, "name": dept.name, "intro": dept.intro})
    return tops


def doctors(department_code: str | None) -> list:
    """Doctors, optionally of one department."""
    return current_his().list_doctors(department_code)


def schedules(department: str | None, doctor: str | None, date_from: dt.date | None,
              date_to: dt.date | None) -> list[Schedule]:
    """Schedules in a date range (default: today and the next seven days)."""
    start = date_from or clock.today()
    end = date_to or start + dt.timedelta(days=DEFAULT_DAYS)
    items = current_his().list_schedules(department_code=department, doctor_code=doctor, date_from=start, date_to=end)
    return sorted(items, key=lambda s: (s.date, s.period, s.doctor_code))


def schedule(schedule_id: str) -> Schedule:
    """One schedule, 404 SCHEDULE_NOT_FOUND when the HIS does not know it."""
    if not _HIS_ID.fullmatch(schedule_id):
        raise AppError("SCHEDULE_NOT_FOUND")
    try:
        return current_his().get_schedule(schedule_id)
    except HisRejected as error:
        if error.code == NOT_FOUND:
            raise AppError("SCHEDULE_NOT_FOUND") from error
        raise


def slots(schedule_id: str) -> list[TimeSlot]:
    """The time slots of a schedule, 404 SCHEDULE_NOT_FOUND when the HIS does not know it."""
    return slots_of(schedule(schedule_id))


def slots_of(known: Schedule) -> list[TimeSlot]:
    """The time slots of a schedule already read."""
    try:
        return sorted(current_his().list_slots(known.id), key=lambda s: s.start)
    except HisRejected as error:
        if error.code == NOT_FOUND:
            raise AppError("SCHEDULE_NOT_FOUND") from error
        raise


def listing(items) -> dict:
    """A list answer, marked stale when any of it came from the cache while the HIS was down."""
    return {"items": items, "stale": resilience.served_stale()}


# The catalog is the hottest read: these build the same JSON as the schemas in schemas.py
# (a unit test holds them equal) without marshmallow's per-field cost.

def present_doctor(d) -> dict:
    """A doctor as the API shows it."""
    return {"code": d.code, "name": d.name, "title": d.title, "department_code": d.department_code,
            "specialty": d.specialty, "intro": d.intro}


def present_schedule(s: Schedule) -> dict:
    """A schedule as the API shows it."""
    return {"id": s.id, "doctor_code": s.doctor_code, "doctor_name": s.doctor_name, "title": s.title,
            "department_code": s.department_code, "department_name": s.department_name,
            "date": s.date.isoformat(), "period": s.period, "fee": s.fee, "total": s.total,
            "remaining": s.remaining, "status": s.status, "release_at": s.release_at.isoformat()}


def slot_status(s: TimeSlot, now: dt.datetime) -> str:
    """`passed` once the slot has ended (booking it is refused), `full` with no places left, else `open`."""
    if s.end <= now:
        return "passed"
    return "open" if s.remaining > 0 else "full"


def present_slot(s: TimeSlot, now: dt.datetime) -> dict:
    """A time slot as the API shows it, judged at `now`."""
    return {"id": s.id, "start": s.start.isoformat(), "end": s.end.isoformat(), "capacity": s.capacity,
            "remaining": s.remaining, "status": slot_status(s, now)}
