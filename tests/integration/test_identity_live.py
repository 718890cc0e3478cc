"""Proof before linking, over loopback: the BFF asks the sandbox HIS (xmlws, transaction 2000) who the
person is, texts the code through the Tencent Cloud SMS adapter to the simulator, and links after it."""
from __future__ import annotations

import pytest
import requests

from tests.e2e.stack import start_stack

DEMO = {"name": "王建国", "id_type": "01", "id_number": "110101198001010010", "phone": "13912345678",
        "relation": "self"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    live = start_stack(str(tmp_path_factory.mktemp("identity")))
    yield live
    live.stop()


def _post(stack, path, token=None, **kwargs):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.post(stack.urls["bff"] + path, headers=headers, timeout=15, **kwargs)


def _login(stack, code):
    return _post(stack, "/api/v1/auth/wx-login", json={"code": code}).json()["token"]


def _codes_sent(stack, phone):
    reply = requests.get(f"{stack.urls['sms']}/_control/messages", params={"phone": phone}, timeout=5)
    return [m["params"][0] for m in reply.json()["items"]]


def test_the_demo_person_is_linked_only_with_the_code_sent_to_the_phone_on_file(stack):
    token = _login(stack, "identity-live")
    refused = _post(stack, "/api/v1/patients", token, json={**DEMO, "name": "王建军"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "PATIENT_IDENTITY_MISMATCH"
    assert _codes_sent(stack, "13800000000") == []

    started = _post(stack, "/api/v1/patients", token, json=DEMO)
    assert started.status_code == 202 and started.json()["phone_masked"] == "138****0000"
    assert _codes_sent(stack, "13912345678") == []
    (code,) = _codes_sent(stack, "13800000000")
    linked = _post(stack, "/api/v1/patients/verify", token,
                   json={"verification_id": started.json()["verification_id"], "code": code})
    assert linked.status_code == 201 and linked.json()["name"] == "王建国"
