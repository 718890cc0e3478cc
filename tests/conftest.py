"""Fixtures shared by every layer: an app on a fresh SQLite file with in-process fakes."""
from __future__ import annotations

import itertools

import pytest

from tests.fakes import FakeClock, FakeWxLogin, resident_id

pytest_plugins = ["tests.integration.healthcard_platform"]  # the platform simulator, for any layer that needs it

_ids = itertools.count(1)

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "HIS_ADAPTER": "memory",
    "RATELIMIT_STORAGE_URI": "memory://",
    "JOBS_IN_PROCESS": False,
    "BOOKING_RATE_LIMIT": "1000/minute",
    "PAYMENT_GATEWAYS": "dummy",
}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def memory_his(clock):
    from bff.his.adapters.memory import MemoryHis

    return MemoryHis(now=clock)


class MonotonicClock:
    """Seconds for the HIS cache and breaker, moved by hand."""

    def __init__(self):
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@pytest.fixture
def his_clock():
    return MonotonicClock()


@pytest.fixture
def his(memory_his, his_clock):
    """The memory HIS behind the same breaker and cache the real app uses."""
    from bff.his.resilience import ResilientHis

    # Health probes of an open circuit run inline (in a thread of their own in the app), when his_clock says.
    return ResilientHis(memory_his, failure_threshold=3, reset_timeout=30.0, read_retries=0, clock=his_clock,
                        spawn=lambda work: work())


@pytest.fixture
def make_app(tmp_path, his, clock):
    """Build an app with config overrides; tables come from the real migrations."""
    from flask_migrate import upgrade

    from bff.app import create_app

    def build(health_card=None, **overrides):
        config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/bff-{next(_ids)}.sqlite3",
                  "RECONCILE_DIR": str(tmp_path / "reconciliation"), **overrides}
        app = create_app(config, his=his, wx_login=FakeWxLogin(), clock=clock, health_card=health_card)
        with app.app_context():
            upgrade(directory="migrations")
        return app

    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, code: str = "alice") -> dict:
    """Log in as the WeChat user behind code; answer the auth header."""
    response = client.post("/api/v1/auth/wx-login", json={"code": code})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": "Bearer " + response.get_json()["token"]}


def add_patient(client, headers, seq: int | None = None, **fields) -> dict:
    """Add a valid patient; answer the created record."""
    body = {"name": "张三", "id_type": "01", "id_number": resident_id(seq if seq is not None else next(_ids)),
            "phone": "13912345678", "relation": "self", **fields}
    response = client.post("/api/v1/patients", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def alice(client):
    return login(client, "alice")


@pytest.fixture
def bob(client):
    return login(client, "bob")
