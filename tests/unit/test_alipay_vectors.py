"""Alipay's string to sign, held against published vectors of other implementations.

The notification below is one Alipay really sent and signed, with the Alipay public key that verifies
it, as published in the tests of Alipay's official Node.js SDK (alipay/alipay-sdk-nodejs-all,
test/alipay.test.ts, "checkNotifySign … verify sign should delete sign_type"). The empty-value rule
is the one of Alipay's official Java SDK (alipay/alipay-sdk-java-all, AlipaySignature.getSignContent
and getSignCheckContentV1 skip a value that StringUtils.isEmpty calls empty: "", or only white space).
"""
from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.alipay import notify
from payments.alipay.client import SdkClient, make_config
from payments.alipay.keys import load_app_key, make_signer, sign_content, verify_rsa2
from payments.interface import NotificationInvalid, NotificationKind, TradeState
from sandbox.alipay.protocol import Signer as SandboxSigner
from sandbox.alipay.protocol import sign_content as sandbox_sign_content

ALIPAY_PUBLIC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqObrdC7hrgAVM98tK0nv3hSQRGGKT4lBsQjHiGjeYZjOPIPHR5knm2jnnz/YGIXI"
    "ofVHkA/tAlBAd5DrY7YpvI4tP5EONLtZKC2ghBMx7McI2wRD0xiqzxOQr1FuhZGJ8/AUokBzJrzY+aGX2xcOrxFYRlFilvVLTXg4LWjR1tdP"
    "kO6+i7wQZAIVMClPkwVRZEbaERRHlKqTzv2gGv5rDU8gRoe1LeaN+6BlbTqHWkQcNCUNrA8C6l17XAXGKDsm/9TFWwO8EPHHHCaQdjtV5/Fd"
    "cWIt+L8SR1ss7EXTjYDFtxcKVv9rEoY1lX8T4mX+GbXfZHraG5NCF1+XioL5JwIDAQAB")
FIELDS = {
    "gmt_create": "2019-08-15 15:56:22", "charset": "utf-8", "seller_email": "z97-yuquerevenue@service.aliyun.com",
    "subject": "语雀空间 500人规模", "buyer_id": "2088102534368455", "invoice_amount": "0.10",
    "notify_id": "2019081500222155624068450559358070",
    "fund_bill_list": '[{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}]', "notify_type": "trade_status_sync",
    "trade_status": "TRADE_SUCCESS", "receipt_amount": "0.10", "buyer_pay_amount": "0.10",
    "app_id": "2019073166072302", "seller_id": "2088531891668739", "gmt_payment": "2019-08-15 15:56:24",
    "notify_time": "2019-08-15 15:56:25", "version": "1.0", "out_trade_no": "20190815155618536-564-57",
    "total_amount": "0.10", "trade_no": "2019081522001468450512505578", "auth_app_id": "2019073166072302",
    "buyer_logon_id": "xud***@126.com", "point_amount": "0.00",
}
SIGN = ("QfTb8tqE1BMhS5qAnXtvsF3/jBkEvu9q9en0pdbBUDDjvKycZhQb7h8GDs4FKfi049PynaNuatxSgLb/nLWZpXyyh0LEWdK2S6Ri7nPwrVgO"
        "s08zugLO20vOQz44y3ti2Ncm8/wZts1Fr2gZ7pShnVX3d1B50hbsXnObT1r/U8ONNQjWXd0HIul4TG+Q3fm3svmSvFEy0WnzuhcyHPX5Gm4E"
        "LNctL6Qd5YniGJFNcc7kopHYtI/XD9YCKCH6Ct02rzUs9i11C9CsadtZn+WhxF26Dqt9sGEFajkJ8cxUTLi8+VCpLHsgPE8P0y095uQcDdK0"
        "YjCh4x7wVSov+lrmOQ==")


@pytest.fixture(scope="module")
def alipay_key():
    return serialization.load_der_public_key(base64.b64decode(ALIPAY_PUBLIC_KEY))


def _parse(form: dict, key):
    body = urlencode({**form, "sign": SIGN, "sign_type": "RSA2"}).encode("ascii")
    return notify.parse({}, body, public_key=key, app_id=FIELDS["app_id"], seller_id=FIELDS["seller_id"])


def test_the_sign_content_of_a_published_notification_is_what_alipay_signed(alipay_key):
    content = sign_content(FIELDS)
    assert content.startswith("app_id=2019073166072302&auth_app_id=2019073166072302&buyer_id=2088102534368455&")
    assert "&fund_bill_list=[{\"amount\":\"0.10\",\"fundChannel\":\"ALIPAYACCOUNT\"}]&gmt_create=" in content
    assert verify_rsa2(alipay_key, content, SIGN)


def test_a_notification_alipay_signed_is_accepted(alipay_key):
    note = _parse(FIELDS, alipay_key)
    assert note.kind is NotificationKind.PAYMENT and note.notification_id == FIELDS["notify_id"]
    assert (note.trade.out_trade_no, note.trade.state, note.trade.amount) == (
        "20190815155618536-564-57", TradeState.PAID, 10)


@pytest.mark.parametrize("empty", [{"body": ""}, {"passback_params": ""}, {"body": "", "extend_params": "  "}])
def test_empty_fields_are_not_part_of_what_alipay_signed(alipay_key, empty):
    # Alipay leaves empty values out of what it signs: the same signature covers the form with them.
    note = _parse({**FIELDS, **empty}, alipay_key)
    assert note.trade.amount == 10


@pytest.mark.parametrize("change", [{"total_amount": "100.10"}, {"body": "x"}, {"out_trade_no": "another"}])
def test_the_published_notification_changed_is_refused(alipay_key, change):
    with pytest.raises(NotificationInvalid) as caught:
        _parse({**FIELDS, **change}, alipay_key)
    assert caught.value.gateway_code == "SIGN_INVALID"


def test_ours_and_the_simulators_sign_content_leave_out_the_same_empty_values():
    params = {"app_id": "2021000000000001", "method": "alipay.trade.query", "notify_url": "", "app_auth_token": " ",
              "biz_content": '{"out_trade_no":"T1"}', "sign_type": "RSA2", "timestamp": "2026-01-24 09:00:00"}
    expected = ('app_id=2021000000000001&biz_content={"out_trade_no":"T1"}&method=alipay.trade.query'
                "&sign_type=RSA2&timestamp=2026-01-24 09:00:00")
    assert sign_content(params) == sandbox_sign_content(params, ()) == expected


@pytest.fixture(scope="module")
def app_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.mark.parametrize("signer", ["cryptography", "sdk"])
def test_a_request_with_an_empty_parameter_is_signed_as_alipay_verifies_it(app_key, signer):
    private, public = app_key
    key, pkcs1 = load_app_key(private)
    client = SdkClient(make_config("2021000000000001", "http://127.0.0.1:9/gateway.do", pkcs1, public, 3.0),
                       make_signer(signer, key, pkcs1))
    model = AlipayTradeQueryModel()
    model.out_trade_no = "T1"
    request = AlipayTradeQueryRequest(biz_model=model)
    request.add_other_text_param("org_pid", "")
    common, params = client._DefaultAlipayClient__prepare_request_params(request)
    sent = {**params, **common}
    assert "org_pid=&" not in sign_content(sent) and "org_pid" in sent
    alipay = SandboxSigner(private, public)  # the simulator verifies by Alipay's rule
    assert alipay.verify_request(sent)
