"""The wechatpayv3-based gateway against the simulator over loopback: the whole money path, and refusals."""
from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import time

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3 import utils as v3_utils

from payments.interface import (
    BillKind,
    GatewayRejected,
    GatewayUnavailable,
    NotificationKind,
    PaymentOutcomeUnknown,
    PaymentRequest,
    RefundRejected,
    RefundRequest,
    RefundState,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeState,
)
from payments.wechatpay import WeChatPayV3Gateway
from tests.integration.wechatpay.conftest import v3_config
from tests.waiting import wait_for

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _order(notify_url: str, amount: int = 2500, no: str | None = None) -> PaymentRequest:
    return PaymentRequest(no or "REG" + secrets.token_hex(6), amount, "挂号费-心血管内科", notify_url,
                          payer_id="sandbox-alice", client_ip="10.1.2.3", attach="appointment:42")


def _other_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_pay_notify_query_refund_and_bill(wxpay, v3, receiver, notify_url):
    receiver.gateway = v3
    order = _order(notify_url)
    prepay = v3.create(order)
    assert set(prepay.pay_params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert prepay.pay_params["signType"] == "RSA" and prepay.pay_params["package"] == f"prepay_id={prepay.gateway_ref}"
    assert v3.query(order.out_trade_no).state is TradeState.PENDING

    # the payer pays with exactly what wx.requestPayment got; the simulator checks paySign first
    wxpay.post("pay", {"pay_params": dict(prepay.pay_params)})
    [arrival] = receiver.wait(1)
    paid = arrival["parsed"]
    assert paid.kind is NotificationKind.PAYMENT and paid.trade.state is TradeState.PAID
    assert (paid.trade.out_trade_no, paid.trade.amount, paid.trade.paid_amount) == (order.out_trade_no, 2500, 2500)
    assert paid.trade.payer_id == "sandbox-alice" and paid.raw["attach"] == "appointment:42"
    trade = v3.query(order.out_trade_no)
    assert trade.state is TradeState.PAID and trade.transaction_id == paid.trade.transaction_id

    refund = v3.refund(RefundRequest(order.out_trade_no, "RF" + order.out_trade_no, 2500, 2500, "取消预约"))
    assert refund.state is RefundState.PROCESSING and refund.refund_id
    refunded = receiver.wait(2)[1]["parsed"]
    assert refunded.kind is NotificationKind.REFUND and refunded.refund.state is RefundState.SUCCEEDED
    assert (refunded.refund.out_refund_no, refunded.refund.amount) == ("RF" + order.out_trade_no, 2500)
    assert v3.query_refund("RF" + order.out_trade_no, order.out_trade_no).state is RefundState.SUCCEEDED
    assert v3.query(order.out_trade_no).state is TradeState.REFUNDED

    lines = v3.download_bill(dt.datetime.now(SHANGHAI).date())
    assert [(ln.kind, ln.out_trade_no, ln.amount) for ln in lines] == [
        (BillKind.PAYMENT, order.out_trade_no, 2500), (BillKind.REFUND, order.out_trade_no, 2500)]
    assert lines[0].transaction_id == trade.transaction_id and lines[1].refund_id == refund.refund_id


def test_the_control_bill_is_the_downloaded_bill_and_trades_are_listed(wxpay, v3, notify_url):
    order = _order(notify_url, amount=1999)
    v3.create(order)
    wxpay.post("pay", {"out_trade_no": order.out_trade_no})
    today = dt.datetime.now(SHANGHAI).date()
    control_bill = wxpay.get("bill", date=today.isoformat())
    assert control_bill.status_code == 200 and "`19.99" in control_bill.text
    [item] = wxpay.get("trades", date=today.isoformat()).json()["items"]
    assert (item["out_trade_no"], item["state"], item["amount"]) == (order.out_trade_no, "SUCCESS", 1999)
    assert [ln.amount for ln in v3.download_bill(today)] == [1999]
    assert v3.download_bill(today - dt.timedelta(days=3)) == []  # No bill that day: NO_STATEMENT_EXIST


def test_a_forged_pay_sign_does_not_pay(wxpay, v3, notify_url):
    order = _order(notify_url)
    params = dict(v3.create(order).pay_params)
    params["paySign"] = base64.b64encode(secrets.token_bytes(256)).decode()
    wxpay.post("pay", {"pay_params": params}, expect=400)
    assert v3.query(order.out_trade_no).state is TradeState.PENDING


def test_declined_payment_stays_payable_and_sends_nothing(wxpay, v3, receiver, notify_url):
    order = _order(notify_url)
    v3.create(order)
    assert wxpay.post("pay", {"out_trade_no": order.out_trade_no, "result": "decline"})["trade_state"] == "NOTPAY"
    time.sleep(0.05)
    assert receiver.arrived == [] and v3.query(order.out_trade_no).state is TradeState.PENDING


def test_close_and_its_refusals(wxpay, v3, notify_url):
    unpaid, paid = _order(notify_url), _order(notify_url)
    v3.create(unpaid)
    v3.close(unpaid.out_trade_no)
    v3.close(unpaid.out_trade_no)  # closing twice is fine
    assert v3.query(unpaid.out_trade_no).state is TradeState.CLOSED
    v3.create(paid)
    wxpay.post("pay", {"out_trade_no": paid.out_trade_no})
    with pytest.raises(TradeAlreadyPaid):
        v3.close(paid.out_trade_no)
    with pytest.raises(TradeNotFound):
        v3.query("NOSUCHORDER1")


def test_prepay_again_is_the_same_trade_and_a_changed_order_is_refused(wxpay, v3, notify_url):
    order = _order(notify_url)
    assert v3.create(order).gateway_ref == v3.create(order).gateway_ref
    with pytest.raises(GatewayRejected) as refused:
        v3.create(_order(notify_url, amount=1, no=order.out_trade_no))
    assert refused.value.gateway_code == "OUT_TRADE_NO_USED"


def test_refund_rules(wxpay, v3, notify_url):
    order = _order(notify_url, amount=3000)
    v3.create(order)
    wxpay.post("pay", {"out_trade_no": order.out_trade_no})
    first = v3.refund(RefundRequest(order.out_trade_no, "RFA" + order.out_trade_no, 1000, 3000))
    assert v3.refund(RefundRequest(order.out_trade_no, "RFA" + order.out_trade_no, 1000, 3000)).refund_id == \
        first.refund_id  # the same refund number answers the same refund
    with pytest.raises(RefundRejected):
        v3.refund(RefundRequest(order.out_trade_no, "RFB" + order.out_trade_no, 2001, 3000))
    with pytest.raises(TradeNotFound):
        v3.refund(RefundRequest("NOSUCHORDER1", "RFC000001", 1, 1))
    with pytest.raises(TradeNotFound):
        v3.query_refund("NOSUCHREFUND", order.out_trade_no)


def test_gateway_down_is_unavailable_and_errors_are_unknown(wxpay, v3, notify_url):
    wxpay.post("faults", {"down": True})
    with pytest.raises(GatewayUnavailable):
        v3.create(_order(notify_url))
    wxpay.post("faults", {"down": False, "error_rate": 1.0})
    with pytest.raises(PaymentOutcomeUnknown):
        v3.query("ANYORDER01")
    nobody = WeChatPayV3Gateway(**{**v3_config(wxpay.keys, "http://127.0.0.1:9", notify_url)})
    with pytest.raises(GatewayUnavailable):
        nobody.query("ANYORDER01")


def test_an_answer_lost_to_a_timeout_is_unknown_and_the_trade_exists(wxpay, notify_url):
    impatient = WeChatPayV3Gateway(**{**v3_config(wxpay.keys, wxpay.url, notify_url), "timeout": (1.0, 0.15)})
    order = _order(notify_url)
    wxpay.post("faults", {"latency_ms": 300})
    with pytest.raises(PaymentOutcomeUnknown) as unknown:
        impatient.create(order)
    assert unknown.value.gateway_code == "TIMEOUT"
    wxpay.post("faults", {"latency_ms": 0})
    wait_for(lambda: wxpay.get("trades").json()["items"])
    assert impatient.query(order.out_trade_no).state is TradeState.PENDING


def test_the_simulator_refuses_a_request_signed_with_another_key_or_serial(wxpay, notify_url):
    config = v3_config(wxpay.keys, wxpay.url, notify_url)
    for wrong in ({"private_key": _other_pem()}, {"merchant_serial": "0123ABCD"}):
        with pytest.raises(GatewayRejected) as refused:
            WeChatPayV3Gateway(**{**config, **wrong}).create(_order(notify_url))
        assert refused.value.gateway_code == "SIGN_ERROR"
    assert wxpay.get("trades").json()["items"] == []


def test_an_answer_not_signed_by_the_platform_key_is_not_believed(wxpay, notify_url):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    fooled = WeChatPayV3Gateway(**{**v3_config(wxpay.keys, wxpay.url, notify_url), "public_key": pem})
    with pytest.raises(PaymentOutcomeUnknown) as unknown:
        fooled.create(_order(notify_url))
    assert unknown.value.gateway_code == "REPLY_INVALID"


def _signed_post(wxpay, path: str, body: dict, *, stamp_offset: int = 0, nonce: str | None = None,
                 tamper: bool = False) -> requests.Response:
    key = serialization.load_pem_private_key(wxpay.keys.private_key("merchant").encode(), password=None)
    s = wxpay.keys.secrets
    text = json.dumps(body)
    nonce = nonce or secrets.token_hex(16)
    stamp = str(int(time.time()) + stamp_offset)
    signature = v3_utils.rsa_sign(key, f"POST\n{path}\n{stamp}\n{nonce}\n{text}\n")
    header = (f'WECHATPAY2-SHA256-RSA2048 mchid="{s["wechatpay_mchid"]}",nonce_str="{nonce}",'
              f'signature="{signature}",timestamp="{stamp}",serial_no="{s["merchant_serial"]}"')
    data = text.replace("2500", "1") if tamper else text
    return requests.post(wxpay.url + path, data=data, headers={"Authorization": header,
                                                               "Content-Type": "application/json"}, timeout=5)


def test_the_simulator_checks_the_signed_message_time_and_nonce(wxpay):
    s = wxpay.keys.secrets
    body = {"appid": s["wechatpay_appid"], "mchid": s["wechatpay_mchid"], "description": "x",
            "out_trade_no": "RAW0000001", "notify_url": "http://127.0.0.1:9/n", "amount": {"total": 2500},
            "payer": {"openid": "o1"}}
    path = "/v3/pay/transactions/jsapi"
    assert _signed_post(wxpay, path, body, tamper=True).status_code == 401
    assert _signed_post(wxpay, path, body, stamp_offset=-600).status_code == 401
    assert requests.post(wxpay.url + path, json=body, timeout=5).status_code == 401
    ok = _signed_post(wxpay, path, body, nonce="N" * 32)
    assert ok.status_code == 200 and ok.headers["Wechatpay-Serial"] == s["wechatpay_public_key_id"]
    replay = _signed_post(wxpay, path, body, nonce="N" * 32)
    assert replay.status_code == 401 and replay.json()["code"] == "SIGN_ERROR"


def _with_bill_digest(v3, monkeypatch, change) -> None:
    """The gateway's answers as they come, but the bill's stated digest passed through change."""
    real = v3._call

    def call(method, *args, **kwargs):
        status, body = real(method, *args, **kwargs)
        if kwargs.get("bill_type"):
            info = json.loads(body)
            body = json.dumps({**info, "hash_value": change(info["hash_value"])})
        return status, body

    monkeypatch.setattr(v3, "_call", call)


def test_a_bill_digest_stated_in_capitals_is_the_same_digest(wxpay, v3, notify_url, monkeypatch):
    order = _order(notify_url, amount=1999)
    v3.create(order)
    wxpay.post("pay", {"out_trade_no": order.out_trade_no})
    _with_bill_digest(v3, monkeypatch, str.upper)
    assert [ln.amount for ln in v3.download_bill(dt.datetime.now(SHANGHAI).date())] == [1999]


def test_a_bill_whose_digest_differs_is_not_believed(wxpay, v3, notify_url, monkeypatch):
    order = _order(notify_url, amount=1999)
    v3.create(order)
    wxpay.post("pay", {"out_trade_no": order.out_trade_no})
    _with_bill_digest(v3, monkeypatch, lambda digest: ("0" if digest[0] != "0" else "1") + digest[1:].upper())
    with pytest.raises(PaymentOutcomeUnknown):
        v3.download_bill(dt.datetime.now(SHANGHAI).date())
