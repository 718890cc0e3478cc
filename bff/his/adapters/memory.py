"""In-memory HIS for unit and API tests: the sandbox HIS's rules without the network.

Seeded with 内科/外科 (two children each), six doctors and schedules for today .. today+7
released at 07:00 seven days before. Test helpers: add_schedule, add_bill, cancel_bill,
pay_bill_at_window, add_patient (a person the hospital already knows), set_down, fail_next
(also "work done, reply lost"), advance_queue, stats, calls; pass ``now`` to control time.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from bff.his import port
from bff.his.adapters.memory_bills import BillsMixin
from bff.his.adapters.memory_state import (
    AVG_MINUTES_PER_PATIENT,
    DEPARTMENTS,
    DOCTORS,
    ID_CARD,
    PERIOD_START,
    SLOT_MINUTES,
    _Lock,
    _operation,
    _Schedule,
    _Slot,
    _State,
)
from bff.his.port import HOSPITAL_TZ, HisPort, HisRejected


class MemoryHis(BillsMixin, HisPort):
    """An in-memory HisPort with the sandbox HIS's rules and test helpers."""

    name = "memory"

    def __init__(self, now: Callable[[], dt.datetime] | None = None):
        self.now = now or (lambda: dt.datetime.now(HOSPITAL_TZ))
        self.calls: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._down = False
        self._faults: dict[str, list[bool]] = {}
        self._s = _State()
        self._without: frozenset[str] = frozenset()

    def missing_operations(self) -> frozenset[str]:
        """Operations switched off with switch_off (none by default)."""
        return self._without

    def switch_off(self, *operations: str) -> None:
        """Behave like a hospital whose mapping lacks these operations (for tests)."""
        self._without = frozenset(operations)

    def set_down(self, down: bool = True) -> None:
        """While down, every call raises HisUnavailable."""
        self._down = down

    def fail_next(self, operation: str, times: int = 1, committed: bool = False) -> None:
        """Make the next calls of operation raise HisUnavailable (committed: after doing the work)."""
        if operation not in HisPort.__abstractmethods__:
            raise ValueError(f"unknown operation {operation}")
        with self._lock:
            self._faults.setdefault(operation, []).extend([committed] * times)

    def reset(self) -> None:
        """Forget every record, fault and counter."""
        with self._lock:
            self._s, self._faults, self._down = _State(), {}, False
            self.calls.clear()

    def add_schedule(self, department_code: str, doctor_code: str, date: dt.date, period: str = "am",
                     capacity: int = 4, release_at: dt.datetime | str | None = None,
                     start_time: str | dt.time | None = None, slot_count: int | None = None,
                     stopped: bool = False, fee: int | None = None) -> tuple[str, list[str]]:
        """Add a session; capacity is spread over slot_count 30-minute slots; fee in fen (0 allowed)."""
        with self._lock:
            self._ensure_window()
            doctor = self._doctor(doctor_code)
            count = slot_count or max(1, min(8, capacity))
            base, rest = divmod(capacity, count)
            start = dt.time.fromisoformat(start_time) if isinstance(start_time, str) else start_time
            if isinstance(release_at, str):
                release_at = dt.datetime.fromisoformat(release_at)
            sid = f"M{date:%Y%m%d}{doctor.code}{period[0].upper()}X{len(self._s.schedules) + 1}"
            sched = self._make(sid, doctor, department_code, date, period,
                               [base + (i < rest) for i in range(count)], start, release_at)
            sched.stopped, sched.fee = stopped, fee
            return sid, [s.id for s in sched.slots]

    def advance_queue(self, schedule_id: str, by: int = 1) -> None:
        """Call the next `by` patients of a schedule."""
        with self._lock:
            self._schedule(schedule_id).queue_advance += by

    def stats(self) -> dict[str, int]:
        """Live records, like the sandbox HIS's /_control/stats."""
        with self._lock:
            regs = self._s.registrations.values()
            return {"locks": sum(1 for lk in self._s.locks.values() if lk.state == "held"),
                    "registrations": sum(1 for r in regs if r.status != "cancelled"),
                    "cancellations": sum(1 for r in regs if r.status == "cancelled"),
                    "patients": len(self._s.patients)}

    @property
    def live_locks(self) -> int:
        """Holds not yet confirmed or released."""
        return self.stats()["locks"]

    @property
    def live_registrations(self) -> int:
        """Registrations not cancelled."""
        return self.stats()["registrations"]


    def _ensure_window(self) -> None:
        today = self.now().astimezone(HOSPITAL_TZ).date()
        if self._s.window == today:
            return
        for offset in range(8):
            day = today + dt.timedelta(days=offset)
            for i, doctor in enumerate(DOCTORS):
                pattern = [["am"], ["pm"], ["am", "pm"]][(i + day.toordinal()) % 3]
                for period in pattern:
                    sid = f"M{day:%Y%m%d}{doctor.code}{period[0].upper()}"
                    if sid not in self._s.schedules:
                        self._make(sid, doctor, doctor.department_code, day, period, [2] * 8)
        self._s.window = today

    def _make(self, sid, doctor, dept, day, period, caps, start=None, release=None) -> _Schedule:
        first = dt.datetime.combine(day, start or PERIOD_START[period], HOSPITAL_TZ)
        step = dt.timedelta(minutes=SLOT_MINUTES)
        slots = [_Slot(f"{sid}-{i + 1:02d}", first + i * step, cap) for i, cap in enumerate(caps)]
        release = release or dt.datetime.combine(day - dt.timedelta(days=7), dt.time(7, 0), HOSPITAL_TZ)
        sched = _Schedule(sid, doctor, dept, day, period, release, slots)
        self._s.schedules[sid] = sched
        return sched

    def _doctor(self, code: str) -> port.Doctor:
        doctor = next((d for d in DOCTORS if d.code == code), None)
        if doctor is None:
            raise HisRejected(port.NOT_FOUND, "医生不存在", "101")
        return doctor

    def _schedule(self, schedule_id: str) -> _Schedule:
        self._ensure_window()
        sched = self._s.schedules.get(schedule_id)
        if sched is None:
            raise HisRejected(port.NOT_FOUND, "排班记录不存在", "101")
        return sched

    def _view(self, s: _Schedule) -> port.Schedule:
        total = sum(t.capacity for t in s.slots)
        remaining = sum(t.capacity - t.used for t in s.slots)
        status = ("not_released" if self.now() < s.release_at else "stopped" if s.stopped
                  else "open" if remaining else "full")
        dept = next((d.name for d in DEPARTMENTS if d.code == s.department_code), "")
        return port.Schedule(s.id, s.doctor.code, s.doctor.name, s.doctor.title, s.department_code,
                             s.date, s.period, s.total_fee(), total, remaining, status,
                             s.release_at, dept)

    @_operation
    def ping(self) -> None:
        """Always answers unless set down."""

    @_operation
    def list_departments(self) -> list[port.Department]:
        """All departments, top-level and their children."""
        return list(DEPARTMENTS)

    @_operation
    def list_doctors(self, department_code: str | None = None) -> list[port.Doctor]:
        """Doctors, optionally of one department."""
        return [d for d in DOCTORS if not department_code or d.department_code == department_code]

    @_operation
    def list_schedules(self, department_code: str | None = None, doctor_code: str | None = None,
                       date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[port.Schedule]:
        """Schedules matching the filters (from today unless date_from), including unreleased ones."""
        self._ensure_window()
        date_from = date_from or self.now().astimezone(HOSPITAL_TZ).date()
        found = [s for s in self._s.schedules.values()
                 if (not department_code or s.department_code == department_code)
                 and (not doctor_code or s.doctor.code == doctor_code)
                 and (not date_from or s.date >= date_from) and (not date_to or s.date <= date_to)]
        found.sort(key=lambda s: (s.date, s.department_code, s.doctor.code, s.slots[0].start))
        return [self._view(s) for s in found]

    @_operation
    def get_schedule(self, schedule_id: str) -> port.Schedule:
        """One schedule; HisRejected(NOT_FOUND) when unknown."""
        return self._view(self._schedule(schedule_id))

    @_operation
    def list_slots(self, schedule_id: str) -> list[port.TimeSlot]:
        """The 30-minute slots of a schedule."""
        step = dt.timedelta(minutes=SLOT_MINUTES)
        return [port.TimeSlot(t.id, schedule_id, t.start, t.start + step, t.capacity, t.capacity - t.used)
                for t in self._schedule(schedule_id).slots]


    @_operation
    def find_or_create_patient(self, info: port.PatientInfo) -> port.HisPatient:
        """Find by ID number or create (建档)."""
        if not (info.name and info.id_number) or (info.id_type == "01" and not ID_CARD.fullmatch(info.id_number)):
            raise HisRejected(port.PATIENT_INVALID, "患者姓名或证件号码不正确", "102")
        key = info.id_number.upper()
        known = self._s.patients.get(key)
        if known:
            return replace(known, created=False)
        patient = port.HisPatient(str(10000001 + len(self._s.patients)), info.name, created=True)
        self._s.patients[key] = patient
        self._s.phones[patient.his_patient_id] = info.phone
        return patient

    # -- identity check (find_patient) -----------------------------------------------------

    @_operation
    def find_patient(self, id_type: str, id_number: str) -> port.HisPatientRecord | None:
        """The record of this ID number with its phone on file, or None; creates nothing."""
        known = self._s.patients.get((id_number or "").upper())
        if known is None:
            return None
        return port.HisPatientRecord(known.his_patient_id, known.name, self._s.phones.get(known.his_patient_id, ""))

    def add_patient(self, name: str, id_number: str, phone: str) -> str:
        """Test helper: a person the hospital already knows (e.g. registered at the window); their id."""
        with self._lock:
            key = id_number.upper()
            patient = port.HisPatient(str(10000001 + len(self._s.patients)), name)
            self._s.patients[key] = patient
            self._s.phones[patient.his_patient_id] = phone
            return patient.his_patient_id

    def _bookable(self, request_id: str, patient_id: str, schedule_id: str, slot_id: str) -> _Slot:
        if not any(p.his_patient_id == patient_id for p in self._s.patients.values()):
            raise HisRejected(port.PATIENT_INVALID, "患者档案不存在", "102")
        sched = self._schedule(schedule_id)
        status = self._view(sched).status
        if status == "not_released":
            raise HisRejected(port.NOT_RELEASED, "该号源尚未到放号时间", "202")
        if status == "stopped":
            raise HisRejected(port.SCHEDULE_STOPPED, "医生停诊", "203")
        slot = next((t for t in sched.slots if t.id == slot_id), None)
        if slot is None:
            raise HisRejected(port.NOT_FOUND, "分时段号源不存在", "101")
        if slot.used >= slot.capacity:
            raise HisRejected(port.SLOT_FULL, "该时段号源已满", "201")
        if self._has_booking(patient_id, schedule_id, request_id):
            raise HisRejected(port.DUPLICATE_REGISTRATION, "该患者已挂同一医生同一时段的号", "205")
        return slot

    def _has_booking(self, patient_id: str, schedule_id: str, request_id: str) -> bool:
        locks = any(lk.state == "held" and lk.patient_id == patient_id and lk.lock.schedule_id == schedule_id
                    and rid != request_id for rid, lk in self._s.locks.items())
        regs = any(r.his_patient_id == patient_id and r.schedule_id == schedule_id
                   and r.status != "cancelled" and r.request_id != request_id
                   for r in self._s.registrations.values())
        return locks or regs

    @_operation
    def lock_slot(self, request_id: str, his_patient_id: str, schedule_id: str, slot_id: str) -> port.SlotLock:
        """Hold one place; the same request_id again answers the same lock."""
        old = self._s.locks.get(request_id)
        if old and old.state != "released":
            return old.lock
        slot = self._bookable(request_id, his_patient_id, schedule_id, slot_id)
        slot.used += 1
        sched = self._s.schedules[schedule_id]
        number = old.lock.lock_id if old else f"SD{len(self._s.locks) + 1:08d}"
        visit_no = str(sum(1 for lk in self._s.locks.values() if lk.lock.schedule_id == schedule_id) + 1)
        lock = port.SlotLock(number, request_id, schedule_id, slot_id, sched.total_fee(), visit_no)
        self._s.locks[request_id] = _Lock(lock, his_patient_id)
        return lock

    @_operation
    def unlock_slot(self, request_id: str) -> None:
        """Release a live hold; a no-op otherwise."""
        held = self._s.locks.get(request_id)
        if held and held.state == "held":
            held.state = "released"
            self._slot(held.lock.schedule_id, held.lock.slot_id).used -= 1

    def _slot(self, schedule_id: str, slot_id: str) -> _Slot:
        return next(t for t in self._s.schedules[schedule_id].slots if t.id == slot_id)

    def _by_request(self, request_id: str) -> port.Registration | None:
        return next((r for r in self._s.registrations.values() if r.request_id == request_id), None)

    @_operation
    def confirm_registration(self, request_id: str, trade_no: str | None = None,
                             paid_fee: int = 0) -> port.Registration:
        """Turn the hold into a registration; idempotent by request_id."""
        done = self._by_request(request_id)
        if done:
            return done
        held = self._s.locks.get(request_id)
        if held is None:
            raise HisRejected(port.NOT_FOUND, "锁号记录不存在", "101")
        if held.state != "held":
            raise HisRejected(port.LOCK_EXPIRED, "锁号已失效，请重新挂号", "204")
        if paid_fee and paid_fee != held.lock.fee:
            raise HisRejected(port.REJECTED, "支付金额与挂号费不符", "206")
        lk = held.lock
        reg = port.Registration(f"GH{len(self._s.registrations) + 1:08d}", request_id, lk.schedule_id,
                           lk.slot_id, held.patient_id, lk.visit_no, lk.fee)
        held.state = "confirmed"
        self._s.registrations[reg.registration_id] = reg
        if trade_no:
            self._s.paid[reg.registration_id] = (trade_no, paid_fee or lk.fee)
            self._record("registration", reg.registration_id, trade_no, paid_fee or lk.fee, "paid")
        return reg

    def _record(self, kind: str, record_id: str, trade_no: str, amount: int, status: str) -> None:
        self._s.journal.append(port.HisPaymentRecord(kind, record_id, trade_no, amount, self.now(), status))

    @_operation
    def query_registration(self, request_id: str) -> port.Registration | None:
        """The registration committed for request_id, or None."""
        return self._by_request(request_id)

    def _registration(self, registration_id: str) -> port.Registration:
        reg = self._s.registrations.get(registration_id)
        if reg is None:
            raise HisRejected(port.NOT_FOUND, "挂号记录不存在", "101")
        return reg

    @_operation
    def cancel_registration(self, registration_id: str, reason: str = "") -> None:
        """Cancel and free the place; cancelling twice is a no-op."""
        reg = self._registration(registration_id)
        if reg.status == "cancelled":
            return
        if reg.status == "checked_in":
            raise HisRejected(port.NOT_CANCELLABLE, "已签到就诊，不能退号", "302")
        self._s.registrations[registration_id] = replace(reg, status="cancelled")
        self._slot(reg.schedule_id, reg.slot_id).used -= 1
        if registration_id in self._s.paid:  # 退号退费: what was taken for it goes back
            trade_no, taken = self._s.paid[registration_id]
            self._record("registration", registration_id, trade_no, -taken, "refunded")

    @_operation
    def check_in(self, registration_id: str) -> port.CheckIn:
        """Sign in for today's visit; repeating answers the same queue number."""
        reg = self._registration(registration_id)
        sched = self._s.schedules[reg.schedule_id]
        if reg.status == "cancelled" or sched.date != self.now().astimezone(HOSPITAL_TZ).date():
            raise HisRejected(port.CHECKIN_NOT_ALLOWED, "仅限就诊当日签到，已退号不能签到", "401")
        if registration_id not in self._s.queue_nos:
            self._s.queue_nos[registration_id] = sched.next_queue_no
            sched.next_queue_no += 1
            self._s.registrations[registration_id] = replace(reg, status="checked_in")
        dept = next(d.name for d in DEPARTMENTS if d.code == sched.department_code)
        return port.CheckIn(registration_id, self._s.queue_nos[registration_id], f"门诊楼{dept}候诊区")

    @_operation
    def queue_status(self, registration_id: str) -> port.QueueStatus:
        """Queue position; the current number advances with time since the session start."""
        reg = self._registration(registration_id)
        queue_no = self._s.queue_nos.get(registration_id)
        if not queue_no:
            raise HisRejected(port.CHECKIN_NOT_ALLOWED, "尚未签到", "401")
        sched = self._s.schedules[reg.schedule_id]
        elapsed = (self.now() - sched.slots[0].start).total_seconds() / 60
        by_time = max(0, int(elapsed // AVG_MINUTES_PER_PATIENT))
        current = min(sched.next_queue_no - 1, by_time + sched.queue_advance)
        ahead = max(0, queue_no - current - 1)
        return port.QueueStatus(registration_id, queue_no, current, ahead, ahead * AVG_MINUTES_PER_PATIENT)
