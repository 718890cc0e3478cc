"""HIS adapter conformance suite: one set of behaviours every HisPort adapter must show.

Subclass :class:`HisConformance` in a test module and provide a fixture ``env`` returning a
:class:`HisHarness` over a fresh (reset) HIS. The suite only talks to the port, plus the
harness helpers a test HIS offers (add a schedule, live-record counts, advance a queue, add a
pending bill, pay one at the window, withdraw one).
"""
from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bff.his import port
from bff.his.port import HOSPITAL_TZ, BillItem, HisPort, HisRejected, PatientInfo

TITLES = {"主任医师", "副主任医师", "主治医师"}
AVG_MINUTES = 6  # both test HISes estimate 6 minutes per patient
_ids = itertools.count(1)


@dataclass
class HisHarness:
    """A HIS under test and the control helpers of its fake."""

    his: HisPort
    add_schedule: Callable[..., tuple[str, list[str]]]
    stats: Callable[[], dict]
    advance_queue: Callable[[str, int], None]
    now: Callable[[], dt.datetime]
    add_bill: Callable[..., str]  # (his_patient_id, title, amount, items=()) -> bill id
    pay_bill_at_window: Callable[[str], None]
    cancel_bill: Callable[[str], None]
    execute_bill: Callable[[str], None]  # 退费: dispensed / done, no longer refundable

    def today(self) -> dt.date:
        """Today in hospital time."""
        return self.now().astimezone(HOSPITAL_TZ).date()


def id_number(n: int) -> str:
    """A well-formed 18-character resident ID number (unique per n)."""
    return f"11010119900101{n % 10000:04d}"


def new_patient(env: HisHarness) -> str:
    """Create a fresh patient and answer its HIS id."""
    n = next(_ids)
    info = PatientInfo(f"测试患者{n}", "01", id_number(n), "13800000000", "F", dt.date(1990, 1, 1))
    return env.his.find_or_create_patient(info).his_patient_id


def new_schedule(env: HisHarness, days: int = 1, capacity: int = 4, slot_count: int = 2, **kw) -> tuple[str, list[str]]:
    """A session of the first doctor, days from today, with a known capacity."""
    doctor = env.his.list_doctors()[0]
    return env.add_schedule(department_code=doctor.department_code, doctor_code=doctor.code,
                            date=env.today() + dt.timedelta(days=days), period=kw.pop("period", "am"),
                            capacity=capacity, slot_count=slot_count, **kw)


def book(env: HisHarness, schedule_id: str, slot_id: str, request_id: str | None = None):
    """Lock and confirm one place for a new patient; the Registration."""
    rid = request_id or f"req-{next(_ids)}"
    lock = env.his.lock_slot(rid, new_patient(env), schedule_id, slot_id)
    return env.his.confirm_registration(rid, f"T{rid}", lock.fee)


PRESCRIPTION = (BillItem("阿莫西林胶囊", 3680, "2盒", "西药费"), BillItem("布洛芬缓释胶囊", 2000, "1盒", "西药费"))


def patient_with_bills(env: HisHarness) -> tuple[str, str, str]:
    """A new patient with a prescription (¥56.80, two items) and a blood test (¥25.00, no items given)."""
    pid = new_patient(env)
    drugs = env.add_bill(pid, "处方（西药）", 5680, items=PRESCRIPTION)
    return pid, drugs, env.add_bill(pid, "检验：血常规", 2500)


def rejection(fn, *args) -> str:
    """The canonical code fn(*args) is refused with."""
    with pytest.raises(HisRejected) as err:
        fn(*args)
    return err.value.code


def remaining(env: HisHarness, schedule_id: str) -> int:
    """Places left in a schedule."""
    return env.his.get_schedule(schedule_id).remaining


class HisConformance:
    """The shared behaviours; the subclass supplies the ``env`` fixture."""

    def test_ping(self, env):
        env.his.ping()

    def test_departments_have_two_levels(self, env):
        depts = env.his.list_departments()
        tops = {d.code for d in depts if d.parent_code is None}
        children = [d for d in depts if d.parent_code is not None]
        assert len(tops) >= 2 and children
        assert all(c.parent_code in tops for c in children)
        assert all(d.name for d in depts) and all(c.intro for c in children)

    def test_doctors_have_titles_and_child_departments(self, env):
        children = {d.code for d in env.his.list_departments() if d.parent_code}
        doctors = env.his.list_doctors()
        assert doctors and all(d.title in TITLES and d.department_code in children for d in doctors)
        one = doctors[0].department_code
        assert {d.department_code for d in env.his.list_doctors(one)} == {one}

    def test_schedules_cover_eight_days_with_fees_in_fen(self, env):
        today, schedules = env.today(), env.his.list_schedules()
        assert {s.date for s in schedules} == {today + dt.timedelta(days=i) for i in range(8)}
        for doctor in env.his.list_doctors():
            days = {s.date for s in schedules if s.doctor_code == doctor.code}
            assert len(days) == 8, doctor
        fees = {s.title: s.fee for s in schedules}
        assert all(isinstance(s.fee, int) and s.fee > 0 for s in schedules)
        assert all(s.fee == fees[s.title] for s in schedules)
        assert fees["主任医师"] > fees.get("副主任医师", 0) and fees["主任医师"] > fees.get("主治医师", 0)

    def test_a_free_session_lists_locks_and_registers_at_fee_0(self, env):
        sid, slots = new_schedule(env, fee=0)
        assert env.his.get_schedule(sid).fee == 0
        rid = f"req-{next(_ids)}"
        lock = env.his.lock_slot(rid, new_patient(env), sid, slots[0])
        assert lock.fee == 0
        assert env.his.confirm_registration(rid).registration_id  # nothing paid, nothing to pay
        paid_sid, _ = new_schedule(env, days=2)
        assert env.his.get_schedule(paid_sid).fee > 0  # a session without its own fee keeps the doctor's

    def test_release_rule_and_status(self, env):
        now = env.now()
        for s in env.his.list_schedules():
            expected = dt.datetime.combine(s.date - dt.timedelta(days=7), dt.time(7, 0), HOSPITAL_TZ)
            assert s.release_at == expected and s.release_at.utcoffset() == dt.timedelta(hours=8)
            assert (s.status == "not_released") == (now < s.release_at)
            assert s.period in ("am", "pm") and 0 <= s.remaining <= s.total

    def test_schedule_filters_and_get(self, env):
        doctor = env.his.list_doctors()[0]
        day = env.today() + dt.timedelta(days=2)
        found = env.his.list_schedules(doctor_code=doctor.code, date_from=day, date_to=day)
        assert found and all(s.doctor_code == doctor.code and s.date == day for s in found)
        by_dept = env.his.list_schedules(department_code=doctor.department_code, date_from=day, date_to=day)
        assert {s.id for s in found} <= {s.id for s in by_dept}
        assert env.his.get_schedule(found[0].id) == found[0]

    def test_unknown_schedule_is_not_found(self, env):
        with pytest.raises(HisRejected) as err:
            env.his.get_schedule("NO-SUCH-SCHEDULE")
        assert err.value.code == port.NOT_FOUND and err.value.his_code

    def test_slots_are_half_hours_summing_to_total(self, env):
        sched = env.his.list_schedules(date_from=env.today() + dt.timedelta(days=1))[0]
        slots = env.his.list_slots(sched.id)
        assert sum(t.capacity for t in slots) == sched.total and len(slots) == 8
        assert all(t.end - t.start == dt.timedelta(minutes=30) and t.start.tzinfo for t in slots)
        assert all(t.start.date() == sched.date and t.schedule_id == sched.id for t in slots)
        assert slots[0].start.time() == (dt.time(8, 0) if sched.period == "am" else dt.time(13, 30))
        assert [t.id for t in env.his.list_slots(sched.id)] == [t.id for t in slots]

    def test_find_or_create_is_idempotent(self, env):
        info = PatientInfo("王小明", "01", "110101199003071234", "13900000000", "M", dt.date(1990, 3, 7))
        first = env.his.find_or_create_patient(info)
        second = env.his.find_or_create_patient(info)
        assert first.created and not second.created
        assert first.his_patient_id == second.his_patient_id and second.name == "王小明"
        assert env.stats()["patients"] == 1

    # -- identity check (find_patient) ------------------------------------------------------

    def test_find_patient_answers_none_for_an_unknown_id_and_creates_nothing(self, env):
        assert env.his.find_patient("01", "110101199003079999") is None
        assert env.stats()["patients"] == 0

    def test_find_patient_answers_the_record_with_the_phone_on_file(self, env):
        info = PatientInfo("阿依古丽·买买提", "01", "650102198506129998", "13800000009", "F", dt.date(1985, 6, 12))
        created = env.his.find_or_create_patient(info)
        found = env.his.find_patient("01", info.id_number.lower())
        assert found == port.HisPatientRecord(created.his_patient_id, "阿依古丽·买买提", "13800000009")
        assert env.stats()["patients"] == 1

    def test_invalid_patient_is_rejected(self, env):
        info = PatientInfo("王小明", "01", "12345", "13900000000", "M", dt.date(1990, 3, 7))
        with pytest.raises(HisRejected) as err:
            env.his.find_or_create_patient(info)
        assert err.value.code == port.PATIENT_INVALID

    def test_lock_confirm_query_cancel(self, env):
        sid, slots = new_schedule(env, capacity=4)
        pid = new_patient(env)
        lock = env.his.lock_slot("r-1", pid, sid, slots[0])
        assert lock.request_id == "r-1" and lock.fee == env.his.get_schedule(sid).fee and lock.lock_id
        assert remaining(env, sid) == 3 and env.stats()["locks"] == 1
        reg = env.his.confirm_registration("r-1", "T0001", lock.fee)
        assert (reg.his_patient_id, reg.slot_id, reg.fee, reg.status) == (pid, slots[0], lock.fee, "registered")
        assert env.his.confirm_registration("r-1", "T0001", lock.fee) == reg
        assert env.his.query_registration("r-1") == reg
        assert env.stats() | {"patients": 0} == {"locks": 0, "registrations": 1, "cancellations": 0, "patients": 0}
        env.his.cancel_registration(reg.registration_id, "行程有变")
        env.his.cancel_registration(reg.registration_id)
        assert remaining(env, sid) == 4
        assert env.his.query_registration("r-1").status == "cancelled"
        assert env.stats()["registrations"] == 0 and env.stats()["cancellations"] == 1

    def test_same_request_locks_once(self, env):
        sid, slots = new_schedule(env)
        pid = new_patient(env)
        first = env.his.lock_slot("r-twice", pid, sid, slots[0])
        assert env.his.lock_slot("r-twice", pid, sid, slots[0]) == first
        assert remaining(env, sid) == 3 and env.stats()["locks"] == 1

    def test_full_slot_is_refused(self, env):
        sid, slots = new_schedule(env, capacity=1, slot_count=1)
        env.his.lock_slot("r-a", new_patient(env), sid, slots[0])
        with pytest.raises(HisRejected) as err:
            env.his.lock_slot("r-b", new_patient(env), sid, slots[0])
        assert err.value.code == port.SLOT_FULL
        assert env.his.get_schedule(sid).status == "full"

    def test_not_released_is_refused(self, env):
        sid, slots = new_schedule(env, days=3, release_at=(env.now() + dt.timedelta(days=1)).isoformat())
        assert env.his.get_schedule(sid).status == "not_released"
        with pytest.raises(HisRejected) as err:
            env.his.lock_slot("r-early", new_patient(env), sid, slots[0])
        assert err.value.code == port.NOT_RELEASED

    def test_stopped_schedule_is_refused(self, env):
        sid, slots = new_schedule(env, stopped=True)
        assert env.his.get_schedule(sid).status == "stopped"
        with pytest.raises(HisRejected) as err:
            env.his.lock_slot("r-stop", new_patient(env), sid, slots[0])
        assert err.value.code == port.SCHEDULE_STOPPED

    def test_same_patient_twice_is_duplicate(self, env):
        sid, slots = new_schedule(env)
        pid = new_patient(env)
        env.his.lock_slot("r-d1", pid, sid, slots[0])
        with pytest.raises(HisRejected) as err:
            env.his.lock_slot("r-d2", pid, sid, slots[1])
        assert err.value.code == port.DUPLICATE_REGISTRATION

    def test_unlock_frees_and_expires_the_hold(self, env):
        sid, slots = new_schedule(env)
        env.his.lock_slot("r-u", new_patient(env), sid, slots[0])
        env.his.unlock_slot("r-u")
        env.his.unlock_slot("r-u")
        env.his.unlock_slot("r-never-locked")
        assert remaining(env, sid) == 4 and env.stats()["locks"] == 0
        with pytest.raises(HisRejected) as err:
            env.his.confirm_registration("r-u", "T1")
        assert err.value.code == port.LOCK_EXPIRED

    def test_unlock_after_confirm_keeps_the_registration(self, env):
        sid, slots = new_schedule(env)
        reg = book(env, sid, slots[0], "r-kept")
        env.his.unlock_slot("r-kept")
        assert env.his.query_registration("r-kept") == reg and remaining(env, sid) == 3

    def test_unknown_request_queries_none_and_cannot_confirm(self, env):
        assert env.his.query_registration("r-unknown") is None
        with pytest.raises(HisRejected) as err:
            env.his.confirm_registration("r-unknown", "T1")
        assert err.value.code == port.NOT_FOUND

    def test_concurrent_locks_never_overbook(self, env):
        sid, slots = new_schedule(env, capacity=3, slot_count=1)
        patients = [new_patient(env) for _ in range(12)]
        outcomes: list[str] = []

        def attempt(i: int) -> None:
            try:
                env.his.lock_slot(f"r-c{i}", patients[i], sid, slots[0])
                outcomes.append("ok")
            except HisRejected as exc:
                outcomes.append(exc.code)
        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sorted(outcomes) == ["SLOT_FULL"] * 9 + ["ok"] * 3
        assert remaining(env, sid) == 0

    def test_check_in_today_and_queue(self, env):
        start = env.now().astimezone(HOSPITAL_TZ).strftime("%H:%M")
        sid, slots = new_schedule(env, days=0, capacity=4, slot_count=1, start_time=start)
        first, second = book(env, sid, slots[0]), book(env, sid, slots[0])
        one, two = env.his.check_in(first.registration_id), env.his.check_in(second.registration_id)
        assert (one.queue_no, two.queue_no) == (1, 2) and one.location
        assert env.his.check_in(second.registration_id) == two
        status = env.his.queue_status(second.registration_id)
        assert (status.queue_no, status.current_no, status.ahead) == (2, 0, 1)
        assert status.estimated_wait_minutes == AVG_MINUTES
        env.advance_queue(sid, 1)
        status = env.his.queue_status(second.registration_id)
        assert (status.current_no, status.ahead, status.estimated_wait_minutes) == (1, 0, 0)

    def test_check_in_rules(self, env):
        sid, slots = new_schedule(env, days=1)
        reg = book(env, sid, slots[0])
        with pytest.raises(HisRejected) as err:
            env.his.check_in(reg.registration_id)
        assert err.value.code == port.CHECKIN_NOT_ALLOWED
        with pytest.raises(HisRejected) as err:
            env.his.queue_status(reg.registration_id)
        assert err.value.code == port.CHECKIN_NOT_ALLOWED

    def test_checked_in_cannot_cancel_and_cancelled_cannot_check_in(self, env):
        start = env.now().astimezone(HOSPITAL_TZ).strftime("%H:%M")
        sid, slots = new_schedule(env, days=0, capacity=2, slot_count=1, start_time=start)
        seen, gone = book(env, sid, slots[0]), book(env, sid, slots[0])
        env.his.check_in(seen.registration_id)
        with pytest.raises(HisRejected) as err:
            env.his.cancel_registration(seen.registration_id)
        assert err.value.code == port.NOT_CANCELLABLE
        env.his.cancel_registration(gone.registration_id)
        with pytest.raises(HisRejected) as err:
            env.his.check_in(gone.registration_id)
        assert err.value.code == port.CHECKIN_NOT_ALLOWED

    # -- outpatient bills (门诊缴费) -------------------------------------------------------------

    def test_pending_bills_are_listed_with_their_items(self, env):
        pid = new_patient(env)
        assert env.his.list_pending_bills(pid) == []
        pid, drugs, blood = patient_with_bills(env)
        env.add_bill(new_patient(env), "检查：胸部CT平扫", 18000)
        bills = env.his.list_pending_bills(pid)
        assert [(b.id, b.title, b.amount, b.his_patient_id) for b in bills] == [
            (drugs, "处方（西药）", 5680, pid), (blood, "检验：血常规", 2500, pid)]
        assert bills[0].items == PRESCRIPTION
        (line,) = bills[1].items
        assert (line.amount, line.name) == (2500, "血常规") and line.category and line.quantity
        assert all(b.department and abs(b.created_at - env.now()) < dt.timedelta(minutes=1) for b in bills)

    def test_a_bill_belongs_to_the_patients_latest_visit(self, env):
        sid, slots = new_schedule(env, days=0)
        pid = new_patient(env)
        env.his.lock_slot("r-visit", pid, sid, slots[0])
        env.his.confirm_registration("r-visit")
        env.add_bill(pid, "治疗：雾化吸入", 1200)
        (bill,) = env.his.list_pending_bills(pid)
        schedule = env.his.get_schedule(sid)
        assert (bill.department, bill.doctor_name) == (schedule.department_name, schedule.doctor_name)

    def test_bills_of_an_unknown_patient_are_refused(self, env):
        assert rejection(env.his.list_pending_bills, "NO-SUCH-PATIENT") == port.PATIENT_INVALID

    def test_settle_bills_gives_a_receipt_once(self, env):
        pid, drugs, blood = patient_with_bills(env)
        assert env.his.query_settlement("pay-1") is None
        done = env.his.settle_bills("pay-1", pid, [blood, drugs], "WX4200001", 8180)
        assert (done.request_id, done.his_patient_id, done.bill_ids, done.amount, done.trade_no) == (
            "pay-1", pid, (blood, drugs), 8180, "WX4200001")
        assert done.settlement_id and done.receipt_no and done.settled_at.utcoffset() == dt.timedelta(hours=8)
        assert env.his.list_pending_bills(pid) == []
        assert env.his.query_settlement("pay-1") == done
        assert env.his.settle_bills("pay-1", pid, [blood, drugs], "WX4200001", 8180) == done
        day = done.settled_at.astimezone(HOSPITAL_TZ).date()
        assert [(r.kind, r.record_id, r.amount) for r in env.his.list_payment_records(day)] == [
            ("bills", done.settlement_id, 8180)]

    def test_settling_part_leaves_the_rest_pending(self, env):
        pid, drugs, blood = patient_with_bills(env)
        env.his.settle_bills("pay-part", pid, [drugs, drugs], "T-part", 5680)
        assert [b.id for b in env.his.list_pending_bills(pid)] == [blood]
        assert env.his.query_settlement("pay-part").bill_ids == (drugs,)

    def test_a_paid_bill_cannot_be_paid_again(self, env):
        pid, drugs, blood = patient_with_bills(env)
        env.his.settle_bills("pay-a", pid, [drugs], "T-a", 5680)
        assert rejection(env.his.settle_bills, "pay-b", pid, [drugs, blood], "T-b", 8180) == port.BILL_PAID
        env.pay_bill_at_window(blood)
        assert env.his.list_pending_bills(pid) == []
        assert rejection(env.his.settle_bills, "pay-c", pid, [blood], "T-c", 2500) == port.BILL_PAID
        assert env.his.query_settlement("pay-b") is None and env.his.query_settlement("pay-c") is None

    def test_a_changed_or_cancelled_bill_is_refused_and_stays_as_it_was(self, env):
        pid, drugs, blood = patient_with_bills(env)
        assert rejection(env.his.settle_bills, "pay-x", pid, [drugs, blood], "T-x", 8179) == port.BILL_CHANGED
        assert [b.id for b in env.his.list_pending_bills(pid)] == [drugs, blood]
        env.cancel_bill(blood)
        assert [b.id for b in env.his.list_pending_bills(pid)] == [drugs]
        assert rejection(env.his.settle_bills, "pay-y", pid, [blood], "T-y", 2500) == port.BILL_CHANGED
        assert env.his.query_settlement("pay-x") is None and env.his.query_settlement("pay-y") is None

    def test_unknown_or_another_patients_bill_is_not_found(self, env):
        pid, drugs, _ = patient_with_bills(env)
        other, theirs, _ = patient_with_bills(env)
        assert rejection(env.his.settle_bills, "pay-u", pid, ["NO-SUCH-BILL"], "T-u", 100) == port.NOT_FOUND
        assert rejection(env.his.settle_bills, "pay-o", pid, [drugs, theirs], "T-o", 11360) == port.NOT_FOUND
        assert len(env.his.list_pending_bills(pid)) == 2 and len(env.his.list_pending_bills(other)) == 2

    def test_concurrent_payments_settle_a_bill_once(self, env):
        pid, drugs, _ = patient_with_bills(env)
        outcomes: list[str] = []

        def attempt(i: int) -> None:
            try:
                env.his.settle_bills(f"pay-c{i}", pid, [drugs], f"T-c{i}", 5680)
                outcomes.append("ok")
            except HisRejected as exc:
                outcomes.append(exc.code)
        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sorted(outcomes) == [port.BILL_PAID] * 7 + ["ok"]
        records = env.his.list_payment_records(env.today())
        assert [(r.kind, r.amount) for r in records] == [("bills", 5680)]

    def test_payment_records_of_the_day(self, env):
        sid, slots = new_schedule(env, capacity=4, slot_count=1)
        kept, refunded = book(env, sid, slots[0]), book(env, sid, slots[0])
        at_window = env.his.lock_slot("r-window", new_patient(env), sid, slots[0])
        unpaid = env.his.confirm_registration(at_window.request_id)
        pid, drugs, blood = patient_with_bills(env)
        done = env.his.settle_bills("pay-day", pid, [drugs, blood], "T-day", 8180)
        env.his.cancel_registration(refunded.registration_id, "行程有变")
        env.his.cancel_registration(unpaid.registration_id)
        fee = kept.fee
        records = env.his.list_payment_records(env.today())
        assert sorted((r.kind, r.record_id, r.trade_no, r.amount, r.status) for r in records) == sorted([
            ("registration", kept.registration_id, f"T{kept.request_id}", fee, "paid"),
            ("registration", refunded.registration_id, f"T{refunded.request_id}", fee, "paid"),
            ("registration", refunded.registration_id, f"T{refunded.request_id}", -fee, "refunded"),
            ("bills", done.settlement_id, "T-day", 8180, "paid")])
        assert [r.at for r in records] == sorted(r.at for r in records)
        assert all(r.at.astimezone(HOSPITAL_TZ).date() == env.today() for r in records)
        assert sum(r.amount for r in records) == fee + 8180
        assert env.his.list_payment_records(env.today() - dt.timedelta(days=1)) == []

    # -- 退费 (refund_bill) --

    def test_refunding_a_settlement_gives_the_money_back_once_and_the_report_shows_it(self, env):
        pid, drugs, blood = patient_with_bills(env)
        done = env.his.settle_bills("pay-rf", pid, [drugs, blood], "T-rf", 8180)
        back = env.his.refund_bill("rf-1", done.settlement_id, [drugs, blood], "患者要求退费")
        assert (back.request_id, back.settlement_id, back.bill_ids, back.amount, back.trade_no) == (
            "rf-1", done.settlement_id, (drugs, blood), 8180, "T-rf")
        assert back.refund_id and back.refunded_at.utcoffset() == dt.timedelta(hours=8)
        assert env.his.refund_bill("rf-1", done.settlement_id, [drugs, blood]) == back  # a retry: the same refund
        assert rejection(env.his.refund_bill, "rf-2", done.settlement_id, [drugs]) == port.BILL_NOT_REFUNDABLE
        records = env.his.list_payment_records(env.today())
        assert [(r.kind, r.record_id, r.trade_no, r.amount, r.status) for r in records] == [
            ("bills", done.settlement_id, "T-rf", 8180, "paid"),
            ("bills", done.settlement_id, "T-rf", -8180, "refunded")]
        assert env.his.list_pending_bills(pid) == []  # refunded bills are not owed again

    def test_part_of_a_settlement_can_be_refunded_and_only_its_own_bills(self, env):
        pid, drugs, blood = patient_with_bills(env)
        done = env.his.settle_bills("pay-rp", pid, [drugs, blood], "T-rp", 8180)
        _, theirs, _ = patient_with_bills(env)
        assert rejection(env.his.refund_bill, "rp-x", done.settlement_id, [theirs]) == port.NOT_FOUND
        assert rejection(env.his.refund_bill, "rp-y", "JS-NO-SUCH", [drugs]) == port.NOT_FOUND
        assert env.his.refund_bill("rp-1", done.settlement_id, [blood]).amount == 2500
        assert env.his.refund_bill("rp-2", done.settlement_id, [drugs]).amount == 5680
        assert sum(r.amount for r in env.his.list_payment_records(env.today())) == 0

    def test_a_dispensed_bill_is_not_refundable(self, env):
        pid, drugs, blood = patient_with_bills(env)
        done = env.his.settle_bills("pay-rx", pid, [drugs, blood], "T-rx", 8180)
        env.execute_bill(drugs)
        assert rejection(env.his.refund_bill, "rx-1", done.settlement_id, [drugs, blood]) == port.BILL_NOT_REFUNDABLE
        assert env.his.refund_bill("rx-2", done.settlement_id, [blood]).amount == 2500
