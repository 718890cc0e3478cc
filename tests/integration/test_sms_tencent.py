"""The Tencent Cloud SMS adapter and the official SDK against the simulator over loopback (free port)."""
from __future__ import annotations

import logging
import socket
import threading

import pytest
import requests
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client
from werkzeug.serving import make_server

from bff.sms.port import SmsRejected, SmsUnavailable
from bff.sms.tencent import TencentSms
from sandbox import keys as sandbox_keys
from sandbox.sms import create_app

PHONE, CODE = "13800000000", "482913"


class Simulator:
    """The simulator's address and control API."""

    def __init__(self, url: str, keys):
        self.url, self.keys = url, keys

    def control(self, path: str, body: dict | None = None) -> dict:
        """POST to /_control/<path>."""
        reply = requests.post(f"{self.url}/_control/{path}", json=body or {}, timeout=5)
        reply.raise_for_status()
        return reply.json()

    def messages(self, phone: str = PHONE) -> list[dict]:
        """Messages delivered to phone, newest first."""
        reply = requests.get(f"{self.url}/_control/messages", params={"phone": phone}, timeout=5)
        reply.raise_for_status()
        return reply.json()["items"]

    def sender(self, **changes) -> TencentSms:
        """The adapter configured for this simulator's account (changes override its arguments)."""
        s = self.keys.secrets
        settings = {"secret_id": s["sms_secret_id"], "secret_key": s["sms_secret_key"],
                    "sdk_app_id": s["sms_sdk_app_id"], "sign_name": s["sms_sign_name"],
                    "template_id": s["sms_template_id"], "endpoint": self.url, "timeout": 3.0, **changes}
        return TencentSms(**settings)


@pytest.fixture(scope="module")
def simulator_server(tmp_path_factory):
    keys = sandbox_keys.ensure(str(tmp_path_factory.mktemp("sms-keys")))
    server = make_server("127.0.0.1", 0, create_app(keys), threaded=True)
    threading.Thread(target=server.serve_forever, name="sandbox-sms", daemon=True).start()
    try:
        yield Simulator(f"http://127.0.0.1:{server.server_port}", keys)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def simulator(simulator_server):
    simulator_server.control("reset")
    yield simulator_server
    simulator_server.control("reset")


def test_the_adapter_sends_a_code_the_simulator_accepts(simulator):
    simulator.sender().send_verification_code(PHONE, CODE, 5)
    [message] = simulator.messages("+86" + PHONE)
    assert message["params"] == [CODE, "5"] and CODE in message["text"] and "5分钟" in message["text"]


def test_the_official_sdk_end_to_end(simulator):
    s = simulator.keys.secrets
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=simulator.url.removeprefix("http://"), protocol="http"))
    client = sms_client.SmsClient(credential.Credential(s["sms_secret_id"], s["sms_secret_key"]), "ap-guangzhou",
                                  profile)
    request = models.SendSmsRequest()
    request.SmsSdkAppId, request.SignName, request.TemplateId = s["sms_sdk_app_id"], s["sms_sign_name"], s[
        "sms_template_id"]
    request.TemplateParamSet, request.PhoneNumberSet = ["654321", "10"], ["+8613900000000", "+8613700000000"]
    response = client.SendSms(request)
    assert response.RequestId
    assert [(st.PhoneNumber, st.Code, st.Fee, st.IsoCode) for st in response.SendStatusSet] == [
        ("+8613900000000", "Ok", 1, "CN"), ("+8613700000000", "Ok", 1, "CN")]
    assert simulator.messages("13700000000")[0]["params"] == ["654321", "10"]

    stranger = sms_client.SmsClient(credential.Credential("AKID" + "9" * 32, "k" * 32), "ap-guangzhou", profile)
    with pytest.raises(TencentCloudSDKException) as refused:
        stranger.SendSms(request)
    assert refused.value.code == "AuthFailure.SecretIdNotFound" and refused.value.requestId


@pytest.mark.parametrize("changes, code", [
    ({"secret_key": "k" * 32}, "AuthFailure.SignatureFailure"),
    ({"secret_id": "AKID" + "1" * 32}, "AuthFailure.SecretIdNotFound"),
    ({"template_id": "999"}, "FailedOperation.TemplateIncorrectOrUnapproved"),
    ({"sign_name": "别的医院"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
    ({"region": "ap-hongkong"}, "UnsupportedRegion"),
])
def test_a_refused_request_is_rejected_with_the_vendor_code(simulator, changes, code):
    with pytest.raises(SmsRejected) as refused:
        simulator.sender(**changes).send_verification_code(PHONE, CODE, 5)
    assert refused.value.code == code
    assert simulator.messages() == []


def test_per_number_limits_are_rejections(simulator):
    sms = simulator.sender()
    sms.send_verification_code(PHONE, CODE, 5)
    with pytest.raises(SmsRejected) as too_soon:
        sms.send_verification_code(PHONE, "111111", 5)
    assert too_soon.value.code == "LimitExceeded.PhoneNumberThirtySecondLimit"
    simulator.control("limits", {"thirty_seconds": 10, "day": 2})
    sms.send_verification_code(PHONE, "222222", 5)
    with pytest.raises(SmsRejected) as enough_today:
        sms.send_verification_code(PHONE, "333333", 5)
    assert enough_today.value.code == "LimitExceeded.PhoneNumberDailyLimit"
    assert [m["params"][0] for m in simulator.messages()] == ["222222", CODE]


@pytest.mark.parametrize("phone", ["1380000000", "+8613800000000", "23800000000", ""])
def test_a_number_that_is_not_a_mainland_mobile_is_rejected(simulator, phone):
    with pytest.raises(SmsRejected) as refused:
        simulator.sender().send_verification_code(phone, CODE, 5)
    assert refused.value.code == "InvalidParameterValue.IncorrectPhoneNumber"


@pytest.mark.parametrize("faults", [{"down": True}, {"error_rate": 1}])
def test_a_service_down_or_failing_is_unavailable(simulator, faults):
    simulator.control("faults", faults)
    with pytest.raises(SmsUnavailable):
        simulator.sender().send_verification_code(PHONE, CODE, 5)


def test_a_slow_service_is_unavailable_after_the_timeout(simulator):
    simulator.control("faults", {"latency_ms": 1500})
    with pytest.raises(SmsUnavailable):
        simulator.sender(timeout=0.3).send_verification_code(PHONE, CODE, 5)


def test_no_service_listening_is_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sms = TencentSms("AKID" + "2" * 32, "k" * 32, "1400000001", "医桥示范医院", "1000001",
                     endpoint=f"http://127.0.0.1:{port}", timeout=2.0)
    with pytest.raises(SmsUnavailable):
        sms.send_verification_code(PHONE, CODE, 5)


def test_neither_the_phone_nor_the_code_is_logged(simulator, caplog):
    caplog.set_level(logging.DEBUG)
    sms = simulator.sender()
    sms.send_verification_code(PHONE, CODE, 5)
    with pytest.raises(SmsRejected):
        sms.send_verification_code(PHONE, CODE, 5)
    simulator.control("faults", {"down": True})
    with pytest.raises(SmsUnavailable):
        sms.send_verification_code("13900000000", "777777", 5)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "sms sent" in text and "sms refused" in text and "sms not sent" in text
    for secret in (PHONE, CODE, "13900000000", "777777"):
        assert secret not in text


def test_make_run_wiring_sends_through_the_sandbox_sms(tmp_path):
    from bff import bootstrap, config
    from deploy.sandbox_env import bff_settings
    from sandbox import __main__ as sandbox

    assert sandbox.PORTS["sms"] == ("SANDBOX_SMS_PORT", 8107)
    box = sandbox.build("127.0.0.1", str(tmp_path), {})
    box.serve()
    try:
        urls = {name: box.url(name) for name in box.servers}
        sms = bootstrap.build_sms(config.load(bff_settings(urls, box.keys, box.tls_files)))
        sms.send_verification_code(PHONE, CODE, 5)
        reply = requests.get(f"{urls['sms']}/_control/messages", params={"phone": PHONE}, timeout=5).json()
        assert [m["params"] for m in reply["items"]] == [[CODE, "5"]]
    finally:
        box.shutdown()
