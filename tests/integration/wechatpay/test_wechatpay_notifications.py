"""Notifications from the simulator as the gateways receive them: forged ones believed in nothing,
duplicates, retries until acknowledged, out of order, delayed (v3 and v2)."""
from __future__ import annotations

import secrets
import time

import pytest

from payments.interface import (
    NotificationInvalid,
    NotificationKind,
    PaymentRequest,
    RefundRequest,
    RefundState,
    TradeState,
)
from payments.wechatpay import WeChatPayV2Gateway, expect_amount
from sandbox.wechatpay.messages import Message, Notice
from sandbox.wechatpay.notifier import SCHEDULE, Notifier
from tests.integration.wechatpay.conftest import v2_config
from tests.waiting import wait_for


def _paid(wxpay, gateway, notify_url: str, receiver, amount: int = 2500, **pay) -> str:
    order = PaymentRequest("NTF" + secrets.token_hex(6), amount, "门诊缴费", notify_url, payer_id="sandbox-bob")
    gateway.create(order)
    receiver.gateway = gateway
    wxpay.post("pay", {"out_trade_no": order.out_trade_no, **pay})
    return order.out_trade_no


@pytest.fixture(params=["v3", "v2"])
def gateway(request, v3, v2):
    return {"v3": v3, "v2": v2}[request.param]


@pytest.mark.parametrize(("forge", "code"), [
    ("signature", "SIGNATURE"), ("serial", "SERIAL_UNKNOWN"), ("timestamp", "TIMESTAMP"),
    ("ciphertext", "SIGNATURE"), ("mchid", "MCHID_MISMATCH"), ("appid", "APPID_MISMATCH"),
])
def test_forged_v3_notifications_are_refused_and_retried(wxpay, v3, receiver, notify_url, forge, code):
    no = _paid(wxpay, v3, notify_url, receiver)
    receiver.wait(1)
    wxpay.post("notify", {"out_trade_no": no, "forge": forge})
    assert receiver.forged_one().gateway_code == code
    # refused → acked FAIL → the simulator sends it again, as WeChat Pay would
    wait_for(lambda: [d for d in wxpay.deliveries(no) if d["forge"] == forge and d["attempts"] >= 2])


@pytest.mark.parametrize(("forge", "code"), [
    ("signature", "SIGNATURE"), ("mchid", "MCHID_MISMATCH"), ("appid", "APPID_MISMATCH"),
])
def test_forged_v2_payment_notifications_are_refused(wxpay, v2, receiver, notify_url, forge, code):
    no = _paid(wxpay, v2, notify_url, receiver)
    receiver.wait(1)
    wxpay.post("notify", {"out_trade_no": no, "forge": forge})
    assert receiver.forged_one().gateway_code == code
    # our <return_code>FAIL</return_code> answer makes the simulator send it again
    wait_for(lambda: [d for d in wxpay.deliveries(no) if d["forge"] == forge and d["attempts"] >= 2])


def test_tampered_v2_refund_req_info_is_refused(wxpay, v2, receiver, notify_url):
    no = _paid(wxpay, v2, notify_url, receiver)
    v2.refund(RefundRequest(no, "RF" + no, 2500, 2500))
    receiver.wait(2)
    wxpay.post("notify", {"out_trade_no": no, "kind": "refund", "forge": "ciphertext"})
    forged = receiver.wait(3)[2]["parsed"]
    assert isinstance(forged, NotificationInvalid) and forged.gateway_code == "FIELDS"


def test_a_well_signed_notification_with_another_amount_is_refused_by_the_amount_check(
        wxpay, gateway, receiver, notify_url):
    no = _paid(wxpay, gateway, notify_url, receiver, amount=2500)
    genuine = receiver.wait(1)[0]["parsed"]
    assert expect_amount(genuine, 2500) is genuine
    wxpay.post("notify", {"out_trade_no": no, "forge": "amount"})
    wrong = receiver.wait(2)[1]["parsed"]
    assert wrong.trade.amount == 2600
    with pytest.raises(NotificationInvalid) as refused:
        expect_amount(wrong, 2500)
    assert refused.value.gateway_code == "AMOUNT_MISMATCH"


def test_the_same_notification_ten_more_times(wxpay, gateway, receiver, notify_url):
    no = _paid(wxpay, gateway, notify_url, receiver)
    receiver.wait(1)
    wxpay.post("notify", {"out_trade_no": no, "times": 10})
    parsed = [a["parsed"] for a in receiver.wait(11)]
    assert {(n.notification_id, n.trade.transaction_id, n.trade.state) for n in parsed} == \
        {(parsed[0].notification_id, parsed[0].trade.transaction_id, TradeState.PAID)}
    wait_for(lambda: all(d["status"] == "acked" for d in wxpay.deliveries(no)))
    assert len(wxpay.deliveries(no)) == 11


def test_retried_until_acknowledged(wxpay, gateway, receiver, notify_url):
    receiver.fail_first = 3
    no = _paid(wxpay, gateway, notify_url, receiver)
    [delivery] = wait_for(lambda: [d for d in wxpay.deliveries(no) if d["status"] == "acked"])
    assert delivery["answers"] == [500, 500, 500, 200]
    assert [a["failed"] for a in receiver.wait(4)] == [True, True, True, False]


def test_an_unreachable_merchant_is_retried_on_the_schedule(wxpay, v3, receiver, notify_url):
    order = PaymentRequest("NTF" + secrets.token_hex(6), 100, "x", "http://127.0.0.1:9/notify", payer_id="o")
    v3.create(order)
    wxpay.post("pay", {"out_trade_no": order.out_trade_no})
    # scale 0.001: attempts at 0, 15, 30, 60 ms, then 240 ms …
    [delivery] = wait_for(lambda: [d for d in wxpay.deliveries(order.out_trade_no) if d["attempts"] >= 4])
    assert delivery["status"] == "pending" and set(delivery["answers"]) == {"ConnectionError"}


def test_a_refund_notification_can_arrive_before_its_payment(wxpay, v3, receiver, notify_url):
    no = _paid(wxpay, v3, notify_url, receiver, hold=True)
    v3.refund(RefundRequest(no, "RF" + no, 2500, 2500))
    wait_for(lambda: v3.query_refund("RF" + no, no).state is RefundState.SUCCEEDED)
    time.sleep(0.03)
    assert receiver.arrived == []  # both held
    wxpay.post("release", {"out_trade_no": no, "order": "newest_first"})
    kinds = [a["parsed"].kind for a in receiver.wait(2)]
    assert kinds == [NotificationKind.REFUND, NotificationKind.PAYMENT]


def test_a_delayed_notification(wxpay, gateway, receiver, notify_url):
    started = time.monotonic()
    _paid(wxpay, gateway, notify_url, receiver, delay_ms=250)
    time.sleep(0.1)
    assert receiver.arrived == []
    receiver.wait(1)
    assert time.monotonic() - started >= 0.25


def test_v2_md5_merchants_get_md5_signed_notifications(wxpay, receiver, notify_url):
    md5 = WeChatPayV2Gateway(**v2_config(wxpay, notify_url, sign_type="MD5"))
    no = _paid(wxpay, md5, notify_url, receiver)
    [arrival] = receiver.wait(1)
    assert b"sign_type" not in arrival["body"] and arrival["parsed"].trade.out_trade_no == no


def test_the_notifier_gives_up_after_the_sixteen_attempts_of_the_schedule(wxpay, receiver, notify_url):
    receiver.fail_first = 100
    notifier = Notifier(scale=1e-6)  # the 24h04m schedule in about 0.1 s
    try:
        notice = Notice("payment", "v3", "GIVEUP000001", notify_url, {})
        delivery = notifier.send(Message(notice, b"{}", dict, "application/json"))
        wait_for(lambda: delivery.status == "gave_up")
        assert delivery.answers == [500] * (len(SCHEDULE) + 1) == [500] * 16
    finally:
        notifier.close()


def _without(headers: dict, name: str) -> dict:
    return {k: v for k, v in headers.items() if k.lower() != name.lower()}


def test_a_v3_notification_without_a_signature_type_is_read_as_rsa(wxpay, v3, receiver, notify_url):
    # WeChat Pay's SDKs take a missing Wechatpay-Signature-Type for WECHATPAY2-SHA256-RSA2048.
    no = _paid(wxpay, v3, notify_url, receiver)
    [genuine] = receiver.wait(1)
    note = v3.parse_notification(_without(genuine["headers"], "Wechatpay-Signature-Type"), genuine["body"])
    assert (note.kind, note.trade.out_trade_no, note.trade.state) == (NotificationKind.PAYMENT, no, TradeState.PAID)


@pytest.mark.parametrize("named", ["WECHATPAY2-SM2-WITH-SM3", "wechatpay2-sha256-rsa2048", "RSA"])
def test_a_v3_notification_naming_another_signature_type_is_refused(wxpay, v3, receiver, notify_url, named):
    _paid(wxpay, v3, notify_url, receiver)
    [genuine] = receiver.wait(1)
    headers = {**_without(genuine["headers"], "Wechatpay-Signature-Type"), "Wechatpay-Signature-Type": named}
    with pytest.raises(NotificationInvalid) as caught:
        v3.parse_notification(headers, genuine["body"])
    assert caught.value.gateway_code == "SIGNATURE_TYPE"
