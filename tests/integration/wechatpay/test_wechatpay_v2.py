"""The wechatpy-based v2 gateway against the simulator: JSAPI money path over mutual TLS, refusals."""
from __future__ import annotations

import datetime as dt
import secrets

import pytest

from payments.interface import (
    BillKind,
    GatewayRejected,
    GatewayUnavailable,
    NotificationKind,
    PaymentRequest,
    RefundRequest,
    RefundState,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeState,
)
from payments.wechatpay import WeChatPayV2Gateway
from sandbox import keys as sandbox_keys
from sandbox.wechatpay import tls
from tests.integration.wechatpay.conftest import v2_config

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _order(notify_url: str, amount: int = 2500) -> PaymentRequest:
    return PaymentRequest("V2" + secrets.token_hex(6), amount, "门诊缴费-检验费", notify_url, payer_id="sandbox-carol",
                          client_ip="10.1.2.3", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10))


@pytest.mark.parametrize("sign_type", ["HMAC-SHA256", "MD5"])
def test_pay_notify_query_refund_and_bill(wxpay, receiver, notify_url, sign_type):
    v2 = WeChatPayV2Gateway(**v2_config(wxpay, notify_url, sign_type=sign_type))
    receiver.gateway = v2
    order = _order(notify_url)
    prepay = v2.create(order)
    assert prepay.pay_params["signType"] == "MD5" and prepay.pay_params["package"] == f"prepay_id={prepay.gateway_ref}"
    wxpay.post("pay", {"pay_params": dict(prepay.pay_params)})
    paid = receiver.wait(1)[0]["parsed"]
    assert paid.kind is NotificationKind.PAYMENT and paid.trade.state is TradeState.PAID
    assert (paid.trade.out_trade_no, paid.trade.amount, paid.notification_id) == \
        (order.out_trade_no, 2500, paid.trade.transaction_id)
    assert v2.query(order.out_trade_no).state is TradeState.PAID

    refund = v2.refund(RefundRequest(order.out_trade_no, "RF" + order.out_trade_no, 1000, 2500, "部分退费"))
    assert refund.state is RefundState.PROCESSING and refund.amount == 1000
    refunded = receiver.wait(2)[1]["parsed"]
    assert refunded.kind is NotificationKind.REFUND and refunded.refund.state is RefundState.SUCCEEDED
    assert (refunded.refund.out_refund_no, refunded.refund.amount) == ("RF" + order.out_trade_no, 1000)
    assert v2.query_refund("RF" + order.out_trade_no, order.out_trade_no).state is RefundState.SUCCEEDED

    lines = v2.download_bill(dt.datetime.now(SHANGHAI).date())
    assert [(ln.kind, ln.amount) for ln in lines] == [(BillKind.PAYMENT, 2500), (BillKind.REFUND, 1000)]


def test_the_expiry_is_sent_in_shanghai_time(wxpay, v2, notify_url):
    order = _order(notify_url)
    v2.create(order)
    trade = wxpay.box.trades.get(order.out_trade_no)
    assert abs((trade.expires_at - order.expires_at).total_seconds()) < 1


def test_close_and_query_refusals(wxpay, v2, notify_url):
    order = _order(notify_url)
    v2.create(order)
    v2.close(order.out_trade_no)
    v2.close(order.out_trade_no)  # ORDERCLOSED is fine
    assert v2.query(order.out_trade_no).state is TradeState.CLOSED
    paid = _order(notify_url)
    v2.create(paid)
    wxpay.post("pay", {"out_trade_no": paid.out_trade_no})
    with pytest.raises(TradeAlreadyPaid):
        v2.close(paid.out_trade_no)
    with pytest.raises(TradeNotFound):
        v2.query("NOSUCHORDER")


def test_refund_needs_the_merchant_certificate(wxpay, notify_url):
    config = v2_config(wxpay, notify_url)
    order = _order(notify_url)
    WeChatPayV2Gateway(**config).create(order)
    wxpay.post("pay", {"out_trade_no": order.out_trade_no})
    without_cert = WeChatPayV2Gateway(**{**config, "mch_cert": None, "mch_key": None})
    plain_http = WeChatPayV2Gateway(**{**config, "api_base_url": wxpay.url + "/"})
    for gateway in (without_cert, plain_http):
        with pytest.raises(GatewayRejected) as refused:
            gateway.refund(RefundRequest(order.out_trade_no, "RF" + order.out_trade_no, 2500, 2500))
        assert refused.value.gateway_code == "RETURN_FAIL"
    assert wxpay.box.trades.get(order.out_trade_no).refunds == {}


def test_a_certificate_from_another_ca_fails_the_handshake(wxpay, notify_url, tmp_path):
    foreign = tls.ensure_tls(sandbox_keys.ensure(str(tmp_path / "foreign")))
    gateway = WeChatPayV2Gateway(**v2_config(wxpay, notify_url, mch_cert=foreign.client_cert,
                                             mch_key=foreign.client_key))
    with pytest.raises(GatewayUnavailable):
        gateway.query("ANYORDER")


def test_the_simulator_refuses_a_request_signed_with_another_key(wxpay, notify_url):
    for sign_type in ("HMAC-SHA256", "MD5"):
        wrong = WeChatPayV2Gateway(**v2_config(wxpay, notify_url, api_key="k" * 32, sign_type=sign_type))
        with pytest.raises(GatewayRejected) as refused:
            wrong.create(_order(notify_url))
        assert (refused.value.gateway_code, refused.value.message) == ("RETURN_FAIL", "签名错误")
    assert wxpay.get("trades").json()["items"] == []


def test_no_bill_is_an_empty_list_and_down_is_unavailable(wxpay, v2, notify_url):
    assert v2.download_bill(dt.date(2020, 1, 1)) == []
    wxpay.post("faults", {"down": True})
    with pytest.raises(GatewayUnavailable):
        v2.create(_order(notify_url))


def test_facepay_authinfo(wxpay, v2, notify_url):
    info = v2.get_facepay_authinfo("rawdata-from-the-face-sdk", store_id="OPD-1", store_name="门诊一楼",
                                   device_id="KIOSK-07")
    assert info.authinfo.startswith("sandbox-authinfo-") and info.expires_in == 3600
    with pytest.raises(GatewayRejected):
        WeChatPayV2Gateway(**v2_config(wxpay, notify_url, api_key="k" * 32)).get_facepay_authinfo(
            "raw", store_id="OPD-1", store_name="门诊一楼", device_id="KIOSK-07")
