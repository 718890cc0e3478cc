"""Alipay keys, RSA2 signatures and yuan↔fen: the pieces every request and notification relies on."""
from __future__ import annotations

import base64

import pytest
import rsa
from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa2, verify_with_rsa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa as crypto_rsa

from payments.alipay.errors import REFUND_ERRORS, error_for
from payments.alipay.keys import FastSigner, SdkSigner, load_alipay_public_key, load_app_key, make_signer, verify_rsa2
from payments.alipay.money import fen_to_yuan, yuan_to_fen
from payments.interface import (
    AuthCodeInvalid,
    GatewayRejected,
    InsufficientFunds,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    RefundRejected,
    TradeNotFound,
)
from sandbox.alipay.protocol import sign_content as sandbox_sign_content

CONTENTS = [
    "a=1",
    'app_id=2021000000000001&biz_content={"out_trade_no":"T1","subject":"挂号费-心血管内科","total_amount":"25.00"}'
    "&charset=utf-8&method=alipay.trade.create&sign_type=RSA2&timestamp=2026-01-24 09:00:00&version=1.0",
    "x=" + "长" * 3000,
]


@pytest.fixture(scope="module")
def key_pair():
    key = crypto_rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = lambda fmt: key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()  # noqa: E731
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return {"pkcs1": pem(serialization.PrivateFormat.TraditionalOpenSSL),
            "pkcs8": pem(serialization.PrivateFormat.PKCS8), "public": public, "key": key}


@pytest.mark.parametrize("content", CONTENTS)
def test_fast_signer_is_byte_identical_to_the_sdk(key_pair, content):
    key, pkcs1 = load_app_key(key_pair["pkcs1"])
    fast, sdk = FastSigner(key).sign(content), SdkSigner(pkcs1).sign(content)
    assert fast == sdk == sign_with_rsa2(key_pair["pkcs1"], content, "utf-8")
    assert verify_with_rsa(key_pair["public"], content.encode(), fast)


def test_pkcs8_and_bare_base64_keys_become_the_pkcs1_the_sdk_needs(key_pair):
    with pytest.raises(Exception):  # the defect: the SDK cannot read PKCS#8 at all
        sign_with_rsa2(key_pair["pkcs8"], "a=1", "utf-8")
    bare = "".join(key_pair["pkcs8"].strip().splitlines()[1:-1])
    for given in (key_pair["pkcs8"], bare, key_pair["pkcs1"]):
        _, pkcs1 = load_app_key(given)
        assert pkcs1 == key_pair["pkcs1"]
        assert sign_with_rsa2(pkcs1, "a=1", "utf-8") == FastSigner(key_pair["key"]).sign("a=1")


def test_public_keys_in_any_common_form(key_pair):
    bare = "".join(key_pair["public"].strip().splitlines()[1:-1])
    pkcs1_public = key_pair["key"].public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.PKCS1).decode()
    for given in (key_pair["public"], bare, pkcs1_public):
        assert load_alipay_public_key(given)[1] == key_pair["public"]


@pytest.mark.parametrize("bad", ["", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"])
def test_unreadable_keys_are_refused_at_construction(bad):
    with pytest.raises(ValueError):
        load_app_key(bad)
    with pytest.raises(ValueError):
        load_alipay_public_key(bad)


def test_unknown_signer_is_refused(key_pair):
    key, pkcs1 = load_app_key(key_pair["pkcs1"])
    assert make_signer("sdk", key, pkcs1).name == "sdk"
    with pytest.raises(ValueError):
        make_signer("md5", key, pkcs1)


def test_verify_says_false_instead_of_raising(key_pair):
    public = load_alipay_public_key(key_pair["public"])[0]
    good = FastSigner(key_pair["key"]).sign("a=1&b=2")
    assert verify_rsa2(public, "a=1&b=2", good)
    with pytest.raises(rsa.VerificationError):  # what the SDK's verify does with a bad signature
        verify_with_rsa(key_pair["public"], b"a=1&b=3", good)
    assert not verify_rsa2(public, "a=1&b=3", good)
    assert not verify_rsa2(public, "a=1&b=2", "%%%not base64")
    assert not verify_rsa2(public, "a=1&b=2", "")
    sha1 = base64.b64encode(key_pair["key"].sign(b"a=1&b=2", padding.PKCS1v15(), hashes.SHA1())).decode()  # noqa: S303
    assert verify_with_rsa(key_pair["public"], b"a=1&b=2", sha1)  # the SDK would take an RSA (SHA-1) signature
    assert not verify_rsa2(public, "a=1&b=2", sha1)


def test_the_simulator_builds_the_same_sign_content_as_the_sdk():
    params = {"method": "alipay.trade.query", "app_id": "1", "biz_content": '{"out_trade_no":"T1"}',
              "sign_type": "RSA2", "timestamp": "2026-01-24 09:00:00", "sign": "x"}
    sdk = get_sign_content({k: v for k, v in params.items() if k != "sign"})
    assert sandbox_sign_content(params, ("sign",)) == sdk
    assert sandbox_sign_content({**params, "notify_url": ""}, ("sign",)) == sdk  # empty values are not signed


@pytest.mark.parametrize(("fen", "yuan"), [(0, "0.00"), (1, "0.01"), (10, "0.10"), (2500, "25.00"),
                                           (123456789, "1234567.89")])
def test_fen_and_yuan_round_trip(fen, yuan):
    assert fen_to_yuan(fen) == yuan and yuan_to_fen(yuan) == fen


@pytest.mark.parametrize(("text", "fen"), [("25", 2500), ("25.5", 2550), ("0.07", 7), ("19.99", 1999)])
def test_yuan_without_padding(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("bad", ["25.001", "-1.00", "1e3", "01.00", "", " ", "25.", ".5", "NaN", "1,000.00",
                                 25.0, None])
def test_inexact_or_odd_amounts_are_refused(bad):
    with pytest.raises(ValueError):
        yuan_to_fen(bad)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "100"])
def test_fen_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError):
        fen_to_yuan(bad)


@pytest.mark.parametrize(("answer", "error"), [
    ({"code": "40004", "sub_code": "ACQ.TRADE_NOT_EXIST"}, TradeNotFound),
    ({"code": "40004", "sub_code": "ACQ.BUYER_BALANCE_NOT_ENOUGH"}, InsufficientFunds),
    ({"code": "40004", "sub_code": "ACQ.PAYMENT_AUTH_CODE_INVALID"}, AuthCodeInvalid),
    ({"code": "40004", "sub_code": "ACQ.PAYMENT_REQUEST_HAS_RISK"}, PaymentDeclined),
    ({"code": "40004", "sub_code": "ACQ.SYSTEM_ERROR"}, PaymentOutcomeUnknown),
    ({"code": "40004", "sub_code": "ACQ.SOMETHING_NEW"}, GatewayRejected),
    ({"code": "20000", "sub_code": "isp.unknow-error"}, PaymentOutcomeUnknown),
    ({"code": "40002", "sub_code": "isv.invalid-signature"}, GatewayRejected),
    ({"code": "99999"}, PaymentOutcomeUnknown),
])
def test_answer_codes_become_our_errors(answer, error):
    made = error_for({**answer, "sub_msg": "说明"})
    assert type(made) is error and made.gateway_code == answer.get("sub_code", answer["code"])


def test_refund_context_turns_a_status_error_into_a_refund_refusal():
    answer = {"code": "40004", "sub_code": "ACQ.TRADE_STATUS_ERROR"}
    assert type(error_for(answer)) is GatewayRejected
    assert type(error_for(answer, REFUND_ERRORS)) is RefundRejected


@pytest.mark.parametrize(("sub_code", "refusal"), [
    ("ACQ.SELLER_BALANCE_NOT_ENOUGH", "merchant_balance"), ("ACQ.TRADE_HAS_CLOSE", "trade_closed"),
    ("ACQ.TRADE_NOT_ALLOW_REFUND", "trade_too_old"), ("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "amount"),
])
def test_a_refund_refused_for_good_says_why(sub_code, refusal):
    made = error_for({"code": "40004", "sub_code": sub_code, "sub_msg": "说明"}, REFUND_ERRORS)
    assert type(made) is RefundRejected and made.refusal == refusal


def test_a_refund_met_by_a_system_error_stays_an_unknown_outcome():
    made = error_for({"code": "20000", "sub_code": "ACQ.SYSTEM_ERROR"}, REFUND_ERRORS)
    assert type(made) is PaymentOutcomeUnknown
