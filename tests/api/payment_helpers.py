"""Paying for bookings through the API with the in-memory gateway, as the mini-program and gateway would."""
from __future__ import annotations

import datetime as dt

from bff.extensions import db
from bff.jobs import run_outbox
from tests.api.booking_helpers import book, find_slot
from tests.conftest import add_patient


def gateway(app, channel: str = "wechat"):
    """The dummy gateway serving a channel."""
    return app.extensions["payment_gateways"].for_app(channel)


def booked(client, headers, clock, days: int = 1):
    """A new patient's booking awaiting payment: (appointment JSON, patient JSON)."""
    patient = add_patient(client, headers)
    schedule, slot = find_slot(client, headers, clock().date() + dt.timedelta(days=days))
    response = book(client, headers, patient["id"], schedule, slot)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "awaiting_payment"
    return response.get_json(), patient


def start_payment(client, headers, appointment_id: str, channel: str = "wechat", **extra):
    """POST /api/v1/payments for a booking; the created payment JSON."""
    response = client.post("/api/v1/payments", headers=headers,
                           json={"order_type": "appointment", "order_id": appointment_id, "channel": channel, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def paid_booking(app, client, headers, clock, days: int = 1):
    """A booking paid through the gateway and settled by the outbox: (appointment JSON, payment JSON)."""
    appointment, _ = booked(client, headers, clock, days)
    payment = start_payment(client, headers, appointment["id"])
    notify(client, gateway(app).pay(payment["out_trade_no"]))
    settle(app)
    return appointment, payment


def refunds_complete(app, client, channel: str = "wechat", notify_channel: str = "wechatpay") -> list[int]:
    """The bank finishes the refunds and the gateway tells us; the BFF's answer to each notification."""
    dummy = gateway(app, channel)
    answers = [notify(client, dummy.refund_notification(no), notify_channel).status_code
               for no in dummy.settle_refunds()]
    settle(app)
    return answers


def notify(client, body: bytes, channel: str = "wechatpay"):
    """Deliver a gateway notification to the BFF."""
    return client.post(f"/notify/{channel}", data=body, content_type="application/json")


def settle(app) -> None:
    """Let time pass for the outbox: everything queued runs now, retries included (several passes)."""
    from bff.outbox import OutboxMessage

    for _ in range(6):
        with app.app_context():
            db.session.execute(db.update(OutboxMessage).where(OutboxMessage.status == "pending")
                               .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
            db.session.commit()
            db.session.remove()
        run_outbox(app)


def balance(app) -> dict:
    """The money invariant as the BFF computes it."""
    from bff.payments.records import money_balance

    with app.app_context():
        try:
            return money_balance()
        finally:
            db.session.remove()


def assert_money_holds(app) -> dict:
    """captured = fulfilled + refunded, to the fen, with nothing left in flight."""
    money = balance(app)
    assert money["in_flight"] == 0, money
    assert money["captured"] == money["fulfilled"] + money["refunded"], money
    assert money["ledger_net"] == money["captured"] - money["refunded"], money
    return money
