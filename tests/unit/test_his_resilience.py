"""Unit tests of bff.his.resilience: circuit breaker, catalog cache with stale fallback, retry."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from bff.his.port import (
    HOSPITAL_TZ,
    NOT_FOUND,
    SLOT_FULL,
    Bill,
    BillSettlement,
    CheckIn,
    Department,
    Doctor,
    HisPatient,
    HisPaymentRecord,
    HisPort,
    HisRejected,
    HisUnavailable,
    PatientInfo,
    QueueStatus,
    Registration,
    Schedule,
    SlotLock,
    TimeSlot,
)
from bff.his.resilience import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CacheEntry,
    InProcessCache,
    ResilientHis,
    reset_stale,
    served_stale,
)

DAY = dt.date(2030, 3, 1)


def schedule(schedule_id: str) -> Schedule:
    return Schedule(id=schedule_id, doctor_code="DR1", doctor_name="张医生", title="主任医师",
                    department_code="D1", date=DAY, period="am", fee=5000, total=30, remaining=10,
                    status="open", release_at=dt.datetime(2030, 2, 22, 8, tzinfo=HOSPITAL_TZ))


def slot(schedule_id: str) -> TimeSlot:
    start = dt.datetime(2030, 3, 1, 8, tzinfo=HOSPITAL_TZ)
    return TimeSlot(id=f"{schedule_id}-1", schedule_id=schedule_id, start=start,
                    end=start + dt.timedelta(minutes=30), capacity=5, remaining=2)


class FakeHis(HisPort):
    """An in-test adapter: records calls; fails while ``down`` or with queued ``errors``."""

    name = "fake"

    def __init__(self):
        self.calls: list[tuple[str, tuple]] = []
        self.down = False
        self.errors: list[Exception] = []
        self.during_call = None  # optional hook run inside each call

    def _answer(self, op, args, value):
        self.calls.append((op, args))
        if self.during_call:
            self.during_call()
        if self.errors:
            raise self.errors.pop(0)
        if self.down:
            raise HisUnavailable("timeout")
        return value

    def count(self, op: str) -> int:
        return sum(1 for name, _ in self.calls if name == op)

    def ping(self):
        return self._answer("ping", (), None)

    def list_departments(self):
        return self._answer("list_departments", (), [Department("D1", f"内科{len(self.calls)}")])

    def list_doctors(self, department_code=None):
        return self._answer("list_doctors", (department_code,), [Doctor("DR1", "张医生", "主任医师", "D1")])

    def list_schedules(self, department_code=None, doctor_code=None, date_from=None, date_to=None):
        args = (department_code, doctor_code, date_from, date_to)
        return self._answer("list_schedules", args, [schedule("S1"), schedule("S2")])

    def get_schedule(self, schedule_id):
        return self._answer("get_schedule", (schedule_id,), schedule(schedule_id))

    def list_slots(self, schedule_id):
        return self._answer("list_slots", (schedule_id,), [slot(schedule_id)])

    def find_or_create_patient(self, info):
        return self._answer("find_or_create_patient", (info,), HisPatient("P1", info.name))

    def find_patient(self, id_type, id_number):
        return self._answer("find_patient", (id_type, id_number), None)

    def lock_slot(self, request_id, his_patient_id, schedule_id, slot_id):
        return self._answer("lock_slot", (request_id,), SlotLock("L1", request_id, schedule_id, slot_id, 5000))

    def unlock_slot(self, request_id):
        return self._answer("unlock_slot", (request_id,), None)

    def confirm_registration(self, request_id, trade_no=None, paid_fee=0):
        reg = Registration("R1", request_id, "S1", "S1-1", "P1", "V1", 5000)
        return self._answer("confirm_registration", (request_id,), reg)

    def query_registration(self, request_id):
        return self._answer("query_registration", (request_id,), None)

    def cancel_registration(self, registration_id, reason=""):
        return self._answer("cancel_registration", (registration_id,), None)

    def check_in(self, registration_id):
        return self._answer("check_in", (registration_id,), CheckIn(registration_id, 7))

    def queue_status(self, registration_id):
        return self._answer("queue_status", (registration_id,), QueueStatus(registration_id, 7, 3, 4, 20))

    def list_pending_bills(self, his_patient_id):
        bill = Bill("B1", his_patient_id, "检验：血常规", "心血管内科", 2500,
                    dt.datetime(2030, 3, 1, 9, tzinfo=HOSPITAL_TZ))
        return self._answer("list_pending_bills", (his_patient_id,), [bill])

    def settle_bills(self, request_id, his_patient_id, bill_ids, trade_no, amount):
        done = BillSettlement("JS1", request_id, his_patient_id, tuple(bill_ids), amount, "MZ1", trade_no,
                              dt.datetime(2030, 3, 1, 9, 5, tzinfo=HOSPITAL_TZ))
        return self._answer("settle_bills", (request_id,), done)

    def query_settlement(self, request_id):
        return self._answer("query_settlement", (request_id,), None)

    def list_payment_records(self, date):
        record = HisPaymentRecord("bills", "JS1", "T1", 2500, dt.datetime(2030, 3, 1, 9, 5, tzinfo=HOSPITAL_TZ), "paid")
        return self._answer("list_payment_records", (date,), [record])


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _fresh_request():
    reset_stale()


@pytest.fixture
def fake():
    return FakeHis()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def his(fake, clock, sleeps):
    # Health probes run inline here (in a thread of their own in the app) so tests see them at once.
    return ResilientHis(fake, failure_threshold=3, reset_timeout=15.0, clock=clock, sleep=sleeps.append,
                        spawn=lambda work: work())


def trip(his, fake, n=3):
    fake.down = True
    for _ in range(n):
        with pytest.raises(HisUnavailable):
            his.unlock_slot("REQ")


# -- circuit breaker ---------------------------------------------------------------------------

def test_breaker_opens_after_n_failures_and_fails_fast(his, fake):
    trip(his, fake, n=2)
    assert his.state == CLOSED
    trip(his, fake, n=1)
    assert his.state == OPEN
    calls = len(fake.calls)
    fake.down = False
    with pytest.raises(HisUnavailable, match="circuit open"):
        his.lock_slot("REQ", "P1", "S1", "S1-1")
    with pytest.raises(HisUnavailable, match="circuit open"):
        his.ping()
    assert len(fake.calls) == calls


def test_half_open_trial_success_closes(his, fake, clock):
    trip(his, fake)
    clock.advance(14.9)
    assert his.state == OPEN
    clock.advance(0.1)
    assert his.state == HALF_OPEN
    fake.down = False
    his.ping()
    assert his.state == CLOSED
    his.ping()
    assert fake.count("ping") == 2


def test_half_open_trial_failure_reopens_for_a_new_cool_down(his, fake, clock):
    trip(his, fake)
    clock.advance(15)
    with pytest.raises(HisUnavailable, match="timeout"):
        his.ping()
    assert his.state == OPEN
    clock.advance(1)  # sooner than the next health probe
    with pytest.raises(HisUnavailable, match="circuit open"):
        his.ping()
    assert fake.count("ping") == 1
    clock.advance(9)  # a probe is due: it finds the HIS still down, and the circuit stays open
    with pytest.raises(HisUnavailable, match="circuit open"):
        his.ping()
    assert fake.count("ping") == 2 and his.state == OPEN


def test_half_open_lets_only_one_trial_through(his, fake, clock):
    trip(his, fake)
    clock.advance(15)
    fake.down = False
    concurrent = []

    def second_caller():
        fake.during_call = None
        with pytest.raises(HisUnavailable, match="circuit open"):
            his.queue_status("R1")
        concurrent.append("failed fast")

    fake.during_call = second_caller
    his.ping()
    assert concurrent == ["failed fast"]
    assert fake.count("queue_status") == 0
    assert his.state == CLOSED


def test_rejections_do_not_trip_and_reset_the_count(his, fake):
    fake.errors = [HisRejected(SLOT_FULL, "full")] * 5
    for _ in range(5):
        with pytest.raises(HisRejected):
            his.lock_slot("REQ", "P1", "S1", "S1-1")
    assert his.state == CLOSED
    trip(his, fake, n=2)
    fake.errors = [HisRejected(SLOT_FULL)]
    with pytest.raises(HisRejected):
        his.unlock_slot("REQ")
    trip(his, fake, n=2)
    assert his.state == CLOSED


def test_state_changes_are_logged(his, fake, clock, caplog):
    caplog.set_level(logging.INFO, logger="bff.his")
    trip(his, fake)
    clock.advance(15)
    fake.down = False
    his.ping()
    states = [(r.name, r.levelname, r.getMessage().split("circuit ")[1].split(" (")[0]) for r in caplog.records]
    assert states == [("bff.his", "WARNING", "closed -> open"), ("bff.his", "INFO", "open -> half_open"),
                      ("bff.his", "INFO", "half_open -> closed")]


# -- catalog cache -----------------------------------------------------------------------------

def test_fresh_hit_avoids_the_adapter(his, fake, clock):
    first = his.list_departments()
    clock.advance(599)
    assert his.list_departments() == first
    assert fake.count("list_departments") == 1
    assert not served_stale()


def test_cache_key_includes_arguments(his, fake):
    his.list_doctors("D1")
    his.list_doctors("D2")
    his.list_doctors("D1")
    his.list_schedules(department_code="D1", date_from=DAY)
    his.list_schedules("D1", None, DAY)
    his.list_schedules("D1", None, DAY, DAY)
    assert fake.calls == [("list_doctors", ("D1",)), ("list_doctors", ("D2",)),
                          ("list_schedules", ("D1", None, DAY, None)), ("list_schedules", ("D1", None, DAY, DAY))]


def test_expired_value_is_refetched(his, fake, clock):
    first = his.list_departments()
    his.list_slots("S1")
    clock.advance(600)
    second = his.list_departments()
    his.list_slots("S1")
    assert second != first
    assert fake.count("list_departments") == 2
    assert fake.count("list_slots") == 2
    assert not served_stale()


def test_stale_value_served_and_marked_when_down(his, fake, clock):
    slots = his.list_slots("S1")
    assert not served_stale()
    clock.advance(60)
    fake.down = True
    assert his.list_slots("S1") == slots
    assert served_stale()
    reset_stale()
    assert not served_stale()


def test_stale_value_served_without_calling_adapter_when_circuit_open(his, fake, clock):
    slots = his.list_slots("S1")
    trip(his, fake)
    clock.advance(10)  # past the slots TTL, still inside the cool-down
    assert his.list_slots("S1") == slots
    assert served_stale()
    assert fake.count("list_slots") == 1  # only the health probe's ping went to the (still down) HIS


def test_no_cached_value_and_down_raises(his, fake):
    fake.down = True
    with pytest.raises(HisUnavailable):
        his.get_schedule("S1")
    assert not served_stale()


def test_max_stale_age_is_honoured(fake, clock, sleeps):
    his = ResilientHis(fake, max_stale=3600, clock=clock, sleep=sleeps.append)
    his.list_departments()
    fake.down = True
    clock.advance(3600)
    his.list_departments()
    assert served_stale()
    reset_stale()
    clock.advance(1)
    with pytest.raises(HisUnavailable):
        his.list_departments()
    assert not served_stale()


def test_rejection_is_not_cached_nor_answered_from_stale(his, fake, clock):
    his.get_schedule("S1")
    clock.advance(5)
    fake.errors = [HisRejected(NOT_FOUND)]
    with pytest.raises(HisRejected):
        his.get_schedule("S1")
    assert not served_stale()
    assert his.get_schedule("S1").id == "S1"
    assert fake.count("get_schedule") == 3


def test_returned_lists_do_not_alias_the_cache(his):
    his.list_slots("S1").clear()
    assert len(his.list_slots("S1")) == 1


def test_invalidate_slots_refreshes_only_that_schedule_once_a_second_has_passed(his, fake, clock):
    his.get_schedule("S1")
    his.list_slots("S1")
    his.list_slots("S3")
    his.list_schedules("D1")  # holds S1 and S2
    his.list_doctors("D1")
    his.invalidate_slots("S1")
    his.get_schedule("S1")  # fetched a moment ago: a burst of bookings does not refresh it each time
    assert fake.count("get_schedule") == 1
    clock.advance(1.0)
    his.get_schedule("S1")
    his.list_slots("S1")
    his.list_slots("S3")
    his.list_schedules("D1")
    his.list_doctors("D1")
    assert fake.count("get_schedule") == 2
    assert fake.count("list_slots") == 3
    assert fake.count("list_schedules") == 2
    assert fake.count("list_doctors") == 1


def test_outdated_entry_is_refreshed_by_one_reader_while_others_get_the_previous_value(his, fake, clock):
    his.list_slots("S1")
    clock.advance(1.0)
    his.invalidate_slots("S1")
    seen = []
    fake.during_call = lambda: seen.append(his.list_slots("S1"))  # a second reader, mid-refresh
    assert his.list_slots("S1") == [slot("S1")]
    assert seen == [[slot("S1")]] and fake.count("list_slots") == 2
    assert not served_stale()


def test_in_process_cache_is_a_bounded_lru():
    cache = InProcessCache(max_entries=2)
    cache.put("a", CacheEntry(1, 0.0))
    cache.put("b", CacheEntry(2, 0.0))
    cache.get("a")
    cache.put("c", CacheEntry(3, 0.0))
    assert cache.get("b") is None
    assert cache.get("a").value == 1
    assert len(cache) == 2


PATIENT = PatientInfo("李雷", "01", "110101199001011234", "13800000000", "M", dt.date(1990, 1, 1))
WRITES = [
    ("ping", ()), ("find_or_create_patient", (PATIENT,)), ("find_patient", ("01", PATIENT.id_number)),
    ("lock_slot", ("REQ", "P1", "S1", "S1-1")),
    ("unlock_slot", ("REQ",)), ("confirm_registration", ("REQ", "T1", 5000)), ("query_registration", ("REQ",)),
    ("cancel_registration", ("R1", "changed plans")), ("check_in", ("R1",)), ("queue_status", ("R1",)),
    ("list_pending_bills", ("P1",)), ("settle_bills", ("PAY1", "P1", ["B1"], "T1", 2500)),
    ("query_settlement", ("PAY1",)), ("list_payment_records", (DAY,)),
]


@pytest.mark.parametrize(("op", "args"), WRITES)
def test_writes_are_never_cached(his, fake, op, args):
    first = getattr(his, op)(*args)
    assert getattr(his, op)(*args) == first
    assert fake.count(op) == 2


def test_open_circuit_fails_bill_operations_fast(his, fake):
    trip(his, fake)
    fake.down = False
    calls = len(fake.calls)
    for op, args in WRITES[-4:]:
        with pytest.raises(HisUnavailable, match="circuit open"):
            getattr(his, op)(*args)
    assert len(fake.calls) == calls


def test_writes_accept_keyword_arguments(his, fake):
    his.cancel_registration("R1", reason="changed plans")
    his.confirm_registration(request_id="REQ", paid_fee=5000)
    assert fake.calls == [("cancel_registration", ("R1",)), ("confirm_registration", ("REQ",))]


@pytest.mark.parametrize(("op", "args"), WRITES)
def test_writes_are_not_retried(his, fake, op, args):
    fake.errors = [HisUnavailable("reset")]
    with pytest.raises(HisUnavailable):
        getattr(his, op)(*args)
    assert fake.count(op) == 1


# -- read retry --------------------------------------------------------------------------------

def test_quick_read_failure_is_retried_once(his, fake, sleeps):
    fake.errors = [HisUnavailable("reset")]
    assert his.list_slots("S1")[0].schedule_id == "S1"
    assert fake.count("list_slots") == 2
    assert sleeps == [0.05]
    fake.errors = [HisUnavailable("reset")] * 2
    fake.calls.clear()
    with pytest.raises(HisUnavailable):
        his.list_slots("S2")
    assert fake.count("list_slots") == 2


def test_slow_read_failure_is_not_retried(his, fake, clock):
    fake.down = True
    fake.during_call = lambda: clock.advance(3.0)  # the adapter's own timeout
    with pytest.raises(HisUnavailable):
        his.list_slots("S1")
    assert fake.count("list_slots") == 1


def test_retried_read_counts_as_one_breaker_failure(his, fake):
    fake.down = True
    for _ in range(2):
        with pytest.raises(HisUnavailable):
            his.list_slots("S1")
    assert fake.count("list_slots") == 4
    assert his.state == CLOSED
    with pytest.raises(HisUnavailable):
        his.list_slots("S1")
    assert his.state == OPEN


def test_a_burst_on_an_empty_entry_costs_the_his_one_call():
    import threading as _threading

    calls = []
    gate = _threading.Event()

    class Slow(FakeHis):
        def list_departments(self):
            calls.append(1)
            gate.wait(2)
            return [Department("01", "内科")]

    his = ResilientHis(Slow())
    results = []
    threads = [_threading.Thread(target=lambda: results.append(his.list_departments())) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1 and len(results) == 8 and all(r == [Department("01", "内科")] for r in results)


def test_requests_queued_behind_a_failed_refresh_fail_at_once():
    import threading as _threading

    calls = []
    gate = _threading.Event()

    class Down(FakeHis):
        def list_departments(self):
            calls.append(1)
            gate.wait(2)
            raise HisUnavailable("timeout")

    his = ResilientHis(Down(), read_retries=0)
    errors = []

    def ask():
        try:
            his.list_departments()
        except HisUnavailable as error:
            errors.append(error)

    threads = [_threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    assert len(errors) == 6 and len(calls) == 1


# -- recovery: a HIS seen healthy closes the circuit without the full cool-down -----------------

def test_a_probe_that_finds_the_his_healthy_closes_the_circuit_within_seconds(his, fake, clock):
    recovered = []
    his.breaker.on_recovery(lambda: recovered.append(clock()))
    trip(his, fake)
    fake.down = False  # the HIS is back one second later
    clock.advance(1)
    with pytest.raises(HisUnavailable, match="circuit open"):  # too soon for a probe: fail fast
        his.lock_slot("REQ", "P1", "S1", "S1-1")
    assert fake.count("ping") == 0
    clock.advance(1)  # two seconds after opening, far inside the 15 s cool-down
    with pytest.raises(HisUnavailable, match="circuit open"):  # this caller starts the probe, still fails fast
        his.lock_slot("REQ", "P1", "S1", "S1-1")
    assert his.state == CLOSED and fake.count("ping") == 1 and len(recovered) == 1
    his.lock_slot("REQ", "P1", "S1", "S1-1")  # the next patient books
    assert fake.count("lock_slot") == 1


def test_only_one_probe_at_a_time_and_spaced_by_the_interval(fake, clock):
    started = []
    his = ResilientHis(fake, failure_threshold=3, reset_timeout=15.0, clock=clock, spawn=started.append)
    trip(his, fake)
    clock.advance(3)
    for _ in range(5):  # a crowd arrives while the probe is out
        with pytest.raises(HisUnavailable, match="circuit open"):
            his.get_schedule("S1")
    assert len(started) == 1
    started[0]()  # the probe runs and finds the HIS still down
    assert his.state == OPEN
    with pytest.raises(HisUnavailable, match="circuit open"):
        his.get_schedule("S1")
    assert len(started) == 1  # not again before the interval
    clock.advance(2)
    with pytest.raises(HisUnavailable, match="circuit open"):
        his.get_schedule("S1")
    assert len(started) == 2


def test_recovery_listeners_hear_a_half_open_trial_that_succeeds_too(his, fake, clock):
    recovered = []
    his.breaker.on_recovery(lambda: recovered.append(True))
    trip(his, fake)
    fake.down = False
    clock.advance(15)
    his.ping()
    assert his.state == CLOSED and recovered == [True]
