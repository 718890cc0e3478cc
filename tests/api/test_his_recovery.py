"""After a stretch of HIS errors: the holds the BFF took are let go, and patients book again, within
seconds of the HIS answering — not after the breaker's cool-down and the recovery age."""
from __future__ import annotations

import datetime as dt

import pytest

from bff.jobs import run_after_his_recovery
from tests.api.booking_helpers import book, find_slot
from tests.conftest import add_patient, login


@pytest.fixture
def app(make_app, his):
    app = make_app(PAYMENT_MODE="online", HOLD_MINUTES=10)
    # What the app factory installs where background work runs; here synchronous, so the test sees it.
    his.breaker.on_recovery(lambda: run_after_his_recovery(app))
    return app


def _outage(client, headers, his_clock) -> None:
    """The HIS stops answering: the breaker opens after three failed reads."""
    for _ in range(3):
        client.get("/api/v1/schedules/no-such/slots", headers=headers)
    his_clock.advance(0.1)


def test_a_hold_that_expired_during_an_outage_is_released_the_moment_the_his_answers(
        app, client, clock, memory_his, his, his_clock):
    from bff.appointments.service import expire_holds

    headers = login(client, "payer")
    patient = add_patient(client, headers)
    tomorrow = clock().date() + dt.timedelta(days=1)
    schedule, slot = find_slot(client, headers, tomorrow)
    held = book(client, headers, patient["id"], schedule, slot).get_json()
    assert held["status"] == "awaiting_payment" and memory_his.live_locks == 1

    memory_his.set_down(True)
    _outage(client, headers, his_clock)
    assert his.state == "open"
    clock.advance(minutes=11)  # the hold lapses while the HIS is down
    with app.app_context():
        expire_holds()
    assert client.get(f"/api/v1/appointments/{held['id']}", headers=headers).get_json()["status"] == "expired"
    assert memory_his.live_locks == 1  # the release could not reach the HIS

    memory_his.set_down(False)  # the HIS is back; two seconds later, far inside the 30 s cool-down…
    his_clock.advance(2)
    client.get(f"/api/v1/schedules/{schedule['id']}/slots", headers=headers)  # any request starts the probe
    assert his.state == "closed"
    assert memory_his.live_locks == 0  # …the hold it kept is let go at once
    other = login(client, "next-patient")
    again = book(client, other, add_patient(client, other)["id"], schedule, slot)
    assert again.status_code == 201, again.get_json()


def test_while_the_his_stays_down_the_release_waits_in_the_outbox_not_lost(
        app, client, clock, memory_his, his, his_clock):
    from bff import outbox
    from bff.appointments.service import expire_holds

    headers = login(client, "payer")
    schedule, slot = find_slot(client, headers, clock().date() + dt.timedelta(days=1))
    book(client, headers, add_patient(client, headers)["id"], schedule, slot)
    memory_his.set_down(True)
    _outage(client, headers, his_clock)
    clock.advance(minutes=11)
    with app.app_context():
        expire_holds()
        his_clock.advance(5)  # a probe finds the HIS still down
        with pytest.raises(Exception, match="circuit open"):
            his.unlock_slot("probe-trigger")
        assert his.state == "open"
        assert outbox.pending_count() == 1  # the release is kept for when the HIS answers
    assert memory_his.live_locks == 1


def test_recovery_brings_forward_only_work_that_failed_not_delays_on_purpose(app):
    from bff import outbox
    from bff.extensions import db

    with app.app_context():
        outbox.enqueue("finish_cancel", "guard-1", {}, delay=dt.timedelta(minutes=5))  # waits for a cancel in flight
        outbox.enqueue("release_his_lock", "retry-1", {}, delay=dt.timedelta(minutes=5))
        db.session.execute(db.update(outbox.OutboxMessage).where(outbox.OutboxMessage.key == "retry-1")
                           .values(attempts=3))  # failed three times, now in backoff
        db.session.commit()
        assert outbox.make_all_due() == 1
        due = dict(db.session.execute(db.select(outbox.OutboxMessage.key, outbox.OutboxMessage.due_at)).all())
        assert due["guard-1"] > due["retry-1"]


def test_a_queued_release_leaves_alone_a_place_a_late_payment_took_back(app, client, clock, memory_his, his_clock):
    from bff.appointments.models import Appointment
    from bff.appointments.service import expire_holds
    from bff.extensions import db
    from bff.jobs import run_outbox

    headers = login(client, "payer")
    schedule, slot = find_slot(client, headers, clock().date() + dt.timedelta(days=1))
    held = book(client, headers, add_patient(client, headers)["id"], schedule, slot).get_json()
    memory_his.set_down(True)
    _outage(client, headers, his_clock)
    clock.advance(minutes=11)
    with app.app_context():
        expire_holds()  # the release is queued: the HIS is down
        row = db.session.get(Appointment, held["id"])
        row.status = "paid"  # the money came after all and the place was taken again under the same request id
        db.session.commit()
    memory_his.set_down(False)
    his_clock.advance(60)
    run_outbox(app)
    assert memory_his.live_locks == 1  # the stale release did not free the place the patient paid for
