"""The health card client against the simulator: signatures, app tokens, credentials."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests

from health_card import AppCredentialsInvalid, AppTokenInvalid, RequestInvalid, SignatureInvalid
from health_card.signing import sign_request

AUTH_URL = "/rest/auth/HealthCard/HealthOpenAuth/AuthObj/getAppToken"
ISV_URL = "/rest/auth/HealthCard/HealthOpenPlatform/ISVOpenObj/"


def _raw(platform, path: str, req: dict, token: str = "", tamper=None) -> dict:
    """POST a hand-built envelope signed with app a's secret; tamper(req) runs after signing."""
    common = {"appToken": token, "requestId": "raw-1", "hospitalId": "10001",
              "timestamp": str(int(platform.clock().timestamp())), "channelNum": 1}
    common["sign"] = sign_request(common, req, platform.apps["a"]["app_secret"])
    if tamper:
        tamper(req)
    resp = requests.post(platform.base_url + path, json={"commonIn": common, "req": req}, timeout=5)
    assert resp.status_code == 200
    return resp.json()


def test_a_request_altered_after_signing_is_refused(platform):
    token_reply = _raw(platform, AUTH_URL, {"appId": "hc-test-app-a"})
    assert token_reply["commonOut"] == {"requestId": "raw-1", "resultCode": 0, "errMsg": "成功"}
    assert token_reply["rsp"]["expiresIn"] == 7200
    token = token_reply["rsp"]["appToken"]
    req = {"healthCardId": "X" * 64, "idType": "01", "idNumber": "110101199003070015"}

    honest = _raw(platform, ISV_URL + "getDynamicQRCode", dict(req), token)
    altered = _raw(platform, ISV_URL + "getDynamicQRCode", dict(req), token,
                   tamper=lambda r: r.update(idNumber="110101199003070023"))
    added = _raw(platform, ISV_URL + "getDynamicQRCode", dict(req), token, tamper=lambda r: r.update(codeType="1"))

    assert honest["commonOut"]["resultCode"] == 20002  # signature fine: the card just does not exist
    assert altered["commonOut"]["resultCode"] == 10001
    assert added["commonOut"]["resultCode"] == 10001


def test_wrong_secret_is_a_signature_error(platform):
    with pytest.raises(SignatureInvalid) as caught:
        platform.client("a", app_secret="not-the-secret").check()
    assert (caught.value.code, caught.value.platform_code) == ("HEALTH_CARD_SIGN_INVALID", "10001")


def test_unknown_app_and_foreign_hospital_are_credential_errors(platform):
    with pytest.raises(AppCredentialsInvalid) as unknown:
        platform.client("a", app_id="hc-no-such-app").check()
    with pytest.raises(AppCredentialsInvalid) as foreign:
        platform.client("a", hospital_id="10002").check()
    assert (unknown.value.platform_code, foreign.value.platform_code) == ("10004", "10005")


def test_a_clock_far_off_the_platforms_is_refused(platform):
    late = platform.client("a", clock=lambda: platform.clock() - dt.timedelta(minutes=10))
    with pytest.raises(RequestInvalid) as caught:
        late.check()
    assert caught.value.platform_code == "10006"


def test_the_token_is_fetched_once_and_reused(platform, enrol):
    card, id_number = enrol(1)
    client = platform.client("a")
    for _ in range(3):
        client.get_dynamic_qr_code(card.health_card_id, id_number)
    assert platform.calls("getAppToken") == 2  # one for enrol's client, one for this one
    assert platform.calls("getDynamicQRCode") == 3


def test_concurrent_first_calls_share_one_token_fetch(platform, enrol):
    card, id_number = enrol(2)
    fetches_before = platform.calls("getAppToken")
    client = platform.client("a")
    platform.faults(latency_ms=150)  # widen the window in which the threads overlap
    results, errors = [], []

    def show_code():
        try:
            results.append(client.get_dynamic_qr_code(card.health_card_id, id_number))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=show_code) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == [] and len(results) == 8
    assert platform.calls("getAppToken") - fetches_before == 1


def test_the_token_is_refreshed_before_it_expires(platform, enrol):
    card, id_number = enrol(3)
    client = platform.client("a", token_refresh_margin=300)
    client.get_dynamic_qr_code(card.health_card_id, id_number)
    fetches = platform.calls("getAppToken")

    platform.clock.advance(seconds=7200 - 400)  # still outside the margin
    client.get_dynamic_qr_code(card.health_card_id, id_number)
    assert platform.calls("getAppToken") == fetches

    platform.clock.advance(seconds=200)  # 200 s before expiry: inside the margin
    client.get_dynamic_qr_code(card.health_card_id, id_number)
    assert platform.calls("getAppToken") == fetches + 1

    platform.clock.advance(seconds=400)  # the first token is dead by now, the new one is not
    client.get_dynamic_qr_code(card.health_card_id, id_number)
    assert platform.calls("getAppToken") == fetches + 1


def test_a_token_the_platform_expired_early_is_refetched(platform, enrol):
    card, id_number = enrol(4)
    client = platform.client("a")
    client.get_dynamic_qr_code(card.health_card_id, id_number)
    fetches, calls = platform.calls("getAppToken"), platform.calls("getDynamicQRCode")
    assert platform.post("tokens/expire", {"app_id": "hc-test-app-a"})["expired"] >= 1

    code = client.get_dynamic_qr_code(card.health_card_id, id_number)

    assert code.health_card_id == card.health_card_id
    assert platform.calls("getAppToken") == fetches + 1
    assert platform.calls("getDynamicQRCode") == calls + 2  # refused once, then sent again


def test_the_token_is_refetched_only_once(platform):
    platform.post("tokens/ttl", {"seconds": 0})  # every token the platform issues is dead on arrival
    client = platform.client("a")
    with pytest.raises(AppTokenInvalid) as caught:
        client.get_health_card_by_qr_code("A" * 32 + ":0:" + "B" * 16)
    assert caught.value.platform_code == "10003"
    assert platform.calls("getAppToken") == 2
    assert platform.calls("getHealthCardByQRCode") == 2
