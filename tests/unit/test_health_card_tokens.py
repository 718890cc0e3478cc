"""The app-token cache with an in-process fetch: one fetch at a time, early refresh, invalidation."""
from __future__ import annotations

import datetime as dt
import itertools
import threading
import time

import pytest

from health_card.errors import HealthCardUnavailable
from health_card.models import AppToken
from health_card.tokens import AppTokenCache

T0 = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


class Fetcher:
    """Hands out token-1, token-2 … valid 7200 s from the clock; can be slowed, held or made to fail."""

    def __init__(self, clock, delay=0.0):
        self.clock, self.delay, self.calls = clock, delay, 0
        self.numbers = itertools.count(1)
        self.hold = threading.Event()
        self.hold.set()
        self.fail = False

    def __call__(self):
        self.calls += 1
        self.hold.wait(5)
        time.sleep(self.delay)
        if self.fail:
            raise HealthCardUnavailable("down")
        return AppToken(f"token-{next(self.numbers)}", self.clock() + dt.timedelta(seconds=7200))


def test_concurrent_callers_share_one_fetch():
    clock = Clock()
    fetch = Fetcher(clock, delay=0.05)
    cache = AppTokenCache(fetch, clock)
    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.current())) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert got == ["token-1"] * 10 and fetch.calls == 1


def test_inside_the_margin_one_caller_refreshes_while_the_others_keep_the_old_token():
    clock = Clock()
    fetch = Fetcher(clock)
    cache = AppTokenCache(fetch, clock, refresh_margin=300)
    assert cache.current() == "token-1"
    clock.now += dt.timedelta(seconds=7200 - 100)
    fetch.hold.clear()  # the refresh hangs until released
    refresher = threading.Thread(target=cache.current)
    refresher.start()
    time.sleep(0.05)
    started = time.perf_counter()
    assert cache.current() == "token-1"  # not waiting for the refresh
    assert time.perf_counter() - started < 0.05
    fetch.hold.set()
    refresher.join(5)
    assert cache.current() == "token-2" and fetch.calls == 2


def test_a_failed_early_refresh_keeps_the_old_token():
    clock = Clock()
    fetch = Fetcher(clock)
    cache = AppTokenCache(fetch, clock, refresh_margin=300)
    cache.current()
    clock.now += dt.timedelta(seconds=7000)
    fetch.fail = True
    assert cache.current() == "token-1"
    fetch.fail = False
    assert cache.current() == "token-2"


def test_an_expired_token_is_never_handed_out():
    clock = Clock()
    fetch = Fetcher(clock)
    cache = AppTokenCache(fetch, clock)
    cache.current()
    clock.now += dt.timedelta(seconds=7200)
    fetch.fail = True
    with pytest.raises(HealthCardUnavailable):
        cache.current()


def test_invalidate_drops_only_the_refused_token():
    clock = Clock()
    fetch = Fetcher(clock)
    cache = AppTokenCache(fetch, clock)
    cache.current()
    cache.invalidate("token-0")  # a stale refusal of an older token: keep the current one
    assert cache.current() == "token-1"
    cache.invalidate("token-1")
    assert cache.current() == "token-2" and fetch.calls == 2
