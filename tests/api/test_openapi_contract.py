"""The OpenAPI document says who may call each route and which errors it answers (issue 10, item 5)."""
from __future__ import annotations

import pytest

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_the_security_schemes_are_declared(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["patientToken"] == {**schemes["patientToken"], "type": "http", "scheme": "bearer"}
    assert schemes["staffToken"]["scheme"] == "bearer"
    assert {schemes[n]["name"] for n in ("kioskId", "kioskTimestamp", "kioskNonce", "kioskSignature")} == {
        "X-Kiosk-Id", "X-Kiosk-Timestamp", "X-Kiosk-Nonce", "X-Kiosk-Signature"}
    assert schemes["gatewaySignature"]["type"] == "apiKey"


@pytest.mark.parametrize("path,method,scheme", [
    ("/api/v1/patients", "get", "patientToken"), ("/api/v1/appointments", "post", "patientToken"),
    ("/api/v1/staff/scan", "post", "staffToken"), ("/api/v1/staff/audit", "get", "staffToken"),
    ("/api/v1/kiosk/facepay", "post", "kioskSignature"), ("/notify/wechatpay", "post", "gatewaySignature"),
    ("/notify/alipay", "post", "gatewaySignature"),
])
def test_each_route_names_its_credentials(spec, path, method, scheme):
    [requirement] = spec["paths"][path][method]["security"]
    assert scheme in requirement


def test_logging_in_needs_no_credentials(spec):
    assert spec["paths"]["/api/v1/auth/wx-login"]["post"]["security"] == []
    assert spec["paths"]["/api/v1/staff/login"]["post"]["security"] == []


def test_every_route_documents_the_errors_its_decorators_imply(spec):
    for path, method, operation in _operations(spec):
        if path.startswith("/notify/"):
            continue
        answers, security = operation["responses"], operation["security"]
        assert "default" not in answers, (method, path)  # each status is listed, none is left to a catch-all
        if security:
            assert "401" in answers, (method, path)
        if "{" in path:
            assert "404" in answers, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(answers), (method, path)
        for status, answer in answers.items():
            if int(status) >= 400:
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("path,method,statuses", [
    ("/api/v1/staff/audit", "get", {"401", "403"}), ("/api/v1/appointments", "post", {"409", "429", "403"}),
    ("/api/v1/payments", "post", {"409"}), ("/api/v1/staff/login", "post", {"429"}),
])
def test_roles_idempotency_and_rate_limits_show_in_the_answers(spec, path, method, statuses):
    assert statuses <= set(spec["paths"][path][method]["responses"])


def test_int_path_ids_are_bounded_like_the_database(spec):
    [param] = [p for p in spec["paths"]["/api/v1/payments/{payment_id}"]["get"].get("parameters", [])
               + spec["paths"]["/api/v1/payments/{payment_id}"].get("parameters", []) if p["name"] == "payment_id"]
    assert param["schema"]["minimum"] == 1 and param["schema"]["maximum"] == 2**31 - 1


def test_a_nul_character_in_a_body_or_query_is_422_not_stored(client, alice):
    body = client.post("/api/v1/patients", headers=alice, content_type="application/json",
                       data='{"name": "a\\u0000b", "id_type": "01"}')
    assert body.status_code == 422
    query = client.get("/api/v1/appointments?status=confirmed%00", headers=alice)
    assert query.status_code == 422
    key = client.post("/api/v1/payments", headers={**alice, "Idempotency-Key": "k\x01"},
                      json={"order_type": "appointment", "order_id": "x", "channel": "wechat"})
    assert key.status_code == 400


def test_routes_that_take_an_idempotency_key_say_so(spec):
    for path, method in (("/api/v1/appointments", "post"), ("/api/v1/payments", "post"), ("/api/v1/patients", "post")):
        names = [p["name"] for p in spec["paths"][path][method].get("parameters", [])]
        assert names.count("Idempotency-Key") == 1, (method, path)
    assert "parameters" not in spec["paths"]["/api/v1/patients"]["get"]
