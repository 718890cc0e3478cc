"""What fuzzing found: ids that cannot exist, bodies nested too deeply, malformed bodies — never a 500."""
from __future__ import annotations

import pytest

from tests.conftest import add_patient

HUGE = ["2147483648", str(2**63), "1" + "0" * 30, "0", "-1"]


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/payments/{}"), ("GET", "/api/v1/kiosk/payments/{}"), ("DELETE", "/api/v1/patients/{}"),
    ("GET", "/api/v1/health-cards/{}/qrcode"),
])
def test_an_id_that_cannot_exist_is_404_like_a_missing_one(client, alice, method, path, value):
    response = client.open(path.format(value), method=method, headers=alice)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", ["/api/v1/appointments/{}", "/api/v1/appointments/{}/queue",
                                  "/api/v1/bills/settlements/{}", "/api/v1/schedules/{}/slots"])
@pytest.mark.parametrize("value", ["%00", "a%00b", "x" * 200, "%1b%5b31m"])
def test_a_text_id_with_control_characters_or_of_a_kilobyte_is_404(client, alice, path, value):
    response = client.get(path.format(value), headers=alice)
    assert response.status_code == 404, response.get_data(as_text=True)


def test_the_largest_id_that_can_exist_is_looked_up_as_usual(client, alice):
    response = client.get(f"/api/v1/payments/{2**31 - 1}", headers=alice)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "PAYMENT_NOT_FOUND"


@pytest.mark.parametrize("depth", [40, 1100, 100_000])
@pytest.mark.parametrize("shape", ["[{}]", '{{"code": {}}}'])
def test_a_body_nested_too_deeply_is_413_not_500(client, depth, shape):
    nested = "[" * depth + "]" * depth
    response = client.post("/api/v1/auth/wx-login", data=shape.format(nested), content_type="application/json")
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_brackets_inside_strings_do_not_count_as_nesting(client, alice):
    response = client.post("/api/v1/patients", headers=alice, content_type="application/json",
                           data='{"name": "' + "[" * 500 + '", "id_type": "01"}')
    assert response.status_code == 422


def test_a_deep_body_on_a_logged_in_route_is_413_too(client, alice):
    patient = add_patient(client, alice)
    deep = "[" * 60 + "]" * 60
    body = f'{{"patient_id": {patient["id"]}, "schedule_id": {deep}, "slot_id": "x"}}'
    response = client.post("/api/v1/appointments", headers=alice, data=body, content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b"{", b'{"code": "a"', b"\xff\xfe", b'{"code": "a"}}', b"[]", b'"code"', b"null"])
def test_a_malformed_body_is_400_or_422(client, body):
    response = client.post("/api/v1/auth/wx-login", data=body, content_type="application/json")
    assert response.status_code in (400, 422), response.get_data(as_text=True)
