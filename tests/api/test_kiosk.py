"""Kiosk face-pay: HMAC per device, no replay, paid or a clear decline, never a lost payment."""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from bff.extensions import db
from bff.kiosk.auth import signature, signed_headers
from tests.api.payment_helpers import assert_money_holds, booked, settle
from tests.conftest import add_patient


@pytest.fixture
def app(make_app):
    return make_app(PAYMENT_MODE="online")


@pytest.fixture
def kiosk(app):
    result = app.test_cli_runner().invoke(args=["kiosk", "add", "--id", "MZ-1F-01", "--name", "门诊一楼大厅"])
    assert result.exit_code == 0, result.output
    return {"id": "MZ-1F-01", "key": result.output.rsplit(" ", 1)[1].strip()}


def signed(kiosk, path, body, *, key=None, stamp=None, nonce=None):
    raw = json.dumps(body).encode()
    return {"data": raw, "content_type": "application/json",
            "headers": signed_headers(kiosk["id"], key or kiosk["key"], "POST", path, raw, stamp=stamp, nonce=nonce)}


def face_pay(client, kiosk, appointment_id, auth_code="face-ok", channel="wechat"):
    body = {"channel": channel, "auth_code": auth_code, "order_type": "appointment", "order_id": appointment_id}
    return client.post("/api/v1/kiosk/facepay", **signed(kiosk, "/api/v1/kiosk/facepay", body))


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_a_kiosk_pays_a_booking_by_face_and_the_booking_is_confirmed(app, client, alice, clock, kiosk, channel,
                                                                      memory_his):
    appointment, _ = booked(client, alice, clock)
    response = face_pay(client, kiosk, appointment["id"], channel=channel)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "paid" and response.get_json()["amount"] == appointment["fee"]
    settle(app)
    polled = client.get(f"/api/v1/kiosk/payments/{response.get_json()['id']}",
                        headers=_signed_get(kiosk, f"/api/v1/kiosk/payments/{response.get_json()['id']}"))
    assert polled.get_json()["order_status"] == "confirmed" and polled.get_json()["receipt_no"]
    assert memory_his.live_registrations == 1
    assert_money_holds(app)


def _signed_get(kiosk, path, *, stamp=None, nonce=None):
    return signed_headers(kiosk["id"], kiosk["key"], "GET", path, stamp=stamp, nonce=nonce)


@pytest.mark.parametrize(("code", "error"), [("face-nomoney", "INSUFFICIENT_FUNDS"),
                                             ("face-declined", "PAYMENT_DECLINED"),
                                             ("face-expired", "AUTH_CODE_INVALID"),
                                             ("face-paying-forever", "PAYMENT_DECLINED")])
def test_declines_are_clear_codes_and_take_no_money(app, client, alice, clock, kiosk, code, error):
    appointment, _ = booked(client, alice, clock)
    response = face_pay(client, kiosk, appointment["id"], auth_code=code)
    assert response.status_code == 402 and response.get_json()["error"]["code"] == error
    assert "请" in response.get_json()["error"]["message"]
    settle(app)
    assert client.get(f"/api/v1/appointments/{appointment['id']}", headers=alice).get_json()["status"] == \
        "awaiting_payment"
    assert assert_money_holds(app)["captured"] == 0


def test_a_payer_still_confirming_is_polled_until_paid(app, client, alice, clock, kiosk):
    appointment, _ = booked(client, alice, clock)
    response = face_pay(client, kiosk, appointment["id"], auth_code="face-paying-2")
    assert response.status_code == 201 and response.get_json()["status"] == "paid"


def test_kiosk_requests_without_a_valid_fresh_signature_are_refused(app, client, alice, clock, kiosk):
    appointment, _ = booked(client, alice, clock)
    body = {"channel": "wechat", "auth_code": "face-ok", "order_type": "appointment", "order_id": appointment["id"]}
    path = "/api/v1/kiosk/facepay"
    attempts = [
        signed(kiosk, path, body, key="not-the-key"),
        signed(kiosk, path, body, stamp=str(int(time.time()) - 900)),
        signed({**kiosk, "id": "UNKNOWN-01"}, path, body),
        {"json": body, "headers": alice},  # a patient token is not a kiosk
    ]
    for attempt in attempts:
        response = client.post(path, **attempt)
        assert response.status_code == 401 and response.get_json()["error"]["code"] == "KIOSK_UNAUTHORIZED"
    once = signed(kiosk, path, body)
    assert client.post(path, **once).status_code == 201
    replay = client.post(path, **once)
    assert replay.status_code == 401
    settle(app)
    assert assert_money_holds(app)["captured"] == appointment["fee"]  # paid once, not twice


def test_two_polls_in_the_same_second_both_pass_and_a_repeated_nonce_is_refused(app, client, alice, clock, kiosk):
    appointment, _ = booked(client, alice, clock)
    paid = face_pay(client, kiosk, appointment["id"]).get_json()
    path = f"/api/v1/kiosk/payments/{paid['id']}"
    stamp = str(int(time.time()))
    first = client.get(path, headers=_signed_get(kiosk, path, stamp=stamp, nonce="poll-nonce-0000001"))
    second = client.get(path, headers=_signed_get(kiosk, path, stamp=stamp, nonce="poll-nonce-0000002"))
    assert first.status_code == second.status_code == 200, second.get_json()  # the same request, the same second
    again = client.get(path, headers=_signed_get(kiosk, path, stamp=stamp, nonce="poll-nonce-0000001"))
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "KIOSK_UNAUTHORIZED"
    # a nonce once used is spent for this kiosk whatever it signs next, even a moment later
    later = client.get(path, headers=_signed_get(kiosk, path, stamp=str(int(stamp) + 1), nonce="poll-nonce-0000002"))
    assert later.status_code == 401
    other = app.test_cli_runner().invoke(args=["kiosk", "add", "--id", "MZ-2F-01", "--name", "门诊二楼"])
    other_kiosk = {"id": "MZ-2F-01", "key": other.output.rsplit(" ", 1)[1].strip()}
    body = {"rawdata": "RAW-FROM-DEVICE"}
    borrowed = client.post("/api/v1/kiosk/facepay/authinfo",  # another kiosk's nonces are its own
                           **signed(other_kiosk, "/api/v1/kiosk/facepay/authinfo", body, nonce="poll-nonce-0000001"))
    assert borrowed.status_code == 200


@pytest.mark.parametrize("nonce", [None, "", "short-nonce", "n" * 65, "nonce with spaces ok", "nönce-0123456789ab",
                                   "nonce/0123456789ab"])
def test_a_kiosk_request_without_a_well_formed_nonce_is_refused(client, kiosk, nonce):
    path = "/api/v1/kiosk/facepay/authinfo"
    raw = json.dumps({"rawdata": "RAW-FROM-DEVICE"}).encode()
    stamp = str(int(time.time()))
    headers = {"X-Kiosk-Id": kiosk["id"], "X-Kiosk-Timestamp": stamp,
               "X-Kiosk-Signature": signature(kiosk["key"], "POST", path, stamp, nonce or "", raw)}
    if nonce is not None:
        headers["X-Kiosk-Nonce"] = nonce
    response = client.post(path, data=raw, content_type="application/json", headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "KIOSK_UNAUTHORIZED"


def test_the_signed_string_is_the_one_the_docstring_gives(client, kiosk):
    """A kiosk written from the documentation alone: five lines, the nonce between timestamp and body hash."""
    import hashlib
    import hmac

    path, raw, stamp, nonce = "/api/v1/kiosk/facepay/authinfo", b'{"rawdata": "RAW"}', str(int(time.time())), \
        "Doc_Nonce-0123456789"
    message = f"POST\n{path}\n{stamp}\n{nonce}\n{hashlib.sha256(raw).hexdigest()}"
    mac = hmac.new(kiosk["key"].encode(), message.encode(), hashlib.sha256).hexdigest()
    response = client.post(path, data=raw, content_type="application/json", headers={
        "X-Kiosk-Id": kiosk["id"], "X-Kiosk-Timestamp": stamp, "X-Kiosk-Nonce": nonce, "X-Kiosk-Signature": mac})
    assert response.status_code == 200, response.get_json()


def test_kiosk_headers_that_are_not_plain_ascii_are_refused_not_a_server_error(app, client, alice, clock, kiosk):
    appointment, _ = booked(client, alice, clock)
    body = {"channel": "wechat", "auth_code": "face-ok", "order_type": "appointment", "order_id": appointment["id"]}
    path = "/api/v1/kiosk/facepay"
    now = str(int(time.time()))
    arabic = now.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    bad_signature = signed(kiosk, path, body)
    bad_signature["headers"]["X-Kiosk-Signature"] = "é" * 64
    attempts = [
        signed(kiosk, path, body, stamp=arabic),  # the right time in Arabic-Indic digits, signed with the key
        signed(kiosk, path, body, stamp="²"),  # the latin-1 byte 0xB2: isdigit() says yes, int() says no
        signed(kiosk, path, body, stamp="0" * 4400 + now),  # the right time, too many digits for int()
        signed(kiosk, path, body, stamp="0" + now.rjust(12, "0")),  # 13 ASCII digits
        bad_signature,
        signed({**kiosk, "id": "MZ-1F-0１"}, path, body),
    ]
    for attempt in attempts:
        response = client.post(path, **attempt)
        assert response.status_code == 401, (attempt["headers"], response.get_json())
        assert response.get_json()["error"]["code"] == "KIOSK_UNAUTHORIZED"
    settle(app)
    assert client.get(f"/api/v1/appointments/{appointment['id']}", headers=alice).get_json()["status"] == \
        "awaiting_payment"
    assert assert_money_holds(app)["captured"] == 0
    assert face_pay(client, kiosk, appointment["id"]).status_code == 201  # the kiosk itself still pays


def test_a_disabled_kiosk_is_refused(app, client, alice, clock, kiosk):
    appointment, _ = booked(client, alice, clock)
    assert app.test_cli_runner().invoke(args=["kiosk", "disable", "--id", kiosk["id"]]).exit_code == 0
    assert face_pay(client, kiosk, appointment["id"]).status_code == 401


def test_face_authinfo_for_a_wechat_face_device(client, kiosk):
    body = {"rawdata": "RAW-FROM-DEVICE", "device_id": "DEV-01"}
    response = client.post("/api/v1/kiosk/facepay/authinfo", **signed(kiosk, "/api/v1/kiosk/facepay/authinfo", body))
    assert response.status_code == 200 and response.get_json()["authinfo"] and response.get_json()["expires_in"] > 0


def test_a_kiosk_pays_outpatient_fees_too(app, client, alice, kiosk, memory_his):
    patient = add_patient(client, alice)
    bill = memory_his.add_bill(patient["his_patient_id"], "处方（西药）", 3650)
    order = client.post("/api/v1/bills/settlements", headers=alice,
                        json={"patient_id": patient["id"], "bill_ids": [bill]}).get_json()
    body = {"channel": "alipay", "auth_code": "face-ok", "order_type": "bills", "order_id": order["id"]}
    response = client.post("/api/v1/kiosk/facepay", **signed(kiosk, "/api/v1/kiosk/facepay", body))
    assert response.status_code == 201
    settle(app)
    assert client.get(f"/api/v1/bills/settlements/{order['id']}", headers=alice).get_json()["status"] == "settled"
    assert_money_holds(app)


def test_a_lost_face_pay_answer_stays_pending_and_the_money_is_found_later(app, client, alice, clock, kiosk):
    from bff.jobs import run_job
    from bff.payments.service import settle_stuck

    appointment, _ = booked(client, alice, clock)
    response = face_pay(client, kiosk, appointment["id"], auth_code="face-unknown")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "PAYMENT_UNKNOWN"
    payment_id = response.get_json()["error"]["details"]["payment_id"]
    dummy = app.extensions["payment_gateways"].for_face("wechat")
    with app.app_context():
        from bff.payments.models import Payment

        out_trade_no = db.session.get(Payment, payment_id).out_trade_no
        db.session.remove()
    dummy.settle_late(out_trade_no)  # the charge went through after all
    run_job(app, "stuck", lambda: settle_stuck(dt.timedelta(seconds=-1)))
    settle(app)
    assert client.get(f"/api/v1/appointments/{appointment['id']}", headers=alice).get_json()["status"] == "confirmed"
    assert_money_holds(app)


def test_an_unconfirmed_reverse_is_sent_again_and_no_paid_reading_is_believed_meanwhile(app, client, alice, clock,
                                                                                        kiosk):
    from bff.jobs import run_job
    from bff.payments.service import settle_stuck

    appointment, _ = booked(client, alice, clock)
    response = face_pay(client, kiosk, appointment["id"], auth_code="face-reverse-lost")
    assert response.status_code == 402 and "撤销" in response.get_json()["error"]["message"]
    dummy = app.extensions["payment_gateways"].for_face("wechat")
    reversing = next(no for no in dummy._trades if dummy.trade_state(no) == "paying")
    dummy.settle_late(reversing)  # the payer's confirmation slips in before our reverse lands
    run_job(app, "stuck", lambda: settle_stuck(dt.timedelta(seconds=-1)))  # must not record it as paid
    settle(app)  # the outbox sends the reverse again: the gateway gives the money back
    assert dummy.trade_state(reversing) == "closed"
    assert client.get(f"/api/v1/appointments/{appointment['id']}", headers=alice).get_json()["status"] == \
        "awaiting_payment"
    assert assert_money_holds(app)["captured"] == 0
    again = face_pay(client, kiosk, appointment["id"])  # the patient pays again at once
    assert again.status_code == 201


def test_the_app_cannot_close_a_face_payment_being_charged(app, client, alice, clock, kiosk):
    appointment, _ = booked(client, alice, clock)
    assert face_pay(client, kiosk, appointment["id"], auth_code="face-unknown").status_code == 503
    response = client.post("/api/v1/payments", headers=alice, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "PAYMENT_IN_PROGRESS"
    assert "自助机" in response.get_json()["error"]["message"]
    assert_money_holds(app)


def test_a_kiosk_that_lost_the_answer_gets_it_again_and_the_face_is_charged_once(app, client, alice, bob, clock,
                                                                                kiosk):
    from bff.payments.models import Payment

    appointment, _ = booked(client, alice, clock)
    body = {"channel": "wechat", "auth_code": "face-ok", "order_type": "appointment", "order_id": appointment["id"]}

    def attempt(key, stamp):  # each try signed afresh: a signature is accepted once
        request = signed(kiosk, "/api/v1/kiosk/facepay", body, stamp=stamp)
        request["headers"]["Idempotency-Key"] = key
        return client.post("/api/v1/kiosk/facepay", **request)

    now = int(time.time())
    first = attempt("slip-0001", str(now))
    again = attempt("slip-0001", str(now + 1))
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["status"] == "paid"
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Payment)).scalar() == 1
    # a patient using the same key string is someone else's key, not the kiosk's answer
    other, _ = booked(client, bob, clock)
    mine = client.post("/api/v1/payments", headers={**bob, "Idempotency-Key": "slip-0001"},
                       json={"order_type": "appointment", "order_id": other["id"], "channel": "wechat"})
    assert mine.status_code == 201 and "Idempotent-Replayed" not in mine.headers


def test_a_reverse_left_unconfirmed_as_the_payment_is_recorded_paid_is_not_told_as_a_decline(
        app, client, alice, clock, kiosk, monkeypatch):
    from bff.kiosk import service as kiosk_service
    from bff.payments import records
    from bff.payments.models import Payment

    appointment, _ = booked(client, alice, clock)
    real_change = records.change

    def recorded_paid_meanwhile(model, row, **values):
        if values.get("failure_code") == kiosk_service.cashier.REVERSING:  # the stuck-payment job got there first
            with db.engine.begin() as other:
                other.execute(db.update(Payment).where(Payment.id == row.id).values(status="paid"))
        return real_change(model, row, **values)

    monkeypatch.setattr(kiosk_service.records, "change", recorded_paid_meanwhile)
    response = face_pay(client, kiosk, appointment["id"], auth_code="face-reverse-lost")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "PAYMENT_UNKNOWN"
    assert response.get_json()["error"]["details"]["payment_id"]  # the kiosk asks about it, it does not say no


def test_a_channel_without_face_pay_is_refused_before_the_patients_app_payment_is_touched(app, client, alice, clock,
                                                                                          kiosk):
    from tests.api.payment_helpers import start_payment

    appointment, _ = booked(client, alice, clock)
    started = start_payment(client, alice, appointment["id"], channel="alipay",  # paying in the app meanwhile
                            payer_id="2088000000000001")
    del app.extensions["payment_gateways"].face["alipay"]  # this hospital has no smile-to-pay
    response = face_pay(client, kiosk, appointment["id"], channel="alipay")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "PAYMENT_CHANNEL_UNAVAILABLE"
    shown = client.get(f"/api/v1/payments/{started['id']}", headers=alice).get_json()
    assert shown["status"] == "pending"  # the patient can still finish paying in the app


def test_a_reverse_of_a_charge_the_gateway_never_saw_ends_once_it_cannot_turn_up(app, client, alice, clock, kiosk):
    from bff.payments.models import Payment

    appointment, _ = booked(client, alice, clock)
    assert face_pay(client, kiosk, appointment["id"], auth_code="face-reverse-lost").status_code == 402
    dummy = app.extensions["payment_gateways"].for_face("wechat")
    dummy._trades.clear()  # the charge (and so its reverse) never reached the gateway
    settle(app)
    with app.app_context():
        assert db.session.execute(db.select(Payment.status)).scalar_one() == "pending"  # it may still turn up
        payment = db.session.execute(db.select(Payment)).scalar_one()
        payment.created_at -= dt.timedelta(days=1)  # a day later
        db.session.commit()
    settle(app)
    with app.app_context():
        assert db.session.execute(db.select(Payment.status)).scalar_one() == "closed"
    assert assert_money_holds(app)["captured"] == 0
