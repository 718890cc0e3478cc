"""Online payment of bookings with the in-memory gateway: the money always ends confirmed or refunded."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from bff.extensions import db
from tests.api.payment_helpers import (
    assert_money_holds,
    balance,
    booked,
    gateway,
    notify,
    paid_booking,
    refunds_complete,
    settle,
    start_payment,
)
from tests.conftest import login
from tests.fakes import fill_slot


@pytest.fixture
def app(make_app):
    return make_app(PAYMENT_MODE="online", HOLD_MINUTES=10)


def _request_id(app, appointment_id):
    from bff.appointments.models import Appointment

    with app.app_context():
        request_id = db.session.get(Appointment, appointment_id).request_id
        db.session.remove()
        return request_id


def _fill_slot(his, appointment) -> int:
    return fill_slot(his, appointment["schedule"]["id"], appointment["slot"]["id"])


def _appointment(client, headers, appointment_id):
    return client.get(f"/api/v1/appointments/{appointment_id}", headers=headers).get_json()


def _ledger(app):
    from bff.payments.models import LedgerEntry

    with app.app_context():
        rows = db.session.execute(db.select(LedgerEntry.kind, LedgerEntry.amount).order_by(LedgerEntry.id)).all()
        db.session.remove()
        return [tuple(r) for r in rows]


def test_paying_a_booking_confirms_it_in_the_his_with_the_trade_number(app, client, alice, clock, memory_his):
    appointment, _ = booked(client, alice, clock)
    assert dt.datetime.fromisoformat(appointment["hold_expires_at"]) == clock() + dt.timedelta(minutes=10)
    payment = start_payment(client, alice, appointment["id"])
    assert payment["status"] == "pending" and payment["amount"] == appointment["fee"]
    assert payment["pay_params"]["package"].startswith("prepay_id=")
    again = start_payment(client, alice, appointment["id"])
    assert again["id"] == payment["id"]  # paying again reuses the open trade

    assert notify(client, gateway(app).pay(payment["out_trade_no"])).status_code == 204
    assert _appointment(client, alice, appointment["id"])["payment"]["status"] == "paid"  # the HIS work follows
    settle(app)
    shown = _appointment(client, alice, appointment["id"])
    assert shown["status"] == "confirmed" and shown["payment"]["status"] == "paid"
    registration = memory_his.query_registration(_request_id(app, appointment["id"]))
    assert registration is not None and registration.status == "registered" and memory_his.live_locks == 0
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=alice).get_json()["status"] == "paid"
    assert _ledger(app) == [("capture", appointment["fee"])]
    assert_money_holds(app)


def test_the_same_notification_ten_times_counts_once(app, client, alice, clock, memory_his):
    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    body = gateway(app).pay(payment["out_trade_no"])
    answers = {notify(client, body).status_code for _ in range(10)}
    settle(app)
    assert answers == {204}
    assert _ledger(app) == [("capture", appointment["fee"])]
    assert memory_his.live_registrations == 1
    assert_money_holds(app)


@pytest.mark.parametrize("tamper", ["signature", "amount", "merchant"])
def test_a_forged_or_mismatched_notification_changes_nothing(app, client, alice, clock, tamper, caplog):
    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    dummy = gateway(app)
    dummy.settle_late(payment["out_trade_no"])  # paid at the gateway; what reaches us is tampered
    if tamper == "signature":
        outer = json.loads(dummy.payment_notification(payment["out_trade_no"]))
        outer["signature"] = "0" * 64
        body = json.dumps(outer).encode()
    elif tamper == "amount":
        body = dummy.payment_notification(payment["out_trade_no"], amount=1)
    else:
        body = dummy.payment_notification(payment["out_trade_no"], mchid="M-SOMEONE-ELSE")
    assert notify(client, body).status_code == 500  # refused: the gateway keeps the real one coming
    settle(app)
    assert _appointment(client, alice, appointment["id"])["status"] == "awaiting_payment"
    assert _ledger(app) == []
    assert any(r.levelname in ("WARNING", "ERROR") and "rejected" in r.getMessage() for r in caplog.records)


def test_a_lost_notification_is_found_by_the_stuck_payment_query(app, client, alice, clock, memory_his):
    from bff.jobs import run_job
    from bff.payments.service import settle_stuck

    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    gateway(app).pay(payment["out_trade_no"])  # the notification never arrives
    run_job(app, "stuck", lambda: settle_stuck(dt.timedelta(seconds=-1)))
    settle(app)
    assert _appointment(client, alice, appointment["id"])["status"] == "confirmed"
    assert memory_his.live_registrations == 1
    assert_money_holds(app)


def test_polling_the_payment_asks_the_gateway_so_the_result_shows_at_once(app, client, alice, clock):
    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    gateway(app).pay(payment["out_trade_no"])
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=alice).get_json()["status"] == "paid"


def test_his_refusing_the_paid_confirmation_refunds_automatically(app, client, alice, clock, memory_his):
    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    memory_his.unlock_slot(_request_id(app, appointment["id"]))  # the HIS let the hold go on its own…
    at_the_window = _fill_slot(memory_his, appointment)  # …and the window gave the place away
    notify(client, gateway(app).pay(payment["out_trade_no"]))
    settle(app)
    shown = _appointment(client, alice, appointment["id"])
    assert shown["status"] == "cancelled" and shown["payment"]["status"] == "refunding"
    _refund_completes(app, client)
    shown = _appointment(client, alice, appointment["id"])
    assert shown["status"] == "refunded" and shown["payment"]["refunds"][0]["status"] == "succeeded"
    assert memory_his.live_locks == at_the_window and memory_his.live_registrations == 0  # none of ours
    assert _ledger(app) == [("capture", appointment["fee"]), ("refund", -appointment["fee"])]
    assert_money_holds(app)


def test_a_lock_the_his_dropped_is_taken_again_when_the_place_is_free(app, client, alice, clock, memory_his):
    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    memory_his.unlock_slot(_request_id(app, appointment["id"]))  # the HIS let the hold go on its own
    notify(client, gateway(app).pay(payment["out_trade_no"]))
    settle(app)
    assert _appointment(client, alice, appointment["id"])["status"] == "confirmed"  # paid, so kept
    assert memory_his.live_locks == 0 and memory_his.live_registrations == 1
    assert_money_holds(app)


def _refund_completes(app, client):
    """The bank finishes the refunds and the gateway tells us."""
    assert all(status == 204 for status in refunds_complete(app, client))


def test_cancelling_a_paid_booking_refunds_it(app, client, alice, clock, memory_his):
    appointment, _ = paid_booking(app, client, alice, clock)
    cancelled = client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice).get_json()
    assert cancelled["status"] == "cancelled" and memory_his.live_registrations == 0
    settle(app)
    _refund_completes(app, client)
    shown = _appointment(client, alice, appointment["id"])
    assert shown["status"] == "refunded" and shown["payment"]["status"] == "refunded"
    assert_money_holds(app)


def test_a_cancellation_cut_short_after_the_his_let_go_is_finished_and_refunded(app, client, alice, clock,
                                                                                 memory_his, monkeypatch):
    from bff.appointments import state

    appointment, _ = paid_booking(app, client, alice, clock)
    real_move = state.move

    def dies_after_the_his(row, to_status, *args, **kwargs):
        if to_status == "cancelled":
            raise SystemExit("the BFF process was killed")  # after the HIS cancelled, before our commit
        return real_move(row, to_status, *args, **kwargs)

    monkeypatch.setattr(state, "move", dies_after_the_his)
    with pytest.raises(SystemExit):
        client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    monkeypatch.setattr(state, "move", real_move)
    assert memory_his.live_registrations == 0  # the HIS let it go…
    assert _appointment(client, alice, appointment["id"])["status"] == "confirmed"  # …we had not yet
    settle(app)  # after the restart, the guard queued before the HIS call finishes our side
    assert _appointment(client, alice, appointment["id"])["status"] == "cancelled"
    _refund_completes(app, client)
    assert _appointment(client, alice, appointment["id"])["status"] == "refunded"
    assert_money_holds(app)


def test_a_cancel_racing_the_payment_it_finds_waits_for_the_confirmation(app, client, alice, clock, memory_his,
                                                                           monkeypatch):
    from bff.jobs import run_outbox
    from bff.payments import service as cashier

    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    gateway(app).pay(payment["out_trade_no"])  # paid; the notification is still on its way
    real_close = cashier.close_trade

    def close_while_the_outbox_runs(live):
        real_close(live)  # finds the trade paid…
        memory_his.fail_next("confirm_registration")
        run_outbox(app)  # …and the outbox marks the booking paid at once, its HIS confirmation still going

    monkeypatch.setattr(cashier, "close_trade", close_while_the_outbox_runs)
    answer = client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "CONFIRMING"
    monkeypatch.setattr(cashier, "close_trade", real_close)
    settle(app)
    assert _appointment(client, alice, appointment["id"])["status"] == "confirmed"
    assert client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice).status_code == 200
    settle(app)
    _refund_completes(app, client)
    assert _appointment(client, alice, appointment["id"])["status"] == "refunded"
    assert memory_his.live_registrations == 0 and memory_his.live_locks == 0
    assert_money_holds(app)


def test_a_cancellation_the_his_never_received_leaves_the_booking_as_it_was(app, client, alice, clock,
                                                                             memory_his):
    appointment, _ = paid_booking(app, client, alice, clock)
    memory_his.fail_next("cancel_registration")  # no answer: did the HIS cancel? the guard asks it later
    assert client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice).status_code == 503
    settle(app)
    assert _appointment(client, alice, appointment["id"])["status"] == "confirmed"
    assert memory_his.live_registrations == 1
    assert_money_holds(app)


def test_a_refund_the_gateway_closes_is_asked_again_until_the_money_is_back(app, client, alice, clock):
    from payments.interface import RefundState

    appointment, _ = paid_booking(app, client, alice, clock)
    client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    settle(app)
    dummy = gateway(app)
    for out_refund_no in dummy.settle_refunds(RefundState.CLOSED):  # the bank closed it, no money moved
        assert notify(client, dummy.refund_notification(out_refund_no)).status_code == 204
    settle(app)
    shown = _appointment(client, alice, appointment["id"])
    assert shown["status"] == "cancelled" and [r["status"] for r in shown["payment"]["refunds"]] == [
        "failed", "processing"]  # asked again under a new number
    _refund_completes(app, client)
    shown = _appointment(client, alice, appointment["id"])
    assert shown["status"] == "refunded" and shown["payment"]["status"] == "refunded"
    assert _ledger(app) == [("capture", appointment["fee"]), ("refund", -appointment["fee"])]
    assert_money_holds(app)


def test_a_refund_closed_again_and_again_is_left_to_a_person_after_two_more_tries(app, client, alice, clock, caplog):
    from payments.interface import RefundState

    appointment, _ = paid_booking(app, client, alice, clock)
    client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    settle(app)
    dummy = gateway(app)
    with caplog.at_level("ERROR", logger="bff.payments"):
        for _ in range(4):  # more closes than the BFF re-asks
            for out_refund_no in dummy.settle_refunds(RefundState.CLOSED):
                notify(client, dummy.refund_notification(out_refund_no))
            settle(app)
    refunds = _appointment(client, alice, appointment["id"])["payment"]["refunds"]
    # the first and two more, then a person: the last one waits in the admins' list
    assert [r["status"] for r in refunds] == ["failed", "failed", "refund_failed"]
    assert any("needs a person" in r.getMessage() for r in caplog.records)


def test_a_refund_the_gateway_refuses_for_good_is_asked_once_and_left_to_a_person(app, client, alice, clock, caplog):
    from bff.payments.models import Refund

    appointment, _ = paid_booking(app, client, alice, clock)
    dummy = gateway(app)
    dummy.refuse_refunds = "NOT_ENOUGH"  # the merchant's balance is short
    client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    with caplog.at_level("ERROR", logger="bff.payments"):
        settle(app)
        settle(app)  # more passes: nothing asks again
    assert dummy.calls.count("refund") == 1
    assert len([r for r in caplog.records if "needs a person" in r.getMessage()]) == 1
    with app.app_context():
        refund = db.session.execute(db.select(Refund)).scalar_one()
        assert (refund.status, refund.refusal, refund.attempts) == ("refund_failed", "merchant_balance", 1)
        db.session.remove()
    assert _appointment(client, alice, appointment["id"])["payment"]["status"] == "refunding"


def test_a_busy_gateway_is_asked_again_with_the_same_refund_number(app, client, alice, clock):
    from payments.interface import GatewayBusy

    appointment, _ = paid_booking(app, client, alice, clock)
    dummy = gateway(app)
    dummy.fail_next.append(GatewayBusy("slow down", "FREQUENCY_LIMITED"))
    client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    settle(app)
    _refund_completes(app, client)
    assert dummy.calls.count("refund") == 2
    assert _appointment(client, alice, appointment["id"])["status"] == "refunded"
    assert_money_holds(app)


def test_a_refund_confirmed_before_the_late_payment_notification_counts_each_once(app, client, alice, clock):
    from bff.jobs import run_job
    from bff.payments.service import settle_stuck

    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    dummy = gateway(app)
    late = dummy.pay(payment["out_trade_no"])  # its notification is delayed
    run_job(app, "stuck", lambda: settle_stuck(dt.timedelta(seconds=-1)))
    settle(app)
    client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    settle(app)
    _refund_completes(app, client)
    assert notify(client, late).status_code == 204  # the payment's notification, at last
    settle(app)
    assert _appointment(client, alice, appointment["id"])["status"] == "refunded"
    assert _ledger(app) == [("capture", appointment["fee"]), ("refund", -appointment["fee"])]
    assert_money_holds(app)


def test_a_closed_trade_paid_at_the_last_moment_is_refunded_and_the_live_one_keeps_the_booking(
        app, client, alice, clock, memory_his):
    appointment, _ = booked(client, alice, clock)
    first = start_payment(client, alice, appointment["id"])
    second = start_payment(client, alice, appointment["id"], channel="alipay", payer_id="2088000000000001")
    assert gateway(app).trade_state(first["out_trade_no"]) == "closed"  # switching channel closed the first
    late = gateway(app).settle_late(first["out_trade_no"])  # … but its payer had paid at that very moment
    assert notify(client, late).status_code == 204
    assert notify(client, gateway(app, "alipay").pay(second["out_trade_no"]), "alipay").status_code == 204
    settle(app)
    _refund_completes(app, client)
    shown = _appointment(client, alice, appointment["id"])
    assert shown["status"] == "confirmed" and memory_his.live_registrations == 1
    statuses = {p: client.get(f"/api/v1/payments/{p}", headers=alice).get_json()["status"]
                for p in (first["id"], second["id"])}
    assert statuses == {first["id"]: "refunded", second["id"]: "paid"}
    money = assert_money_holds(app)
    assert money["captured"] == 2 * appointment["fee"] and money["refunded"] == appointment["fee"]


def test_an_expired_hold_closes_the_trade_and_frees_the_slot(app, client, alice, clock, memory_his):
    from bff.appointments.service import expire_holds
    from bff.jobs import run_job

    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    clock.advance(minutes=11)
    run_job(app, "expire", expire_holds)
    assert _appointment(client, alice, appointment["id"])["status"] == "expired"
    assert gateway(app).trade_state(payment["out_trade_no"]) == "closed"
    assert memory_his.live_locks == 0
    response = client.post("/api/v1/payments", headers=alice, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "ORDER_NOT_PAYABLE"


def test_a_payment_landing_after_expiry_takes_the_place_again(app, client, alice, clock, memory_his):
    from bff.appointments.service import expire_holds
    from bff.jobs import run_job

    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    clock.advance(minutes=11)
    run_job(app, "expire", expire_holds)
    notify(client, gateway(app).settle_late(payment["out_trade_no"]))
    settle(app)
    assert _appointment(client, alice, appointment["id"])["status"] == "confirmed"
    assert memory_his.live_registrations == 1
    assert_money_holds(app)


def test_a_payment_landing_after_expiry_is_refunded_when_the_place_is_gone(app, client, alice, clock, memory_his):
    from bff.appointments.service import expire_holds
    from bff.jobs import run_job

    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    clock.advance(minutes=11)
    run_job(app, "expire", expire_holds)
    _fill_slot(memory_his, appointment)  # the place went to patients at the window
    notify(client, gateway(app).settle_late(payment["out_trade_no"]))
    settle(app)
    _refund_completes(app, client)
    shown = _appointment(client, alice, appointment["id"])
    assert shown["status"] == "expired" and shown["payment"]["status"] == "refunded"
    assert_money_holds(app)


def test_another_users_payment_is_404(app, client, alice, clock):
    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    bob = login(client, "bob")
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bob).status_code == 404
    response = client.post("/api/v1/payments", headers=bob, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"})
    assert response.status_code == 404


def test_gateway_down_when_paying_is_a_clear_503_and_nothing_is_lost(app, client, alice, clock):
    appointment, _ = booked(client, alice, clock)
    gateway(app).down = True
    response = client.post("/api/v1/payments", headers=alice, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"})
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "PAYMENT_UNAVAILABLE"
    gateway(app).down = False
    payment = start_payment(client, alice, appointment["id"])  # the unfinished one is closed, a new one made
    assert payment["status"] == "pending" and payment["pay_params"]
    assert balance(app)["captured"] == 0


def test_the_ledger_refuses_changes_and_deletions(app, client, alice, clock):
    import sqlalchemy as sa

    appointment, _ = booked(client, alice, clock)
    payment = start_payment(client, alice, appointment["id"])
    notify(client, gateway(app).pay(payment["out_trade_no"]))
    with app.app_context():
        for statement in ("UPDATE ledger_entries SET amount = 1", "DELETE FROM ledger_entries"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(sa.text(statement))
            db.session.rollback()
        db.session.remove()
    assert _ledger(app) == [("capture", appointment["fee"])]


def test_a_notification_for_a_gateway_not_configured_is_404(make_app):
    app = make_app(PAYMENT_GATEWAYS="")
    assert app.test_client().post("/notify/alipay", data=b"x=1").status_code == 404


def test_an_abandoned_payment_is_asked_about_ever_more_rarely_until_it_expires():
    from bff.payments.service import next_check

    start = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    assert next_check(start, start + dt.timedelta(minutes=2)) == start + dt.timedelta(minutes=3)  # age grows by half
    assert next_check(start, start + dt.timedelta(minutes=20)) == start + dt.timedelta(minutes=30)


def test_the_stuck_payment_job_keeps_its_pace_while_the_gateway_is_down_and_skips_none_that_is_due(
        app, client, alice, bob, clock):
    from bff.jobs import run_job
    from bff.payments.models import Payment
    from bff.payments.service import settle_stuck

    asked_recently, _ = booked(client, alice, clock)
    waiting, _ = booked(client, bob, clock)
    first = start_payment(client, alice, asked_recently["id"])
    second = start_payment(client, bob, waiting["id"])
    dummy = gateway(app)
    dummy.down = True
    run_job(app, "stuck", lambda: settle_stuck(dt.timedelta(seconds=-1)))  # both asked, the gateway is down
    with app.app_context():
        checks = dict(db.session.execute(db.select(Payment.id, Payment.next_check_at)).all())
        assert all(checks.values())  # the next time was kept although the gateway never answered
        db.session.execute(db.update(Payment).where(Payment.id == first["id"]).values(
            next_check_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)))  # not due for an hour
        db.session.execute(db.update(Payment).where(Payment.id == second["id"]).values(
            next_check_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))  # due now
        db.session.commit()
        db.session.remove()
    dummy.down = False
    dummy.pay(second["out_trade_no"])  # its notification was lost
    run_job(app, "stuck", lambda: settle_stuck(dt.timedelta(seconds=-1), limit=1))  # room for one: the due one
    with app.app_context():  # (not through GET /payments/{id}: that asks the gateway itself)
        assert db.session.get(Payment, second["id"]).status == "paid"
        db.session.remove()
