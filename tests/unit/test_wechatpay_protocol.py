"""WeChat Pay signing, verification, decryption and bill parsing: ours, the simulator's and the SDKs' agree."""
from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from urllib3.exceptions import MaxRetryError, NewConnectionError
from wechatpayv3 import utils as v3_utils
from wechatpy.crypto import WeChatRefundCrypto
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from payments.interface import (
    AuthCodeInvalid,
    BillKind,
    GatewayRejected,
    GatewayUnavailable,
    InsufficientFunds,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    RefundRejected,
    TradeNotFound,
)
from payments.wechatpay import errors, v2_protocol
from payments.wechatpay.common import check_number, parse_trade_bill, yuan_to_fen
from payments.wechatpay.v2_client import VerifyingWeChatPay
from sandbox.wechatpay import crypto as sim_crypto
from sandbox.wechatpay import facecodes

# The example of WeChat Pay's signature documentation (签名算法), with its published results.
DOC_FIELDS = {"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000", "body": "test",
              "nonce_str": "ibuaiVcKdpRxkhJA"}
DOC_KEY = "192006250b4c09247ec02edce69f6a2d"


@pytest.fixture(scope="module")
def key_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, key.public_key()


def test_v2_signatures_match_the_documented_example():
    assert v2_protocol.sign(DOC_FIELDS, DOC_KEY) == "9A0A8659F005D6984697E2CA0A9CF3B7"
    assert v2_protocol.sign(DOC_FIELDS, DOC_KEY, "HMAC-SHA256") == \
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"


@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256"])
def test_v2_ours_the_simulators_and_wechatpys_signatures_agree(sign_type):
    fields = {**DOC_FIELDS, "total_fee": "2500", "attach": "", "detail": "挂号费 & 诊查费", "sign_type": sign_type}
    wechatpy_sign = (calculate_signature_hmac if sign_type == "HMAC-SHA256" else calculate_signature)(fields, DOC_KEY)
    assert v2_protocol.sign(fields, DOC_KEY, sign_type) == sim_crypto.v2_sign(fields, DOC_KEY, sign_type) == \
        wechatpy_sign


def test_v2_verify_follows_the_messages_sign_type_and_refuses_tampering():
    hmac_fields = {**DOC_FIELDS, "sign_type": "HMAC-SHA256"}
    hmac_fields["sign"] = v2_protocol.sign(hmac_fields, DOC_KEY, "HMAC-SHA256")
    assert v2_protocol.verify(hmac_fields, DOC_KEY)
    assert not v2_protocol.verify({**hmac_fields, "body": "test2"}, DOC_KEY)
    assert not v2_protocol.verify({**hmac_fields, "sign_type": "MD5"}, DOC_KEY)  # algorithm downgrade
    assert not v2_protocol.verify(hmac_fields, "another-key-another-key-another-k")
    assert not v2_protocol.verify({**DOC_FIELDS, "sign": ""}, DOC_KEY)
    assert not v2_protocol.verify({**DOC_FIELDS, "sign_type": "SHA1", "sign": "X"}, DOC_KEY)


def test_v2_xml_round_trip_escapes_and_refuses_entities():
    fields = {"body": "A&B <诊查> ]]>", "total_fee": 1}
    assert v2_protocol.from_xml(v2_protocol.to_xml(fields)) == {"body": "A&B <诊查> ]]>", "total_fee": "1"}
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>'
    assert "root:" not in v2_protocol.from_xml(evil).get("a", "")
    with pytest.raises(v2_protocol.ProtocolError):
        v2_protocol.from_xml(b"<other/>")


def test_refund_req_info_from_the_simulator_decrypts_with_ours_and_wechatpys():
    inner = "<root><out_refund_no>R1</out_refund_no><refund_fee>2500</refund_fee></root>"
    req_info = sim_crypto.ecb_encrypt(DOC_KEY, inner)
    assert v2_protocol.decrypt_req_info(req_info, DOC_KEY) == {"out_refund_no": "R1", "refund_fee": "2500"}
    wechatpy = WeChatRefundCrypto(DOC_KEY).decrypt_message(
        {"req_info": req_info, "appid": "a", "mch_id": "m"}, "a", "m")
    assert wechatpy["refund_fee"] == "2500"


def test_refund_req_info_tampered_or_under_another_key_is_refused():
    req_info = sim_crypto.ecb_encrypt(DOC_KEY, "<root><refund_fee>2500</refund_fee></root>")
    raw = bytearray(base64.b64decode(req_info))
    raw[-1] ^= 0x55
    for bad in (base64.b64encode(bytes(raw)).decode(), "not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(v2_protocol.ProtocolError):
            v2_protocol.decrypt_req_info(bad, DOC_KEY)
    with pytest.raises(v2_protocol.ProtocolError):
        v2_protocol.decrypt_req_info(req_info, "another-key-another-key-another-k")


def test_v3_authorization_built_by_the_sdk_is_what_the_simulator_verifies(key_pair):
    private, public = key_pair
    body = {"appid": "wx1", "amount": {"total": 2500}}
    header = v3_utils.build_authorization("/v3/pay/transactions/jsapi", "POST", "1900000109", "SERIAL", private, body)
    params = dict(part.split("=", 1) for part in header.split(" ", 1)[1].split(","))
    params = {k: v.strip('"') for k, v in params.items()}
    signed = f"POST\n/v3/pay/transactions/jsapi\n{params['timestamp']}\n{params['nonce_str']}\n{json.dumps(body)}\n"
    assert sim_crypto.rsa_verify(public, signed, params["signature"])
    assert not sim_crypto.rsa_verify(public, signed.replace("2500", "1"), params["signature"])


def test_v3_simulator_signatures_and_ciphertexts_are_what_the_sdk_accepts(key_pair):
    private, public = key_pair
    signature = sim_crypto.rsa_sign(private, '1700000000\nn0nce\n{"a":1}\n')
    assert v3_utils.rsa_verify("1700000000", "n0nce", '{"a":1}', signature, public)
    key = "0123456789abcdef0123456789abcdef"
    resource = sim_crypto.gcm_encrypt(key, '{"out_trade_no":"A1"}', "transaction")
    plain = v3_utils.aes_decrypt(resource["nonce"], resource["ciphertext"], "transaction", key)
    assert plain == '{"out_trade_no":"A1"}'
    assert v3_utils.aes_decrypt(resource["nonce"], resource["ciphertext"], "refund", key) is None  # wrong AAD


BILL = (
    "\ufeff交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,"
    "订单金额,申请退款金额,费率备注\r\n"
    "`2026-11-24 08:30:00,`wx1,`1900000109,`0,`,`4200001,`ORD001,`o1,`JSAPI,`SUCCESS,`OTHERS,`CNY,`25.00,`0.00,`0,`0,"
    "`0.00,`0.00,`,`,`挂号费,心内科,`,`0.15000,`0.60%,`25.00,`0.00,`\r\n"
    "`2026-11-24 09:00:00,`wx1,`1900000109,`0,`,`4200002,`ORD002,`o1,`MICROPAY,`REVOKED,`OTHERS,`CNY,`0.00,`0.00,`0,"
    "`0,`0.00,`0.00,`,`,`门诊缴费,`,`0.00000,`0.60%,`8.00,`0.00,`\r\n"
    "`2026-11-24 10:00:00,`wx1,`1900000109,`0,`,`4200001,`ORD001,`o1,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5000001,"
    "`RF001,`12.34,`0.00,`ORIGINAL,`SUCCESS,`挂号费,`,`-0.07404,`0.60%,`0.00,`12.34,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`3,`25.00,`12.34,`0.00,`0.07596,`33.00,`12.34\r\n")


def test_trade_bill_lines_are_payments_and_refunds_in_fen():
    lines = parse_trade_bill("wechatpay_v3", BILL)
    assert [(ln.kind, ln.out_trade_no, ln.amount) for ln in lines] == [
        (BillKind.PAYMENT, "ORD001", 2500), (BillKind.REFUND, "ORD001", 1234)]
    payment, refund = lines
    assert payment.at == dt.datetime(2026, 11, 24, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert payment.fee == 15 and payment.transaction_id == "4200001"
    assert (refund.out_refund_no, refund.refund_id, refund.state, refund.fee) == ("RF001", "5000001", "SUCCESS", -7)
    assert parse_trade_bill("wechatpay_v3", "") == []


def test_older_bill_columns_are_understood():
    old = ("交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
           "货币种类,总金额,代金券或立减优惠金额,微信退款单号,商户退款单号,退款金额,代金券或立减优惠退款金额,"
           "退款类型,退款状态,商品名称,商户数据包,手续费,费率\n"
           "`2014-11-10 16:33:45,`wx2421b1c4370ec43b,`10000100,`0,`1000,`1001690740201411100005734289,`1415640626,"
           "`085e9858e3ba5186aafcbaed1,`MICROPAY,`SUCCESS,`CFT,`CNY,`0.01,`0.0,`0,`0,`0,`0,`,`,`被扫支付测试,`订单额外描述,`0,`0.60%\n"
           "总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额\n`1,`0.01,`0,`0,`0\n")
    [line] = parse_trade_bill("wechatpay_v2", old)
    assert (line.out_trade_no, line.amount, line.kind) == ("1415640626", 1, BillKind.PAYMENT)


def test_money_and_our_numbers():
    assert [yuan_to_fen(t) for t in ("25.00", "0.01", "0.07404", "-0.07404", "12.345")] == [2500, 1, 7, -7, 1235]
    with pytest.raises(ValueError):
        yuan_to_fen("abc")
    assert check_number("ORD_2026-001") == "ORD_2026-001"
    for bad in ("../v3/bill", "A" * 33, "", "单号"):
        with pytest.raises(GatewayRejected):
            check_number(bad)


@pytest.mark.parametrize(("code", "refund", "expected"), [
    ("NOTENOUGH", False, InsufficientFunds), ("NOTENOUGH", True, RefundRejected),
    ("AUTHCODEEXPIRE", False, AuthCodeInvalid), ("AUTH_CODE_INVALID", False, AuthCodeInvalid),
    ("TRADE_ERROR", False, PaymentDeclined), ("SYSTEMERROR", False, PaymentOutcomeUnknown),
    ("USERPAYING", False, PaymentOutcomeUnknown), ("ORDERNOTEXIST", True, TradeNotFound),
    ("PARAM_ERROR", False, GatewayRejected),
])
def test_gateway_codes_become_our_errors(code, refund, expected):
    error = errors.for_code(code, "x", refund=refund)
    assert type(error) is expected and error.gateway_code == code


def test_http_answers_and_transport_failures_become_our_errors():
    assert isinstance(errors.for_http(503, None, ""), GatewayUnavailable)
    assert type(errors.for_http(500, "SYSTEM_ERROR", "")) is PaymentOutcomeUnknown
    assert isinstance(errors.for_http(404, "ORDER_NOT_EXIST", ""), TradeNotFound)
    assert isinstance(errors.for_http(403, "NOT_ENOUGH", "", refund=True), RefundRejected)
    refused = NewConnectionError(None, "Connection refused")
    not_sent = errors.for_transport(requests.ConnectionError(MaxRetryError(None, "/pay/micropay", reason=refused)))
    assert isinstance(not_sent, GatewayUnavailable) and not_sent.gateway_code == "NOT_SENT"
    lost = errors.for_transport(requests.ConnectionError("Connection reset by peer"))
    assert type(lost) is PaymentOutcomeUnknown and lost.gateway_code == "CONNECTION_LOST"
    unknown = errors.for_transport(requests.ReadTimeout())
    assert type(unknown) is PaymentOutcomeUnknown and unknown.gateway_code == "TIMEOUT"


def _response(xml: str) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = 200, xml.encode()
    return response


def test_a_v2_reply_with_a_bad_signature_is_not_believed():
    client = VerifyingWeChatPay(sign_type="HMAC-SHA256", tls_verify=True, api_base_url="http://127.0.0.1:1/",
                                appid="wx1", api_key=DOC_KEY, mch_id="10000100")
    reply = {"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx1", "mch_id": "10000100",
             "nonce_str": "n", "trade_state": "SUCCESS"}
    good = {**reply, "sign": v2_protocol.sign(reply, DOC_KEY, "HMAC-SHA256")}
    assert client._handle_result(_response(v2_protocol.to_xml(good).decode()))["trade_state"] == "SUCCESS"
    forged = {**good, "trade_state": "NOTPAY"}
    with pytest.raises(PaymentOutcomeUnknown):
        client._handle_result(_response(v2_protocol.to_xml(forged).decode()))
    unsigned = {**reply}
    with pytest.raises(PaymentOutcomeUnknown):
        client._handle_result(_response(v2_protocol.to_xml(unsigned).decode()))


@pytest.mark.parametrize(("code", "answer", "state", "polls"), [
    ("FACE_OK_1", "SUCCESS", "SUCCESS", 0), ("134567890123456789", "SUCCESS", "SUCCESS", 0),
    ("FACE_PAYING_3_x", "USERPAYING", "USERPAYING", 3), ("FACE_PAYING_FOREVER", "USERPAYING", "USERPAYING", None),
    ("FACE_NOTENOUGH", "NOTENOUGH", "PAYERROR", 0), ("FACE_EXPIRED", "AUTHCODEEXPIRE", None, 0),
    ("FACE_SYSERR_PAID", "SYSTEMERROR", "SUCCESS", 0), ("garbage", "AUTH_CODE_INVALID", None, 0),
])
def test_magic_face_codes(code, answer, state, polls):
    outcome = facecodes.outcome(code)
    assert (outcome.answer, outcome.state, outcome.polls) == (answer, state, polls)



def test_a_v2_signature_in_lower_case_hex_still_verifies():
    from payments.wechatpay import v2_protocol

    params = {"appid": "wx1", "mch_id": "1900000109", "nonce_str": "abc", "total_fee": "1"}
    signed = {**params, "sign": v2_protocol.sign(params, "k" * 32, v2_protocol.MD5).lower()}
    assert v2_protocol.verify(signed, "k" * 32)
    assert not v2_protocol.verify({**signed, "total_fee": "2"}, "k" * 32)


@pytest.mark.parametrize(("status", "code", "message", "refusal"), [
    (403, "NOT_ENOUGH", "基本账户余额不足，请充值后重新发起", "merchant_balance"),
    (403, "USER_ACCOUNT_ABNORMAL", "退款请求失败", "account_abnormal"),
    (400, "INVALID_REQUEST", "订单已超过退款期限", "trade_too_old"),
    (200, "TRADE_OVERDUE", "订单已经超过退款期限", "trade_too_old"),  # v2's err_code
    (400, "PARAM_ERROR", "参数错误", "other"),
])
def test_a_refund_refused_for_good_says_why(status, code, message, refusal):
    error = errors.for_http(status, code, message, refund=True) if status != 200 else \
        errors.for_code(code, message, refund=True)
    assert type(error) is RefundRejected and error.refusal == refusal


def test_a_frequency_limit_on_a_refund_is_transient_not_a_refusal():
    from payments.interface import GatewayBusy

    assert type(errors.for_http(429, "FREQUENCY_LIMITED", "频率限制", refund=True)) is GatewayBusy
    assert type(errors.for_code("FREQUENCY_LIMITED", "", refund=True)) is GatewayBusy
    assert type(errors.for_http(500, "SYSTEM_ERROR", "", refund=True)) is PaymentOutcomeUnknown
