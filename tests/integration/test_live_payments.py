"""Paying for real over loopback: the BFF with the real WeChat Pay / Alipay SDKs against the simulators.

Each test drives the BFF's HTTP API as the mini-program or kiosk would, plays the payer through
the simulators' control APIs, and checks the money invariant in the BFF's own database:
captured = confirmed + refunded, to the fen.
"""
from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from bff.extensions import db
from bff.jobs import run_outbox
from tests.e2e.stack import start_stack
from tests.fakes import fill_slot, resident_id


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    live = start_stack(str(tmp_path_factory.mktemp("pay")), PAYMENT_MODE="online", STUCK_PAYMENT_SECONDS=0)
    yield live
    live.stop()


class Live:
    """The BFF's API, the simulators' control APIs, and the BFF's database, for one test."""

    _seq = 0

    def __init__(self, stack):
        self.stack, self.urls, self.app = stack, stack.urls, stack.app
        self.http = requests.Session()

    def call(self, method, path, token=None, expect=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = "Bearer " + token
        response = self.http.request(method, self.urls["bff"] + path, headers=headers, timeout=20, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        return response

    def control(self, system, path, body=None, method="POST", expect=200):
        response = self.http.request(method, f"{self.urls[system]}/_control/{path}", timeout=10,
                                     **({"json": body or {}} if method == "POST" else {"params": body or {}}))
        assert response.status_code == expect, response.text
        return response.json()

    def patient(self, tag: str):
        """A logged-in user with one patient: (token, patient JSON)."""
        Live._seq += 1
        token = self.call("POST", "/api/v1/auth/wx-login", json={"code": f"pay-{tag}-{Live._seq}"},
                          expect=200).json()["token"]
        patient = self.call("POST", "/api/v1/patients", token, expect=201, json={
            "name": "支付测试", "id_type": "01", "id_number": resident_id(500 + Live._seq),
            "phone": "13800000000", "relation": "self"}).json()
        return token, patient

    def booked(self, tag: str, days: int = 2):
        """A booking awaiting payment: (token, appointment)."""
        token, patient = self.patient(tag)
        day = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8, days=days)).date()
        for top in self.call("GET", "/api/v1/departments", token).json()["items"]:
            for child in top["children"]:
                schedules = self.call("GET", f"/api/v1/schedules?department={child['code']}&date_from={day}"
                                             f"&date_to={day}", token).json()["items"]
                for schedule in (s for s in schedules if s["status"] == "open"):
                    slots = self.call("GET", f"/api/v1/schedules/{schedule['id']}/slots", token).json()["items"]
                    for slot in (s for s in slots if s["status"] == "open"):
                        response = self.call("POST", "/api/v1/appointments", token, json={
                            "patient_id": patient["id"], "schedule_id": schedule["id"], "slot_id": slot["id"]})
                        if response.status_code == 201:
                            assert response.json()["status"] == "awaiting_payment"
                            return token, response.json()
        raise AssertionError("no bookable slot")

    def appointment(self, token, appointment_id):
        return self.call("GET", f"/api/v1/appointments/{appointment_id}", token, expect=200).json()

    def settle(self, until=None, seconds: float = 10.0):
        """Run the outbox until `until()` holds (notifications arrive on their own threads)."""
        deadline = time.monotonic() + seconds
        while True:
            run_outbox(self.app)
            if until is None or until():
                return
            if time.monotonic() > deadline:
                raise AssertionError("the BFF did not get there in time")
            time.sleep(0.05)

    def balance(self) -> dict:
        from bff.payments.records import money_balance

        with self.app.app_context():
            try:
                return money_balance()
            finally:
                db.session.remove()

    def ledger(self, out_trade_no: str) -> list[tuple[str, int]]:
        from bff.payments.models import LedgerEntry

        with self.app.app_context():
            rows = db.session.execute(db.select(LedgerEntry.kind, LedgerEntry.amount).where(
                LedgerEntry.out_trade_no == out_trade_no).order_by(LedgerEntry.id)).all()
            db.session.remove()
        return [tuple(r) for r in rows]

    def payment_status(self, payment_id: int) -> str:
        from bff.payments.models import Payment

        with self.app.app_context():
            status = db.session.get(Payment, payment_id).status
            db.session.remove()
        return status

    def assert_money_holds(self):
        def whole():
            money = self.balance()
            return money["in_flight"] == 0 and money["captured"] == money["fulfilled"] + money["refunded"]

        self.settle(whole)


@pytest.fixture
def live(stack):
    return Live(stack)


def test_pay_by_wechat_v3_confirm_cancel_and_refund(live):
    token, appointment = live.booked("v3")
    payment = live.call("POST", "/api/v1/payments", token, expect=201, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"}).json()
    assert payment["pay_params"]["signType"] == "RSA" and payment["pay_params"]["paySign"]
    live.control("wechatpay", "pay", {"pay_params": payment["pay_params"], "result": "success"})
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "confirmed")
    assert live.ledger(payment["out_trade_no"]) == [("capture", appointment["fee"])]
    cancelled = live.call("POST", f"/api/v1/appointments/{appointment['id']}/cancel", token, expect=200).json()
    assert cancelled["status"] == "cancelled"
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "refunded")
    shown = live.appointment(token, appointment["id"])["payment"]
    assert shown["status"] == "refunded" and shown["refunds"][0]["status"] == "succeeded"
    assert live.ledger(payment["out_trade_no"]) == [("capture", appointment["fee"]), ("refund", -appointment["fee"])]
    live.assert_money_holds()


def test_pending_fees_paid_by_alipay_are_settled_with_a_receipt(live):
    token, patient = live.patient("bills")
    bill = live.control("his", "bills", {"his_patient_id": patient["his_patient_id"], "title": "处方（西药）",
                                         "amount": 3650}, expect=201)["bill_id"]
    order = live.call("POST", "/api/v1/bills/settlements", token, expect=201,
                      json={"patient_id": patient["id"], "bill_ids": [bill]}).json()
    payment = live.call("POST", "/api/v1/payments", token, expect=201, json={
        "order_type": "bills", "order_id": order["id"], "channel": "alipay", "payer_id": "2088102177846880"}).json()
    assert payment["pay_params"]["tradeNO"]
    live.control("alipay", "pay", {"out_trade_no": payment["out_trade_no"], "result": "success"})

    def settled():
        return live.call("GET", f"/api/v1/bills/settlements/{order['id']}", token).json()["status"] == "settled"

    live.settle(settled)
    shown = live.call("GET", f"/api/v1/bills/settlements/{order['id']}", token).json()
    assert shown["receipt_no"].startswith("MZ") and shown["amount"] == 3650
    assert live.call("GET", f"/api/v1/bills?patient_id={patient['id']}", token).json()["items"] == []
    live.assert_money_holds()


@pytest.mark.parametrize(("channel", "code"), [("wechat", "FACE_OK_1"), ("alipay", "fp_ok_1")])
def test_a_kiosk_pays_by_face_with_both_channels(live, channel, code):
    import json

    from bff.kiosk.auth import provision, signed_headers

    with live.app.app_context():
        key = provision(f"K-{channel}", "测试自助机")
        db.session.remove()
    token, appointment = live.booked(f"face-{channel}")
    body = json.dumps({"channel": channel, "auth_code": code, "order_type": "appointment",
                       "order_id": appointment["id"]}).encode()
    path = "/api/v1/kiosk/facepay"
    response = live.call("POST", path, data=body, headers={
        "Content-Type": "application/json", **signed_headers(f"K-{channel}", key, "POST", path, body)})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "paid"
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "confirmed")
    live.assert_money_holds()


def test_the_same_notification_ten_times_is_one_capture(live):
    token, appointment = live.booked("dup")
    payment = live.call("POST", "/api/v1/payments", token, expect=201, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"}).json()
    live.control("wechatpay", "pay", {"out_trade_no": payment["out_trade_no"], "result": "success"})
    live.control("wechatpay", "notify", {"out_trade_no": payment["out_trade_no"], "times": 10})
    live.settle(lambda: len(live.control("wechatpay", "notifications", {"out_trade_no": payment["out_trade_no"]},
                                         method="GET")["items"]) >= 11)
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "confirmed")
    assert live.ledger(payment["out_trade_no"]) == [("capture", appointment["fee"])]
    live.assert_money_holds()


@pytest.mark.parametrize("forge", ["signature", "amount", "mchid"])
def test_forged_or_mismatched_notifications_change_nothing(live, forge):
    token, appointment = live.booked(f"forge-{forge}")
    payment = live.call("POST", "/api/v1/payments", token, expect=201, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"}).json()
    live.control("wechatpay", "pay", {"out_trade_no": payment["out_trade_no"], "result": "success", "hold": True})
    live.control("wechatpay", "notify", {"out_trade_no": payment["out_trade_no"], "times": 1, "forge": forge})

    def answered():
        items = live.control("wechatpay", "notifications", {"out_trade_no": payment["out_trade_no"]},
                             method="GET")["items"]
        return [i for i in items if i.get("status") or i.get("answer")]

    live.settle(answered)
    assert live.payment_status(payment["id"]) == "pending"  # nothing believed
    assert live.ledger(payment["out_trade_no"]) == []


def test_a_lost_notification_is_found_by_the_stuck_payment_query(live):
    from bff.jobs import run_job
    from bff.payments.service import settle_stuck

    token, appointment = live.booked("lost")
    payment = live.call("POST", "/api/v1/payments", token, expect=201, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"}).json()
    live.control("wechatpay", "pay", {"out_trade_no": payment["out_trade_no"], "result": "success", "hold": True})
    run_job(live.app, "stuck", lambda: settle_stuck(dt.timedelta(seconds=-1)))
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "confirmed")
    live.assert_money_holds()


def test_the_his_refusing_the_paid_confirmation_refunds_automatically(live):
    from bff.appointments.models import Appointment

    token, appointment = live.booked("refused")
    with live.app.app_context():
        request_id = db.session.get(Appointment, appointment["id"]).request_id
        db.session.remove()
        live.app.extensions["his"].unlock_slot(request_id)  # the HIS let the hold go on its own…
    fill_slot(live.app.extensions["his"], appointment["schedule"]["id"], appointment["slot"]["id"])  # …and gave it away
    payment = live.call("POST", "/api/v1/payments", token, expect=201, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"}).json()
    live.control("wechatpay", "pay", {"out_trade_no": payment["out_trade_no"], "result": "success"})
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "refunded")
    assert live.ledger(payment["out_trade_no"]) == [("capture", appointment["fee"]), ("refund", -appointment["fee"])]
    live.assert_money_holds()


def test_a_refund_notification_before_the_late_payment_notification_counts_each_once(live):
    from bff.jobs import run_job
    from bff.payments.service import settle_stuck

    token, appointment = live.booked("order")
    payment = live.call("POST", "/api/v1/payments", token, expect=201, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"}).json()
    out_trade_no = payment["out_trade_no"]
    live.control("wechatpay", "pay", {"out_trade_no": out_trade_no, "result": "success", "hold": True})
    run_job(live.app, "stuck", lambda: settle_stuck(dt.timedelta(seconds=-1)))  # learnt by query
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "confirmed")
    live.call("POST", f"/api/v1/appointments/{appointment['id']}/cancel", token, expect=200)

    def held():
        items = live.control("wechatpay", "notifications", {"out_trade_no": out_trade_no}, method="GET")["items"]
        return {i["kind"] for i in items if i["status"] == "held"} == {"payment", "refund"}

    live.settle(held)  # the refund's notification waits behind the payment's
    live.control("wechatpay", "release", {"out_trade_no": out_trade_no, "order": "newest_first"})
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "refunded")

    def delivered():
        items = live.control("wechatpay", "notifications", {"out_trade_no": out_trade_no}, method="GET")["items"]
        return all(i["status"] == "acked" for i in items)

    live.settle(delivered)  # the late payment notification was taken, and changed nothing
    assert live.ledger(out_trade_no) == [("capture", appointment["fee"]), ("refund", -appointment["fee"])]
    live.assert_money_holds()


def _admin(live) -> str:
    """An admin's staff token (the account is made once per stack)."""
    from bff.staff import service
    from bff.staff.models import StaffAccount

    with live.app.app_context():
        if db.session.execute(db.select(StaffAccount).where(StaffAccount.username == "money01")).first() is None:
            service.create("money01", "财务管理员", ["admin"], "Money#Pass2026")
        db.session.remove()
    return live.call("POST", "/api/v1/staff/login", expect=200,
                     json={"username": "money01", "password": "Money#Pass2026"}).json()["token"]


def _refused(live, channel: str, code: str):
    """A booking paid on channel, cancelled while the simulator refuses refunds with code: (token, appt, item)."""
    token, appointment = live.booked(f"refused-{channel}")
    body = {"order_type": "appointment", "order_id": appointment["id"], "channel": channel}
    payment = live.call("POST", "/api/v1/payments", token, expect=201,
                        json={**body, **({"payer_id": "2088102177846880"} if channel == "alipay" else {})}).json()
    system = "wechatpay" if channel == "wechat" else "alipay"
    pay = {"pay_params": payment["pay_params"]} if channel == "wechat" else {"out_trade_no": payment["out_trade_no"]}
    live.control(system, "pay", {**pay, "result": "success"})
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "confirmed")
    live.control(system, "refund_refusal", {"code": code})
    try:
        live.call("POST", f"/api/v1/appointments/{appointment['id']}/cancel", token, expect=200)
        admin = _admin(live)

        def listed():
            items = live.call("GET", "/api/v1/admin/refunds?status=refund_failed", admin, expect=200).json()["items"]
            return [i for i in items if i["order_id"] == appointment["id"]]

        live.settle(lambda: bool(listed()))
    finally:
        live.control(system, "refund_refusal", {"code": None})  # the merchant account is topped up
    return token, appointment, listed()[0]


def test_a_wechat_refund_refused_for_want_of_balance_is_reissued_after_the_top_up(live):
    token, appointment, item = _refused(live, "wechat", "NOT_ENOUGH")
    assert item["refusal"] == "merchant_balance" and item["attempts"] == 1
    live.call("POST", f"/api/v1/admin/refunds/{item['id']}/reissue", _admin(live), expect=200)
    live.settle(lambda: live.appointment(token, appointment["id"])["status"] == "refunded")
    live.assert_money_holds()


def test_an_alipay_refund_the_seller_cannot_pay_is_settled_offline(live):
    token, appointment, item = _refused(live, "alipay", "ACQ.SELLER_BALANCE_NOT_ENOUGH")
    assert item["refusal"] == "merchant_balance"
    done = live.call("POST", f"/api/v1/admin/refunds/{item['id']}/settle-offline", _admin(live), expect=200,
                     json={"note": "窗口现金退还"}).json()
    assert done["status"] == "refunded_offline" and done["settled_note"] == "窗口现金退还"
    assert live.appointment(token, appointment["id"])["status"] == "refunded"
    live.assert_money_holds()


def test_a_settled_bill_refunded_in_the_sandbox_his_goes_back_by_wechat(live):
    token, patient = live.patient("tuifei")
    bill = live.control("his", "bills", {"his_patient_id": patient["his_patient_id"], "title": "检查：腹部彩超",
                                         "amount": 16000}, expect=201)["bill_id"]
    order = live.call("POST", "/api/v1/bills/settlements", token, expect=201,
                      json={"patient_id": patient["id"], "bill_ids": [bill]}).json()
    payment = live.call("POST", "/api/v1/payments", token, expect=201, json={
        "order_type": "bills", "order_id": order["id"], "channel": "wechat"}).json()
    live.control("wechatpay", "pay", {"pay_params": payment["pay_params"], "result": "success"})

    def status():
        return live.call("GET", f"/api/v1/bills/settlements/{order['id']}", token).json()["status"]

    live.settle(lambda: status() == "settled")
    refunded = live.call("POST", f"/api/v1/admin/bill-settlements/{order['id']}/refund", _admin(live), expect=200,
                         json={"reason": "检查未做，患者要求退费"}).json()
    assert refunded["status"] == "refunding"
    live.settle(lambda: status() == "refunded")
    bills = live.control("his", "bills", {"his_patient_id": patient["his_patient_id"]}, method="GET")
    assert [b["status"] for b in bills if b["bill_id"] == bill] == ["refunded"]
    assert live.ledger(payment["out_trade_no"]) == [("capture", 16000), ("refund", -16000)]
    live.assert_money_holds()


def test_the_days_business_reconciles_with_the_simulators_bills(live, tmp_path):
    """After everything above (payments, refunds, face-pay, faults), the gateways' bills, the ledger and
    the HIS tell one story; a difference planted in the ledger makes the command fail."""
    live.assert_money_holds()
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date().isoformat()
    runner = live.app.test_cli_runner()
    result = runner.invoke(args=["payments", "reconcile", "--date", today, "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "一致" in result.output
    checked = int(result.output.split("逐笔核对 ")[1].split(" 笔")[0])
    assert checked >= 5  # the payments and refunds made before it, from each side
    from bff.payments.models import LedgerEntry, Payment

    with live.app.app_context():
        paid = db.session.execute(db.select(Payment).where(Payment.status == "paid")).scalars().first()
        db.session.add(LedgerEntry(at=paid.paid_at, kind="capture", payment_id=paid.id, refund_id=-1,
                                   gateway=paid.gateway, out_trade_no="YQ-PLANTED", amount=100,
                                   order_type="appointment", order_id=paid.order_id))
        db.session.commit()
        db.session.remove()
    planted = runner.invoke(args=["payments", "reconcile", "--date", today, "--dir", str(tmp_path)])
    assert planted.exit_code == 1 and "YQ-PLANTED" in planted.output


def test_a_free_clinic_is_confirmed_at_once_without_a_payment(live):
    token, patient = live.patient("free")
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8, days=3)).date()
    created = live.control("his", "schedules", {"department_code": "0101", "doctor_code": "D010101",
                                                "date": day.isoformat(), "period": "pm", "capacity": 2, "fee": 0},
                           expect=201)
    listed = live.call("GET", f"/api/v1/schedules?department=0101&date_from={day}&date_to={day}", token,
                       expect=200).json()["items"]
    assert [s["fee"] for s in listed if s["id"] == created["schedule_id"]] == [0]
    booked = live.call("POST", "/api/v1/appointments", token, expect=201, json={
        "patient_id": patient["id"], "schedule_id": created["schedule_id"], "slot_id": created["slot_ids"][0]}).json()
    assert booked["status"] == "confirmed" and booked["fee"] == 0 and booked["hold_expires_at"] is None
    assert booked["payment"] is None
    registrations = live.control("his", "registrations", method="GET")
    [ours] = [r for r in registrations if r["schedule_id"] == created["schedule_id"]]
    assert ours["fee"] == 0 and ours["status"] == "registered"
