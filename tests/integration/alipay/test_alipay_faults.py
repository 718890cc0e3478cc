"""Failures the gateway must turn into our errors, and the SDK defects it wraps, shown against the simulator."""
from __future__ import annotations

import socket
import time
import uuid

import pytest
import requests
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.alipay.client import make_config
from payments.interface import (
    GatewayRejected,
    GatewayUnavailable,
    PaymentOutcomeUnknown,
    PaymentRequest,
    TradeNotFound,
)


def _order(gateway) -> PaymentRequest:
    return PaymentRequest(out_trade_no="T" + uuid.uuid4().hex[:20], amount=2500, description="挂号费",
                          notify_url=gateway.notify_url, payer_id="2088102177846880")


def _other_key(private_format=serialization.PrivateFormat.TraditionalOpenSSL) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _query_request(out_trade_no: str) -> AlipayTradeQueryRequest:
    model = AlipayTradeQueryModel()
    model.out_trade_no = out_trade_no
    return AlipayTradeQueryRequest(biz_model=model)


def test_the_raw_sdk_breaks_on_a_port_and_on_http_500_where_the_gateway_does_not(gateway, alipay, alipay_keys):
    config = make_config(gateway.app_id, alipay.gateway_url, alipay_keys.private_key("alipay_app"),
                         alipay_keys.public_key("alipay_platform"), 3.0)
    with pytest.raises(TypeError):  # WebUtils.get_http_connection: str + int port
        DefaultAlipayClient(config).execute(_query_request("T-x"))
    with pytest.raises(TradeNotFound):
        gateway.query("T-x")
    alipay.post("faults", {"error_rate": 1.0})
    with pytest.raises(PaymentOutcomeUnknown) as caught:
        gateway.query("T-x")
    assert caught.value.gateway_code == "HTTP_500" and not isinstance(caught.value, GatewayUnavailable)


def test_the_sdk_timestamp_is_local_time_and_refused_ours_is_shanghai(gateway, alipay, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        # The SDK's own parameter step, unbound from our override: it stamps New York wall-clock time.
        sdk_common, sdk_params = DefaultAlipayClient._DefaultAlipayClient__prepare_request_params(
            gateway.client, _query_request("T-x"))
        answer = requests.post(alipay.gateway_url, data={**sdk_common, **sdk_params}, timeout=5).json()
        assert answer["alipay_trade_query_response"]["sub_code"] == "isv.invalid-timestamp"
        with pytest.raises(TradeNotFound):  # the same request signed by our client passes the gateway's checks
            gateway.query("T-x")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_gateway_down_is_unavailable(gateway, alipay):
    alipay.post("faults", {"down": True})
    with pytest.raises(GatewayUnavailable):
        gateway.create(_order(gateway))
    alipay.post("faults", {"down": False})
    gateway.create(_order(gateway))


def test_nothing_listening_is_unavailable(make_gateway, alipay):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(GatewayUnavailable):
        make_gateway(server_url=f"http://127.0.0.1:{port}/gateway.do").query("T-x")


def test_a_slow_gateway_times_out_as_unknown(make_gateway, alipay):
    alipay.post("faults", {"latency_ms": 800})
    started = time.monotonic()
    with pytest.raises(PaymentOutcomeUnknown) as caught:
        make_gateway(timeout=0.3).query("T-x")
    assert time.monotonic() - started < 0.8 and not isinstance(caught.value, GatewayUnavailable)


def test_a_request_signed_with_another_key_is_refused_by_the_simulator(make_gateway, alipay):
    private, _ = _other_key()
    gateway = make_gateway(app_private_key=private)
    order = _order(gateway)
    with pytest.raises(GatewayRejected) as caught:
        gateway.create(order)
    assert caught.value.gateway_code == "isv.invalid-signature"
    assert alipay.get("trades")["trades"] == []


def test_an_answer_not_signed_by_alipay_is_not_believed(make_gateway, alipay):
    _, public = _other_key()
    with pytest.raises(PaymentOutcomeUnknown) as caught:
        make_gateway(alipay_public_key=public).query("T-x")
    assert caught.value.gateway_code == "RESPONSE_UNVERIFIED"


def test_another_app_id_gets_an_unsigned_refusal_that_is_not_believed(make_gateway, alipay):
    with pytest.raises(PaymentOutcomeUnknown) as caught:
        make_gateway(app_id="2021000000009999").query("T-x")
    assert caught.value.gateway_code == "RESPONSE_UNVERIFIED"


def test_a_pkcs8_app_key_works(make_gateway, alipay, alipay_keys):
    key = serialization.load_pem_private_key(alipay_keys.private_key("alipay_app").encode(), password=None)
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    for signer in ("sdk", "cryptography"):
        gateway = make_gateway(app_private_key=pkcs8, signer=signer)
        assert gateway.create(_order(gateway)).pay_params["tradeNO"]
