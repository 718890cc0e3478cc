"""MemoryHis: the conformance suite plus its own test helpers and time control."""
from __future__ import annotations

import datetime as dt

import pytest

from bff.his import port
from bff.his.adapters.memory import MemoryHis
from bff.his.port import HOSPITAL_TZ, HisRejected, HisUnavailable
from tests.his_conformance import (
    HisConformance,
    HisHarness,
    book,
    new_patient,
    new_schedule,
)


class Clock:
    """A settable clock for MemoryHis(now=...)."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime.now(HOSPITAL_TZ).replace(second=0, microsecond=0))


@pytest.fixture
def his(clock) -> MemoryHis:
    return MemoryHis(now=clock)


@pytest.fixture
def env(his) -> HisHarness:
    return HisHarness(his, his.add_schedule, his.stats, his.advance_queue, his.now, his.add_bill,
                      his.pay_bill_at_window, his.cancel_bill, his.execute_bill)


class TestMemoryConformance(HisConformance):
    """The shared suite against MemoryHis."""


def _at(clock: Clock, day: dt.date, hour: int, minute: int = 0) -> None:
    clock.moment = dt.datetime.combine(day, dt.time(hour, minute), HOSPITAL_TZ)


def test_release_happens_at_seven(env, his, clock):
    today = clock().date()
    _at(clock, today, 6, 59)
    last = his.list_schedules(date_from=today + dt.timedelta(days=7))
    assert last and all(s.status == "not_released" for s in last)
    with pytest.raises(HisRejected) as err:
        his.lock_slot("r1", new_patient(env), last[0].id, his.list_slots(last[0].id)[0].id)
    assert err.value.code == port.NOT_RELEASED
    _at(clock, today, 7, 0)
    assert his.get_schedule(last[0].id).status == "open"


def test_window_rolls_with_time(his, clock):
    clock.advance(days=3)
    today = clock().date()
    assert {s.date for s in his.list_schedules(date_from=today)} == {today + dt.timedelta(days=i) for i in range(8)}


def test_down_makes_every_call_unavailable(his):
    his.set_down(True)
    for call in (his.ping, his.list_departments, lambda: his.query_registration("x")):
        with pytest.raises(HisUnavailable):
            call()
    his.set_down(False)
    his.ping()


def test_fail_next_before_the_work(env, his):
    sid, slots = new_schedule(env)
    pid = new_patient(env)
    his.fail_next("lock_slot", times=2)
    for _ in range(2):
        with pytest.raises(HisUnavailable):
            his.lock_slot("r1", pid, sid, slots[0])
    assert his.live_locks == 0
    his.lock_slot("r1", pid, sid, slots[0])
    assert his.live_locks == 1 and his.calls["lock_slot"] == 3


def test_fail_next_committed_loses_only_the_reply(env, his):
    sid, slots = new_schedule(env)
    lock = his.lock_slot("r1", new_patient(env), sid, slots[0])
    his.fail_next("confirm_registration", committed=True)
    with pytest.raises(HisUnavailable):
        his.confirm_registration("r1", "T1", lock.fee)
    committed = his.query_registration("r1")
    assert committed is not None and his.live_registrations == 1
    assert his.confirm_registration("r1", "T1", lock.fee) == committed


def test_fail_next_rejects_unknown_operation(his):
    with pytest.raises(ValueError):
        his.fail_next("no_such_operation")


def test_paid_fee_must_match(env, his):
    sid, slots = new_schedule(env)
    lock = his.lock_slot("r1", new_patient(env), sid, slots[0])
    with pytest.raises(HisRejected) as err:
        his.confirm_registration("r1", "T1", lock.fee + 1)
    assert err.value.code == port.REJECTED


def test_queue_advances_with_time(env, his, clock):
    sid, slots = new_schedule(env, days=0, capacity=4, slot_count=1, start_time=clock().strftime("%H:%M"))
    regs = [book(env, sid, slots[0]) for _ in range(4)]
    for reg in regs:
        his.check_in(reg.registration_id)
    assert his.queue_status(regs[3].registration_id).ahead == 3
    clock.advance(minutes=13)
    status = his.queue_status(regs[3].registration_id)
    assert (status.current_no, status.ahead, status.estimated_wait_minutes) == (2, 1, 6)
    clock.advance(hours=2)
    assert his.queue_status(regs[3].registration_id).current_no == 4


def test_reset_forgets_everything(env, his):
    sid, slots = new_schedule(env)
    book(env, sid, slots[0])
    his.reset()
    assert his.stats() == {"locks": 0, "registrations": 0, "cancellations": 0, "patients": 0}
    assert sum(his.calls.values()) == 0



def clock_day(his: MemoryHis) -> dt.date:
    return his.now().astimezone(HOSPITAL_TZ).date()


def test_add_bill_checks_its_input(env, his):
    pid = new_patient(env)
    with pytest.raises(ValueError):
        his.add_bill("NO-SUCH-PATIENT", "检验：血常规", 2500)
    with pytest.raises(ValueError):
        his.add_bill(pid, "处方（西药）", 5000, items=[port.BillItem("阿莫西林胶囊", 3680, "2盒", "西药费")])
    with pytest.raises(ValueError):
        his.add_bill(pid, "检验：血常规", 0)
    assert his.list_pending_bills(pid) == []


def test_settlement_committed_but_reply_lost_is_found_by_the_compensation_query(env, his):
    pid = new_patient(env)
    bill = his.add_bill(pid, "检查：心电图", 3500)
    his.fail_next("settle_bills", committed=True)
    with pytest.raises(HisUnavailable):
        his.settle_bills("pay-1", pid, [bill], "T1", 3500)
    committed = his.query_settlement("pay-1")
    assert committed is not None and committed.bill_ids == (bill,)
    assert his.settle_bills("pay-1", pid, [bill], "T1", 3500) == committed
    assert [r.amount for r in his.list_payment_records(clock_day(his))] == [3500]


def test_a_refund_is_reported_on_the_day_of_the_cancellation(env, his, clock):
    sid, slots = new_schedule(env, days=3)
    paid_day = clock_day(his)
    reg = book(env, sid, slots[0])
    clock.advance(days=1)
    his.cancel_registration(reg.registration_id)
    assert [(r.status, r.amount) for r in his.list_payment_records(paid_day)] == [("paid", reg.fee)]
    (refund,) = his.list_payment_records(clock_day(his))
    assert (refund.record_id, refund.trade_no, refund.amount, refund.status) == (
        reg.registration_id, f"T{reg.request_id}", -reg.fee, "refunded")
    assert refund.at == clock()


def test_a_registration_paid_without_an_amount_is_reported_at_its_fee(env, his):
    sid, slots = new_schedule(env)
    lock = his.lock_slot("r1", new_patient(env), sid, slots[0])
    reg = his.confirm_registration("r1", "WX1")
    (record,) = his.list_payment_records(clock_day(his))
    assert (record.kind, record.record_id, record.trade_no, record.amount) == (
        "registration", reg.registration_id, "WX1", lock.fee)


def test_reset_forgets_bills_and_payments(env, his):
    pid = new_patient(env)
    bill = his.add_bill(pid, "检验：血常规", 2500)
    his.settle_bills("pay-1", pid, [bill], "T1", 2500)
    his.reset()
    assert his.query_settlement("pay-1") is None and his.list_payment_records(clock_day(his)) == []
