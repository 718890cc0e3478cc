"""The hand-written catalog presenters answer exactly what the documented schemas describe."""
import datetime as dt

from bff.catalog import schemas, service
from bff.his.port import HOSPITAL_TZ, Doctor, Schedule, TimeSlot

AT = dt.datetime(2026, 11, 24, 8, 0, tzinfo=HOSPITAL_TZ)


def test_schedule_presenter_matches_its_schema():
    schedule = Schedule(id="S1", doctor_code="D1", doctor_name="王建国", title="主任医师", department_code="0101",
                        date=AT.date(), period="am", fee=5000, total=12, remaining=3, status="open",
                        release_at=AT - dt.timedelta(days=7), department_name="心血管内科")
    assert service.present_schedule(schedule) == schemas.ScheduleOut().dump(schedule)


def test_slot_and_doctor_presenters_match_their_schemas():
    slot = TimeSlot(id="S1-01", schedule_id="S1", start=AT, end=AT + dt.timedelta(minutes=30), capacity=3,
                    remaining=1)
    doctor = Doctor(code="D1", name="王建国", title="主任医师", department_code="0101", specialty="冠心病",
                    intro="从事心血管临床三十年")
    for now, status in ((AT, "open"), (AT + dt.timedelta(minutes=30), "passed")):
        assert service.present_slot(slot, now) == schemas.SlotOut().dump({**vars(slot), "status": status})
    assert service.slot_status(TimeSlot(**{**vars(slot), "remaining": 0}), AT) == "full"
    assert service.present_doctor(doctor) == schemas.DoctorOut().dump(doctor)
