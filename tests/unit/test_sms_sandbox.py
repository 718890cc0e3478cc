"""The Tencent Cloud SMS simulator: what it accepts, what it refuses and with which code, its control API.

Requests are signed by hand here (sandbox.sms.signing), so each can be spoiled one way at a time.
"""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from sandbox import keys as sandbox_keys
from sandbox.sms import create_app, signing
from sandbox.sms.app import TZ


class Clock:
    """Real time to start with (signatures carry real timestamps), moved forward by hand."""

    def __init__(self):
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(TZ) + self.offset

    def advance(self, **delta) -> None:
        self.offset += dt.timedelta(**delta)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return sandbox_keys.ensure(str(tmp_path_factory.mktemp("keys")))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(keys, clock):
    return create_app(keys, clock=clock).test_client()


def _params(keys, phones=("+8613800000000",), code="123456", **changes) -> dict:
    s = keys.secrets
    return {"SmsSdkAppId": s["sms_sdk_app_id"], "SignName": s["sms_sign_name"], "TemplateId": s["sms_template_id"],
            "TemplateParamSet": [code, "5"], "PhoneNumberSet": list(phones), **changes}


def _post(client, keys, params: dict, *, secret_id=None, secret_key=None, timestamp=None, host="localhost",
          body=None, received_host=None, service="sms", **headers) -> dict:
    """Sign params (JSON) for `host` and POST them; `body` and `received_host` replace what is sent after signing."""
    payload = json.dumps(params).encode()
    signed = signing.sign_headers(secret_id or keys.secrets["sms_secret_id"],
                                  secret_key or keys.secrets["sms_secret_key"], service, host,
                                  timestamp or int(time.time()), payload)
    sent = {**signed, "X-TC-Action": "SendSms", "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou",
            "X-TC-Timestamp": str(timestamp or int(time.time())), "Host": received_host or host, **headers}
    reply = client.post("/", data=body if body is not None else payload, headers=sent)
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    return reply.get_json()["Response"]


def _error(response: dict) -> str:
    return response["Error"]["Code"]


def _messages(client, phone="13800000000") -> list[dict]:
    return client.get(f"/_control/messages?phone={phone}").get_json()["items"]


def test_a_signed_request_is_delivered_and_the_code_can_be_read_back(client, keys):
    response = _post(client, keys, _params(keys))
    assert response["RequestId"]
    [status] = response["SendStatusSet"]
    assert status["Code"] == "Ok" and status["Message"] == "send success"
    assert status["PhoneNumber"] == "+8613800000000" and status["Fee"] == 1 and status["IsoCode"] == "CN"
    assert status["SerialNo"]
    for asked in ("13800000000", "%2B8613800000000", "+8613800000000"):  # "+" unencoded arrives as a space
        [message] = _messages(client, asked)
        assert message["params"] == ["123456", "5"] and message["template_id"] == keys.secrets["sms_template_id"]
        assert message["phone"] == "+8613800000000"
        assert message["text"] == "【医桥示范医院】您的验证码为123456，5分钟内有效。如非本人操作，请忽略本短信。"
    assert _messages(client, "13900000000") == []


def test_messages_are_listed_newest_first(client, keys, clock):
    _post(client, keys, _params(keys, code="111111"))
    clock.advance(seconds=31)
    _post(client, keys, _params(keys, code="222222"))
    assert [m["params"][0] for m in _messages(client)] == ["222222", "111111"]
    assert client.get("/_control/messages?phone=12345").status_code == 400


def test_a_body_changed_after_signing_is_refused(client, keys):
    tampered = json.dumps(_params(keys, phones=("+8613900000000",))).encode()
    assert _error(_post(client, keys, _params(keys), body=tampered)) == "AuthFailure.SignatureFailure"
    assert _messages(client, "13900000000") == []


def test_a_signature_made_with_another_key_is_refused(client, keys):
    response = _post(client, keys, _params(keys), secret_key="not-the-key-" + "x" * 20)
    assert _error(response) == "AuthFailure.SignatureFailure"
    assert _messages(client) == []


def test_an_unknown_secret_id_is_refused(client, keys):
    response = _post(client, keys, _params(keys), secret_id="AKID" + "0" * 32)
    assert _error(response) == "AuthFailure.SecretIdNotFound"


def test_the_host_signed_must_be_the_host_received(client, keys):
    response = _post(client, keys, _params(keys), host="sms.tencentcloudapi.com", received_host="127.0.0.1:8107")
    assert _error(response) == "AuthFailure.SignatureFailure"
    signed_for_it = _post(client, keys, _params(keys), host="127.0.0.1:8107")
    assert signed_for_it["SendStatusSet"][0]["Code"] == "Ok"


def test_a_signature_scoped_to_another_service_is_refused(client, keys):
    assert _error(_post(client, keys, _params(keys), service="cvm")) == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_a_timestamp_more_than_five_minutes_off_has_expired(client, keys, age):
    response = _post(client, keys, _params(keys), timestamp=int(time.time()) - age)
    assert _error(response) == "AuthFailure.SignatureExpire"
    assert _messages(client) == []


def test_a_timestamp_within_five_minutes_is_accepted(client, keys):
    response = _post(client, keys, _params(keys), timestamp=int(time.time()) - 240)
    assert response["SendStatusSet"][0]["Code"] == "Ok"


def test_a_malformed_authorization_is_refused(client, keys):
    response = _post(client, keys, _params(keys), Authorization="HMAC-SHA256 whatever")
    assert _error(response) == "AuthFailure.InvalidAuthorization"


@pytest.mark.parametrize("header, value, code", [
    ("X-TC-Action", "SendSmsBatch", "InvalidAction"),
    ("X-TC-Version", "2019-07-11", "NoSuchVersion"),
    ("X-TC-Region", "us-east-1", "UnsupportedRegion"),
])
def test_only_send_sms_of_version_2021_01_11_is_served(client, keys, header, value, code):
    assert _error(_post(client, keys, _params(keys), **{header: value})) == code


@pytest.mark.parametrize("change, code", [
    ({"SmsSdkAppId": "1400999999"}, "UnauthorizedOperation.SmsSdkAppIdVerifyFail"),
    ({"SignName": "别的医院"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
    ({"TemplateId": "999"}, "FailedOperation.TemplateIncorrectOrUnapproved"),
    ({"TemplateParamSet": ["123456"]}, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"),
    ({"TemplateParamSet": [123456, 5]}, "InvalidParameterValue.TemplateParameterFormatError"),
    ({"PhoneNumberSet": []}, "MissingParameter.EmptyPhoneNumberSet"),
    ({"PhoneNumberSet": ["+8613800000000"] * 201}, "LimitExceeded.PhoneNumberCountLimit"),
])
def test_the_application_sign_and_template_must_be_the_approved_ones(client, keys, change, code):
    assert _error(_post(client, keys, _params(keys, **change))) == code
    assert _messages(client) == []


@pytest.mark.parametrize("phone, code", [
    ("+861380000000", "InvalidParameterValue.IncorrectPhoneNumber"),
    ("+8623800000000", "InvalidParameterValue.IncorrectPhoneNumber"),
    ("+14155550100", "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone"),
])
def test_a_bad_number_is_refused_in_its_send_status(client, keys, phone, code):
    [status] = _post(client, keys, _params(keys, phones=(phone,)))["SendStatusSet"]
    assert status["Code"] == code and status["Fee"] == 0


def test_one_number_gets_one_message_in_thirty_seconds(client, keys, clock):
    assert _post(client, keys, _params(keys))["SendStatusSet"][0]["Code"] == "Ok"
    clock.advance(seconds=29)
    [status] = _post(client, keys, _params(keys, code="222222"))["SendStatusSet"]
    assert status["Code"] == "LimitExceeded.PhoneNumberThirtySecondLimit"
    # another number is not held up
    assert _post(client, keys, _params(keys, phones=("13900000000",)))["SendStatusSet"][0]["Code"] == "Ok"
    clock.advance(seconds=2)
    assert _post(client, keys, _params(keys, code="333333"))["SendStatusSet"][0]["Code"] == "Ok"
    assert [m["params"][0] for m in _messages(client)] == ["333333", "123456"]


def test_one_number_gets_five_messages_an_hour(client, keys, clock):
    for _ in range(5):
        assert _post(client, keys, _params(keys))["SendStatusSet"][0]["Code"] == "Ok"
        clock.advance(seconds=31)
    assert _post(client, keys, _params(keys))["SendStatusSet"][0]["Code"] == "LimitExceeded.PhoneNumberOneHourLimit"


def test_the_daily_limit_is_set_through_the_control_api_and_reset_restores_it(client, keys):
    assert client.post("/_control/limits", json={}).get_json() == {"thirty_seconds": 1, "hour": 5, "day": 10}
    assert client.post("/_control/limits", json={"thirty_seconds": 10, "day": 2}).get_json() == {
        "thirty_seconds": 10, "hour": 5, "day": 2}
    codes = [_post(client, keys, _params(keys))["SendStatusSet"][0]["Code"] for _ in range(3)]
    assert codes == ["Ok", "Ok", "LimitExceeded.PhoneNumberDailyLimit"]
    client.post("/_control/reset")
    assert _messages(client) == []
    assert client.post("/_control/limits", json={}).get_json()["day"] == 10
    assert _post(client, keys, _params(keys))["SendStatusSet"][0]["Code"] == "Ok"


def test_down_answers_503_and_errors_answer_internal_error(client, keys):
    client.post("/_control/faults", json={"down": True})
    assert client.post("/", json=_params(keys)).status_code == 503
    client.post("/_control/faults", json={"down": False, "error_rate": 1})
    assert _error(_post(client, keys, _params(keys))) == "InternalError.OtherError"
    client.post("/_control/reset")
    assert client.post("/_control/faults", json={}).get_json() == {"latency_ms": 0, "error_rate": 0.0, "down": False}
    assert _post(client, keys, _params(keys))["SendStatusSet"][0]["Code"] == "Ok"


def test_keys_made_before_sms_existed_get_the_sms_secrets_added(tmp_path):
    older = sandbox_keys.ensure(str(tmp_path))
    kept = {k: v for k, v in older.secrets.items() if not k.startswith("sms_")}
    (tmp_path / "secrets.json").write_text(json.dumps(kept), encoding="utf-8")
    again = sandbox_keys.ensure(str(tmp_path))
    assert {k: again.secrets[k] for k in kept} == kept
    assert again.secrets["sms_secret_id"].startswith("AKID") and len(again.secrets["sms_secret_key"]) == 32
    assert sandbox_keys.ensure(str(tmp_path)).secrets == again.secrets  # and they stay
