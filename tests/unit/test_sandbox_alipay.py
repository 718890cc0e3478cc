"""The Alipay simulator's gateway checks, with requests signed by the SDK's own functions (not our adapter)."""
from __future__ import annotations

import json
import re

import pytest
from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa2, verify_with_rsa

from sandbox import keys as sandbox_keys
from sandbox.alipay import create_app
from sandbox.alipay.protocol import format_time, now
from sandbox.alipay.store import face_outcome


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return sandbox_keys.ensure(str(tmp_path_factory.mktemp("alipay-sim-keys")))


@pytest.fixture
def client(keys):
    return create_app(keys, retry_delays=()).test_client()


def _params(keys, method_name: str, biz: dict, **overrides) -> dict:
    params = {"app_id": keys.secrets["alipay_app_id"], "method": method_name, "charset": "utf-8", "format": "json",
              "sign_type": "RSA2", "timestamp": format_time(now()), "version": "1.0",
              "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")), **overrides}
    params["sign"] = sign_with_rsa2(keys.private_key("alipay_app"), get_sign_content(params), "utf-8")
    return params


def _call(client, keys, params: dict) -> tuple[dict, str]:
    text = client.post("/gateway.do", data=params).get_data(as_text=True)
    match = re.match(r'^\{"(\w+_response)":(.*),"sign":"([^"]+)"\}$', text)
    if match is None:
        return json.loads(text), ""
    assert verify_with_rsa(keys.public_key("alipay_platform"), match.group(2).encode(), match.group(3))
    return json.loads(match.group(2)), match.group(1)


def test_a_signed_request_gets_a_signed_answer(client, keys):
    answer, key = _call(client, keys, _params(keys, "alipay.trade.query", {"out_trade_no": "T1"}))
    assert key == "alipay_trade_query_response"
    assert (answer["code"], answer["sub_code"]) == ("40004", "ACQ.TRADE_NOT_EXIST")


def test_a_created_trade_is_found(client, keys):
    biz = {"out_trade_no": "T2", "total_amount": "25.00", "subject": "挂号费", "buyer_id": "2088102177846880"}
    created, _ = _call(client, keys, _params(keys, "alipay.trade.create", biz))
    found, _ = _call(client, keys, _params(keys, "alipay.trade.query", {"out_trade_no": "T2"}))
    assert created["code"] == found["code"] == "10000"
    assert (found["trade_no"], found["trade_status"], found["total_amount"]) == (created["trade_no"],
                                                                                  "WAIT_BUYER_PAY", "25.00")


@pytest.mark.parametrize(("tamper", "sub_code"), [
    (lambda p: {**p, "biz_content": p["biz_content"].replace("T1", "T9")}, "isv.invalid-signature"),
    (lambda p: {**p, "sign": p["sign"][::-1]}, "isv.invalid-signature"),
    (lambda p: {k: v for k, v in p.items() if k != "sign"}, "isv.missing-signature"),
    (lambda p: {k: v for k, v in p.items() if k != "timestamp"}, "isv.missing-timestamp"),
])
def test_tampered_or_incomplete_requests_are_refused(client, keys, tamper, sub_code):
    answer, key = _call(client, keys, tamper(_params(keys, "alipay.trade.query", {"out_trade_no": "T1"})))
    assert key == "alipay_trade_query_response" and answer["sub_code"] == sub_code
    assert answer["code"] in ("40001", "40002")


@pytest.mark.parametrize(("overrides", "sub_code"), [
    ({"timestamp": "2020-01-01 00:00:00"}, "isv.invalid-timestamp"),
    ({"sign_type": "RSA"}, "isv.invalid-signature-type"),
    ({"charset": "gbk"}, "isv.invalid-charset"),
    ({"version": "2.0"}, "isv.invalid-version"),
    ({"method": "alipay.trade.nothing"}, "isv.invalid-method"),
])
def test_common_parameters_are_checked(client, keys, overrides, sub_code):
    answer, _ = _call(client, keys, _params(keys, "alipay.trade.query", {"out_trade_no": "T1"}, **overrides))
    assert (answer["code"], answer["sub_code"]) == ("40002", sub_code)


def test_an_unknown_app_gets_an_unsigned_error_response(client, keys):
    text = client.post("/gateway.do", data=_params(keys, "alipay.trade.query", {}, app_id="1")).get_data(as_text=True)
    assert json.loads(text) == {"error_response": {"code": "40002", "msg": "Invalid Arguments",
                                                   "sub_code": "isv.invalid-app-id", "sub_msg": "无效的AppID参数"}}


def test_faults_apply_to_the_gateway_not_to_control(client, keys):
    client.post("/_control/faults", json={"down": True})
    assert client.post("/gateway.do", data=_params(keys, "alipay.trade.query", {})).status_code == 503
    assert client.post("/_control/faults", json={}).get_json()["down"] is True
    client.post("/_control/reset")
    assert client.post("/gateway.do", data=_params(keys, "alipay.trade.query", {})).status_code == 200


@pytest.mark.parametrize(("code", "outcome"), [
    ("fp_ok_1", ("paid", None)), ("28763443825664394", ("paid", None)), ("FP_PAYING_3_x", ("paying", 3)),
    ("fp_paying_forever", ("paying", None)),
    ("fp_insufficient", ("fail", ("ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足"))),
    ("fp_unknown_paid", ("unknown", True)),
])
def test_magic_ftokens(code, outcome):
    assert face_outcome(code) == outcome


def test_control_pay_needs_a_waiting_trade(client, keys):
    assert client.post("/_control/pay", json={"out_trade_no": "nope", "result": "success"}).status_code == 404
    assert client.post("/_control/pay", json={"out_trade_no": "x", "result": "maybe"}).status_code == 400
    biz = {"out_trade_no": "T3", "total_amount": "1.00", "subject": "s", "buyer_id": "2088102177846880"}
    _call(client, keys, _params(keys, "alipay.trade.create", biz))
    assert client.post("/_control/pay", json={"out_trade_no": "T3", "result": "decline"}).get_json()["status"] == \
        "TRADE_CLOSED"
    assert client.post("/_control/pay", json={"out_trade_no": "T3", "result": "success"}).status_code == 409


def test_bill_links_serve_the_zip_and_nothing_else(client, keys):
    answer, _ = _call(client, keys, _params(keys, "alipay.data.dataservice.bill.downloadurl.query",
                                            {"bill_type": "trade", "bill_date": now().date().isoformat()}))
    url = answer["bill_download_url"]
    assert url.startswith("http://localhost/downloadBillFile.resource?")
    reply = client.get(url.removeprefix("http://localhost"))
    assert reply.status_code == 200 and reply.data[:2] == b"PK"
    assert client.get("/downloadBillFile.resource?token=guessed").status_code == 403
    future, _ = _call(client, keys, _params(keys, "alipay.data.dataservice.bill.downloadurl.query",
                                            {"bill_type": "trade", "bill_date": "2999-01-01"}))
    assert future["sub_code"] == "isp.bill_not_exist"
