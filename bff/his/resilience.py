"""Resilience around any HIS adapter: a circuit breaker and a stale-tolerant catalog cache.

:class:`ResilientHis` wraps a :class:`~bff.his.port.HisPort` adapter and is itself a ``HisPort``,
so the BFF uses it wherever it would use the adapter.

* Circuit breaker: after ``failure_threshold`` consecutive ``HisUnavailable`` the circuit opens
  for ``reset_timeout`` seconds, during which calls fail fast with ``HisUnavailable("circuit
  open")`` without touching the adapter. Then one trial call goes through (half-open): success
  closes the circuit, failure opens it again. ``HisRejected`` is an answer, so it counts as success.
  While open, a call that finds the last probe ``probe_interval`` seconds old starts a ``ping``
  in the background (the call itself still fails fast): a HIS seen healthy closes the circuit at
  once, so patients book again within seconds of the HIS recovering rather than after a full
  cool-down, and the listeners (``on_recovery``) release the locks the outage left behind.
* Catalog cache: read-only catalog operations are cached by operation and arguments, fresh for a
  per-operation TTL. While the HIS is unreachable the last good value is served even when expired,
  up to ``max_stale`` seconds old, and the current request is marked (:func:`served_stale`).
  A booking or cancellation marks its schedule's entries out of date rather than dropping them:
  the next read refreshes them (one request, while the others keep the previous value) once
  they are ``min_refresh`` seconds old, so a burst of bookings costs the HIS one refresh per
  entry per ``min_refresh``, not one per booking, and readers never queue behind it.
* Writes pass through the breaker, never cached and never retried here: the booking and payment
  services own retries, because only they know when a request id makes a retry safe. Live data
  (pending bills, queue, compensation queries, the daily payments report) passes through too.
"""
from __future__ import annotations

import contextvars
import dataclasses
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_fixed

from bff.his.port import HisPort, HisRejected, HisUnavailable

log = logging.getLogger("bff.his")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

DEFAULT_TTLS: Mapping[str, float] = {
    "list_departments": 600.0,
    "list_doctors": 600.0,
    "list_schedules": 10.0,  # remaining counts change with every booking
    "get_schedule": 5.0,
    "list_slots": 5.0,
}

_served_stale: contextvars.ContextVar[bool] = contextvars.ContextVar("his_served_stale", default=False)


class CircuitOpen(HisUnavailable):
    """Failed fast: the call never reached the HIS, so it certainly changed nothing there."""

    def __init__(self, message: str = "circuit open"):
        super().__init__(message, sent=False)


def reset_stale() -> None:
    """Forget the stale mark; the BFF calls this at the start of every request."""
    _served_stale.set(False)


def served_stale() -> bool:
    """True when some HIS read in the current request was answered from an expired cache entry."""
    return _served_stale.get()


class CircuitBreaker:
    """Thread-safe consecutive-failure circuit breaker letting one half-open trial through."""

    def __init__(self, failure_threshold: int = 5, reset_timeout: float = 15.0,
                 clock: Callable[[], float] = time.monotonic, name: str = "his",
                 probe: Callable[[], Any] | None = None, probe_interval: float = 2.0,
                 spawn: Callable[[Callable[[], None]], None] | None = None):
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._probe = probe
        self._probe_interval = probe_interval
        self._spawn = spawn or _in_thread
        self._probing = False
        self._last_probe = 0.0
        self._listeners: list[Callable[[], None]] = []
        self._threshold = failure_threshold
        self._reset_timeout = reset_timeout
        self._clock = clock
        self._name = name
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open`` (cool-down over, next call is the trial)."""
        with self._lock:
            self._refresh()
            return self._state

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` unless the circuit is open, recording the outcome."""
        self._admit()
        try:
            result = fn(*args, **kwargs)
        except HisUnavailable:
            self._record_failure()
            raise
        except HisRejected:
            self._record_success()
            raise
        except BaseException:
            # Not a HIS outcome (a bug, an interrupt): free the trial, count nothing.
            self._release_trial()
            raise
        self._record_success()
        return result

    def on_recovery(self, listener: Callable[[], None]) -> None:
        """Call listener (in whatever thread saw it) each time the circuit closes after an outage."""
        self._listeners.append(listener)

    def _admit(self) -> None:
        probe_now = False
        with self._lock:
            self._refresh()
            if self._state == OPEN or (self._state == HALF_OPEN and self._trial_in_flight):
                probe_now = self._state == OPEN and self._probe_due()
                if not probe_now:
                    raise CircuitOpen("circuit open")
            elif self._state == HALF_OPEN:
                self._trial_in_flight = True
        if probe_now:
            self._spawn(self._run_probe)
            raise CircuitOpen("circuit open")

    def _probe_due(self) -> bool:
        """Under the lock: whether this caller should start a health probe (and mark it started)."""
        if self._probe is None or self._probing or self._clock() - self._last_probe < self._probe_interval:
            return False
        self._probing, self._last_probe = True, self._clock()
        return True

    def _run_probe(self) -> None:
        """Ping the HIS; an answer closes the circuit without waiting for the cool-down."""
        try:
            self._probe()
        except HisRejected:
            pass  # an answer all the same
        except Exception as error:  # still down: the next probe is due after probe_interval
            with self._lock:
                self._probing, self._last_probe = False, self._clock()
            log.debug("HIS %s probe failed: %s", self._name, type(error).__name__)
            return
        with self._lock:
            self._probing, self._last_probe = False, self._clock()
        self._record_success()

    def _refresh(self) -> None:
        if self._state == OPEN and self._clock() - self._opened_at >= self._reset_timeout:
            self._transition(HALF_OPEN)

    def _record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._trial_in_flight = False
            recovered = self._state != CLOSED
            if recovered:
                self._transition(CLOSED)
        if recovered:
            self._notify_recovery()

    def _notify_recovery(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:  # a listener's trouble must not fail the call that saw the HIS answer
                log.exception("HIS %s recovery listener failed", self._name)

    def _record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_in_flight = False
            if self._state == HALF_OPEN or (self._state == CLOSED and self._failures >= self._threshold):
                self._opened_at = self._last_probe = self._clock()
                self._transition(OPEN)

    def _release_trial(self) -> None:
        with self._lock:
            self._trial_in_flight = False

    def _transition(self, new: str) -> None:
        old, self._state = self._state, new
        level = logging.WARNING if new == OPEN else logging.INFO
        log.log(level, "HIS %s circuit %s -> %s (consecutive failures: %d, cool-down %.0fs)",
                self._name, old, new, self._failures, self._reset_timeout)


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="his-probe", daemon=True).start()


@dataclass(frozen=True)
class CacheEntry:
    value: Any
    stored_at: float  # clock() when the HIS answered
    outdated: bool = False  # a booking changed what it shows: refresh it soon


class CacheBackend(Protocol):
    """The little a catalog cache must do; an in-process one now, maybe Redis later."""

    def get(self, key: str) -> CacheEntry | None: ...
    def put(self, key: str, entry: CacheEntry) -> None: ...
    def discard(self, key: str) -> None: ...
    def mark_outdated(self, predicate: Callable[[str, CacheEntry], bool]) -> None: ...


class InProcessCache:
    """A bounded LRU dict guarded by a lock."""

    def __init__(self, max_entries: int = 4096):
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CacheEntry | None:
        """The entry under key, marked most recently used, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        """Store entry, evicting the least recently used beyond the bound."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        """Drop key if present."""
        with self._lock:
            self._entries.pop(key, None)

    def mark_outdated(self, predicate: Callable[[str, CacheEntry], bool]) -> None:
        """Mark outdated every entry that predicate(key, entry) accepts."""
        with self._lock:
            for key, entry in self._entries.items():
                if not entry.outdated and predicate(key, entry):
                    self._entries[key] = dataclasses.replace(entry, outdated=True)


def _key(op: str, args: tuple) -> str:
    return f"{op}:{args!r}"


def _through_breaker(op: str) -> Callable[..., Any]:
    # The port's name, docstring and signature (inspect follows __wrapped__); not its abstract mark.
    def method(self: ResilientHis, *args: Any, **kwargs: Any) -> Any:
        return self.breaker.call(getattr(self.adapter, op), *args, **kwargs)
    return functools.update_wrapper(method, getattr(HisPort, op), updated=())


def _copy(value: Any) -> Any:
    # Items are frozen dataclasses; copying the list keeps callers from mutating the cache.
    return list(value) if isinstance(value, list) else value


class ResilientHis(HisPort):
    """A HisPort adding a circuit breaker, a catalog cache with stale fallback, and read retry."""

    def __init__(self, adapter: HisPort, *, failure_threshold: int = 5, reset_timeout: float = 15.0,
                 ttls: Mapping[str, float] | None = None, max_stale: float = 24 * 3600.0,
                 min_refresh: float = 1.0, cache: CacheBackend | None = None, max_entries: int = 4096,
                 read_retries: int = 1, retry_budget: float = 0.5, retry_wait: float = 0.05,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, probe_interval: float = 2.0,
                 spawn: Callable[[Callable[[], None]], None] | None = None):
        self.adapter = adapter
        self.name = adapter.name
        self.breaker = CircuitBreaker(failure_threshold, reset_timeout, clock, name=adapter.name,
                                      probe=adapter.ping, probe_interval=probe_interval, spawn=spawn)
        self.cache: CacheBackend = cache if cache is not None else InProcessCache(max_entries)
        self._ttls = {**DEFAULT_TTLS, **(ttls or {})}
        self._max_stale = max_stale
        self._min_refresh = min_refresh
        self._read_retries = read_retries
        self._retry_budget = retry_budget
        self._retry_wait = retry_wait
        self._clock = clock
        self._sleep = sleep
        # Striped locks: one refresh per key at a time, so a burst of requests for an expired
        # entry costs the slow HIS one call, not one per request.
        self._refresh_locks = [threading.Lock() for _ in range(64)]
        # key -> (count, error) of failed refreshes: a request that queued behind a refresh that
        # failed gets the same answer at once instead of paying another HIS timeout itself.
        self._failures: dict[str, tuple[int, HisUnavailable]] = {}

    def missing_operations(self) -> frozenset[str]:
        """What the adapter's HIS does not offer."""
        return self.adapter.missing_operations()

    @property
    def state(self) -> str:
        """The circuit state, for /readyz and logs."""
        return self.breaker.state

    def invalidate_slots(self, schedule_id: str) -> None:
        """Mark outdated what shows this schedule's remaining places (after a booking or cancel)."""
        own = {_key("get_schedule", (schedule_id,)), _key("list_slots", (schedule_id,))}
        self.cache.mark_outdated(lambda key, entry: key in own or (
            key.startswith("list_schedules:") and any(s.id == schedule_id for s in entry.value)))

    # -- cached reads --------------------------------------------------------------------------

    def list_departments(self):
        """All departments (cached)."""
        return self._read("list_departments", (), self.adapter.list_departments)

    def list_doctors(self, department_code=None):
        """Doctors, optionally of one department (cached)."""
        return self._read("list_doctors", (department_code,), self.adapter.list_doctors)

    def list_schedules(self, department_code=None, doctor_code=None, date_from=None, date_to=None):
        """Schedules (cached briefly)."""
        args = (department_code, doctor_code, date_from, date_to)
        return self._read("list_schedules", args, self.adapter.list_schedules)

    def get_schedule(self, schedule_id):
        """One schedule (cached briefly)."""
        return self._read("get_schedule", (schedule_id,), self.adapter.get_schedule)

    def list_slots(self, schedule_id):
        """Time slots of one schedule (cached briefly)."""
        return self._read("list_slots", (schedule_id,), self.adapter.list_slots)

    def _read(self, op: str, args: tuple, fetch: Callable[..., Any]) -> Any:
        key = _key(op, args)
        entry = self.cache.get(key)
        if self._fresh(op, entry):
            return _copy(entry.value)
        lock = self._refresh_locks[hash(key) % len(self._refresh_locks)]
        # While another request refreshes an expired entry, the previous value serves: it is
        # seconds old and the HIS is answering, so it is not marked stale.
        usable = entry is not None and self._clock() - entry.stored_at <= self._max_stale
        failures_before = self._failures.get(key, (0, None))[0]
        if not lock.acquire(blocking=not usable):
            return _copy(entry.value)
        try:
            entry = self.cache.get(key)
            if self._fresh(op, entry):
                return _copy(entry.value)
            count, failure = self._failures.get(key, (0, None))
            if count != failures_before:  # the refresh we waited for failed just now
                return self._stale_or_raise(op, key, entry, failure)
            try:
                value = self.breaker.call(self._fetch_with_retry, fetch, *args)
            except HisUnavailable as exc:
                if len(self._failures) > 10_000:
                    self._failures.clear()
                self._failures[key] = (count + 1, exc)
                return self._stale_or_raise(op, key, entry, exc)
            self.cache.put(key, CacheEntry(value, self._clock()))
            return _copy(value)
        finally:
            lock.release()

    def _fresh(self, op: str, entry: CacheEntry | None) -> bool:
        if entry is None:
            return False
        ttl = min(self._ttls[op], self._min_refresh) if entry.outdated else self._ttls[op]
        return self._clock() - entry.stored_at < ttl

    def _stale_or_raise(self, op: str, key: str, entry: CacheEntry | None, exc: HisUnavailable) -> Any:
        if entry is None:
            raise exc
        age = self._clock() - entry.stored_at
        if age > self._max_stale:
            self.cache.discard(key)
            raise exc
        _served_stale.set(True)
        log.debug("HIS %s unavailable, serving stale %s (age %.0fs)", self.name, op, age)
        return _copy(entry.value)

    def _fetch_with_retry(self, fetch: Callable[..., Any], *args: Any) -> Any:
        # One quick retry on HisUnavailable, but only when the failure itself was quick (refused
        # connection, reset, garbage answer): a failure slower than retry_budget is most likely the
        # adapter's own timeout, and repeating it would double the caller's wait. So the worst case
        # stays about adapter timeout + retry_budget + retry_wait, never twice the timeout. The
        # breaker sits outside this, so one retried read counts as one failure.
        start = self._clock()

        def stop(state: RetryCallState) -> bool:
            return state.attempt_number > self._read_retries or self._clock() - start >= self._retry_budget

        retrying = Retrying(retry=retry_if_exception_type(HisUnavailable), stop=stop,
                            wait=wait_fixed(self._retry_wait), sleep=self._sleep, reraise=True)
        return retrying(fetch, *args)

    # -- writes and live data: through the breaker, never cached, never retried here ----------

    ping = _through_breaker("ping")
    find_or_create_patient = _through_breaker("find_or_create_patient")
    find_patient = _through_breaker("find_patient")  # identity check: live data, never cached
    lock_slot = _through_breaker("lock_slot")
    unlock_slot = _through_breaker("unlock_slot")
    confirm_registration = _through_breaker("confirm_registration")
    query_registration = _through_breaker("query_registration")
    cancel_registration = _through_breaker("cancel_registration")
    check_in = _through_breaker("check_in")
    queue_status = _through_breaker("queue_status")
    list_pending_bills = _through_breaker("list_pending_bills")
    settle_bills = _through_breaker("settle_bills")
    query_settlement = _through_breaker("query_settlement")
    list_payment_records = _through_breaker("list_payment_records")
    # -- 退费 (refund_bill) --
    refund_bill = _through_breaker("refund_bill")
