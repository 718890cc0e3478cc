"""Races on the real PostgreSQL server: the BFF itself never double-books.

The HIS here is the in-memory one on purpose: these tests prove the BFF's own guards (unique
constraint, slot counter, compare-and-set transitions) hold under concurrency on PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.api.booking_helpers import find_slot
from tests.conftest import TEST_CONFIG, add_patient, login
from tests.fakes import FakeWxLogin
from tests.pg import DATABASE_URL, dispose, fresh_schema


@pytest.fixture
def pg_config():
    """Config overrides for the app on PostgreSQL (a test may change them before using pg_app)."""
    return {}


@pytest.fixture
def pg_app(his, clock, pg_config):
    """An app on a fresh PostgreSQL schema, migrated with the real migrations."""
    from flask_migrate import upgrade

    from bff.app import create_app

    with fresh_schema() as (schema, url):
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url,
                          "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 10}, **pg_config},
                         his=his, wx_login=FakeWxLogin(), clock=clock)
        app.config["PG_SCHEMA"] = schema
        with app.app_context():
            upgrade(directory="migrations")
            assert "postgresql" in str(app.extensions["sqlalchemy"].engine.url)
        yield app
        dispose(app)


def _race(app, calls):
    """Run each call with its own test client, all at once."""
    def run(call):
        return call(app.test_client())

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_many_users_race_for_one_slot(pg_app, clock, memory_his):
    client = pg_app.test_client()
    tomorrow = clock().date() + dt.timedelta(days=1)
    schedule, slot = find_slot(client, login(client, "scout"), tomorrow)
    racers = []
    for n in range(16):
        headers = login(client, f"racer-{n}")
        racers.append((headers, add_patient(client, headers)["id"]))

    def attempt(headers, patient_id):
        return lambda c: c.post("/api/v1/appointments", headers=headers, json={
            "patient_id": patient_id, "schedule_id": schedule["id"], "slot_id": slot["id"]})

    results = _race(pg_app, [attempt(h, p) for h, p in racers])
    codes = [r.status_code for r in results]
    assert codes.count(201) == slot["remaining"]
    assert {r.get_json()["error"]["code"] for r in results if r.status_code != 201} == {"SLOT_FULL"}
    assert memory_his.live_registrations == slot["remaining"] and memory_his.live_locks == 0
    with pg_app.app_context():
        from bff.extensions import db

        booked = db.session.execute(sa.text("SELECT booked, capacity FROM slot_counters WHERE slot_id = :s"),
                                    {"s": slot["id"]}).one()
        assert booked.booked == slot["remaining"] <= booked.capacity


def test_one_patient_racing_for_the_same_day_gets_one_booking(pg_app, clock, memory_his):
    client = pg_app.test_client()
    headers = login(client, "eager")
    patient_id = add_patient(client, headers)["id"]
    tomorrow = clock().date() + dt.timedelta(days=1)
    schedule, _ = find_slot(client, headers, tomorrow)
    slots = [s for s in client.get(f"/api/v1/schedules/{schedule['id']}/slots", headers=headers).get_json()["items"]
             if s["remaining"] > 0][:6]

    def attempt(slot):
        return lambda c: c.post("/api/v1/appointments", headers=headers, json={
            "patient_id": patient_id, "schedule_id": schedule["id"], "slot_id": slot["id"]})

    results = _race(pg_app, [attempt(s) for s in slots])
    assert [r.status_code for r in results].count(201) == 1
    assert {r.get_json()["error"]["code"] for r in results if r.status_code != 201} <= {
        "DUPLICATE_BOOKING", "BOOKING_IN_PROGRESS"}
    assert memory_his.live_registrations == 1


def test_same_idempotency_key_sent_twice_at_once_books_once(pg_app, clock, memory_his):
    client = pg_app.test_client()
    auth = login(client, "double-tap")
    patient_id = add_patient(client, auth)["id"]
    headers = {**auth, "Idempotency-Key": "tap-1"}
    schedule, slot = find_slot(client, headers, clock().date() + dt.timedelta(days=2))
    body = {"patient_id": patient_id, "schedule_id": schedule["id"], "slot_id": slot["id"]}
    results = _race(pg_app, [lambda c: c.post("/api/v1/appointments", headers=headers, json=body)] * 4)
    created = {r.get_json()["id"] for r in results if r.status_code == 201}
    assert len(created) == 1 and memory_his.live_registrations == 1
    assert all(r.status_code == 201 or r.get_json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS" for r in results)


@pytest.mark.parametrize("pg_config", [{"DB_PING_IDLE_SECONDS": 0.2}])
def test_requests_after_the_database_dropped_idle_connections_still_succeed(pg_app):
    """A restart or a firewall kills pooled connections while they sit idle: nobody sees an error."""
    client = pg_app.test_client()
    headers = login(client, "after-restart")
    assert client.get("/api/v1/patients", headers=headers).status_code == 200
    admin = sa.create_engine(DATABASE_URL)
    with admin.begin() as connection:
        killed = connection.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :app"),
            {"app": pg_app.config["PG_SCHEMA"]}).scalar()
    admin.dispose()
    assert killed >= 1
    time.sleep(pg_app.config["DB_PING_IDLE_SECONDS"] + 0.1)
    for _ in range(3):
        assert client.get("/api/v1/patients", headers=headers).status_code == 200


def test_the_ledger_is_append_only_on_postgresql(pg_app):
    with pg_app.app_context():
        from bff.extensions import db

        for statement in ("UPDATE ledger_entries SET amount = 1", "DELETE FROM ledger_entries",
                          "TRUNCATE ledger_entries"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(sa.text(statement))
            db.session.rollback()


@pytest.mark.parametrize("pg_config", [{"PAYMENT_MODE": "online"}])
def test_the_same_notification_arriving_at_once_is_one_capture_on_postgresql(pg_app, clock):
    from bff.extensions import db
    from bff.jobs import run_outbox
    from bff.payments.models import LedgerEntry, PaymentNotification

    client = pg_app.test_client()
    headers = login(client, "payer")
    patient_id = add_patient(client, headers)["id"]
    schedule, slot = find_slot(client, headers, clock().date() + dt.timedelta(days=1))
    appointment = client.post("/api/v1/appointments", headers=headers, json={
        "patient_id": patient_id, "schedule_id": schedule["id"], "slot_id": slot["id"]}).get_json()
    payment = client.post("/api/v1/payments", headers=headers, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"}).get_json()
    body = pg_app.extensions["payment_gateways"].for_app("wechat").pay(payment["out_trade_no"])
    results = _race(pg_app, [lambda c: c.post("/notify/wechatpay", data=body,
                                              content_type="application/json")] * 6)
    assert {r.status_code for r in results} == {204}
    run_outbox(pg_app)
    with pg_app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(PaymentNotification)).scalar() == 1
        assert [tuple(r) for r in db.session.execute(db.select(LedgerEntry.kind, LedgerEntry.amount))] == [
            ("capture", appointment["fee"])]
    assert client.get(f"/api/v1/appointments/{appointment['id']}", headers=headers).get_json()["status"] == \
        "confirmed"


def test_wrong_passwords_sent_at_once_still_lock_the_staff_account(pg_app):
    from bff.extensions import db
    from bff.staff import service

    with pg_app.app_context():
        service.create("reg09", "测试挂号", ["registrar"], "Right#Pass2026")
        db.session.remove()
    wrong = {"username": "reg09", "password": "wrong-password-1"}
    results = _race(pg_app, [lambda c: c.post("/api/v1/staff/login", json=wrong)] * 8)
    assert 429 in {r.status_code for r in results}, [r.status_code for r in results]  # every guess counted
    right = pg_app.test_client().post("/api/v1/staff/login", json={"username": "reg09", "password": "Right#Pass2026"})
    assert right.status_code == 429 and right.get_json()["error"]["code"] == "STAFF_LOCKED"


@pytest.mark.parametrize("pg_config", [{"PAYMENT_MODE": "online"}])
def test_a_database_at_0005_upgrades_with_its_payments_whole_on_postgresql(pg_app, clock, pg_config):
    from tests.api.test_migrations import upgrade_from_0005_keeps_the_money_story

    client = pg_app.test_client()
    upgrade_from_0005_keeps_the_money_story(pg_app, client, login(client, "migrant"), clock)
