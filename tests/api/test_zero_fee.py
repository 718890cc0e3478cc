"""A free clinic (义诊, fee 0) in online payment mode: booked and confirmed at once, nothing to pay."""
from __future__ import annotations

import datetime as dt

import pytest

from bff.extensions import db
from tests.api.booking_helpers import book
from tests.conftest import add_patient


@pytest.fixture
def app(make_app):
    return make_app(PAYMENT_MODE="online", HOLD_MINUTES=10)


def _free_clinic(client, headers, memory_his, clock):
    day = clock().date() + dt.timedelta(days=1)
    schedule_id, slot_ids = memory_his.add_schedule("0101", "D0101", day, "pm", capacity=2, fee=0)
    listed = client.get(f"/api/v1/schedules?department=0101&date_from={day}&date_to={day}", headers=headers)
    schedule = next(s for s in listed.get_json()["items"] if s["id"] == schedule_id)
    assert schedule["fee"] == 0
    return schedule, {"id": slot_ids[0]}


def test_a_zero_fee_booking_is_confirmed_at_once_without_a_payment_or_a_hold(app, client, alice, clock,
                                                                              memory_his):
    patient = add_patient(client, alice)
    schedule, slot = _free_clinic(client, alice, memory_his, clock)
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 201, response.get_json()
    booked = response.get_json()
    assert booked["status"] == "confirmed" and booked["fee"] == 0
    assert booked["hold_expires_at"] is None and booked["payment"] is None and booked["visit_no"]
    assert memory_his.live_registrations == 1 and memory_his.stats()["locks"] == 0
    again = client.get(f"/api/v1/appointments/{booked['id']}", headers=alice).get_json()
    assert again["status"] == "confirmed"
    pay = client.post("/api/v1/payments", headers=alice,
                      json={"order_type": "appointment", "order_id": booked["id"], "channel": "wechat"})
    assert pay.status_code == 409 and pay.get_json()["error"]["code"] == "ORDER_NOT_PAYABLE"
    _assert_no_payment(app)


def test_a_zero_fee_booking_never_expires_as_unpaid(app, client, alice, clock, memory_his):
    from bff.jobs import run_periodic

    patient = add_patient(client, alice)
    schedule, slot = _free_clinic(client, alice, memory_his, clock)
    booked = book(client, alice, patient["id"], schedule, slot).get_json()
    clock.advance(minutes=30)
    run_periodic(app)
    assert client.get(f"/api/v1/appointments/{booked['id']}", headers=alice).get_json()["status"] == "confirmed"


def test_a_paid_clinic_still_waits_for_the_payment(client, alice, clock, memory_his):
    patient = add_patient(client, alice)
    day = clock().date() + dt.timedelta(days=1)
    schedule_id, slot_ids = memory_his.add_schedule("0101", "D0101", day, "pm", capacity=2)
    booked = book(client, alice, patient["id"], {"id": schedule_id}, {"id": slot_ids[0]}).get_json()
    assert booked["status"] == "awaiting_payment" and booked["fee"] == 5000 and booked["hold_expires_at"]


def _assert_no_payment(app):
    from bff.payments.models import Payment

    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Payment)).scalar() == 0
        db.session.remove()
