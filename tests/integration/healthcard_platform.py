"""Fixtures: the health card platform simulator on a free loopback port, with two hospitals' apps.

App secrets are made at set-up. Client and simulator share one clock: real time plus an offset
a test may move forward (``platform.clock.advance(seconds=...)``), so time travel keeps request
timestamps and the platform's view in step.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import requests
from werkzeug.serving import make_server

from health_card import HealthCardClient
from sandbox.healthcard import create_app

TZ = ZoneInfo("Asia/Shanghai")


class ShiftedClock:
    """Real time plus an offset moved by hand."""

    def __init__(self):
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(TZ) + self.offset

    def advance(self, **delta) -> None:
        self.offset += dt.timedelta(**delta)


class PlatformControl:
    """The simulator's address, its apps, its clock and its /_control/ API."""

    def __init__(self, base_url: str, apps: dict[str, dict], clock: ShiftedClock):
        self.base_url, self.apps, self.clock = base_url, apps, clock

    def get(self, path: str, **params) -> dict:
        resp = requests.get(f"{self.base_url}/_control/{path}", params=params, timeout=5)
        resp.raise_for_status()
        return resp.json()

    def post(self, path: str, body: dict | None = None, expect: int = 200) -> dict:
        resp = requests.post(f"{self.base_url}/_control/{path}", json=body or {}, timeout=5)
        assert resp.status_code == expect, resp.text
        return resp.json()

    def reports(self, **filters) -> list[dict]:
        return self.get("reports", **filters)["items"]

    def bindings(self) -> list[dict]:
        return self.get("bindings")["items"]

    def stats(self) -> dict:
        return self.get("stats")

    def calls(self, operation: str) -> int:
        return self.stats()["calls"].get(operation, 0)

    def faults(self, **settings) -> dict:
        return self.post("faults", settings)

    def reset(self) -> None:
        self.post("reset")
        self.clock.offset = dt.timedelta()

    def client(self, app: str = "a", **overrides) -> HealthCardClient:
        """A client of one hospital's app, fast-failing for tests; any constructor argument may be overridden."""
        args = {"base_url": self.base_url, **self.apps[app], "timeout": 2.0, "retry_backoff": 0.01,
                "clock": self.clock, **overrides}
        return HealthCardClient(**args)


@pytest.fixture(scope="session")
def healthcard_platform() -> Iterator[PlatformControl]:
    """The simulator for the whole session: hospital 10001 (app a) and 10002 (app b)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    apps = {"a": {"app_id": "hc-test-app-a", "app_secret": secrets.token_urlsafe(24), "hospital_id": "10001"},
            "b": {"app_id": "hc-test-app-b", "app_secret": secrets.token_urlsafe(24), "hospital_id": "10002"}}
    clock = ShiftedClock()
    server = make_server("127.0.0.1", 0, create_app(list(apps.values()), clock=clock), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-healthcard", daemon=True)
    thread.start()
    try:
        yield PlatformControl(f"http://127.0.0.1:{server.server_port}", apps, clock)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def platform(healthcard_platform: PlatformControl) -> Iterator[PlatformControl]:
    """The simulator emptied, faults off and the clock back to now, before and after the test."""
    healthcard_platform.reset()
    yield healthcard_platform
    healthcard_platform.reset()


