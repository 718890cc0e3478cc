"""Login, tokens and the error envelope, through the Flask test client."""
import logging

import pytest
from flask import Blueprint

from tests.conftest import login


def error_of(response):
    return response.get_json()["error"]


def test_login_gives_a_token_that_opens_patient_endpoints(client):
    body = client.post("/api/v1/auth/wx-login", json={"code": "alice"}).get_json()
    assert body["expires_in"] > 0 and body["user"]["id"]
    response = client.get("/api/v1/patients", headers={"Authorization": "Bearer " + body["token"]})
    assert response.status_code == 200 and response.get_json() == {"items": []}


def test_same_wechat_user_is_the_same_account(client):
    first = client.post("/api/v1/auth/wx-login", json={"code": "same"}).get_json()
    second = client.post("/api/v1/auth/wx-login", json={"code": "same"}).get_json()
    assert first["user"]["id"] == second["user"]["id"]


def test_bad_wechat_code_is_401_wx_code_invalid(client):
    response = client.post("/api/v1/auth/wx-login", json={"code": "invalid"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "WX_CODE_INVALID"
    assert "微信" in error_of(response)["message"]


def test_wechat_down_is_503_not_500(client):
    response = client.post("/api/v1/auth/wx-login", json={"code": "down"})
    assert response.status_code == 503 and error_of(response)["code"] == "WX_UNAVAILABLE"


def test_missing_or_forged_token_is_401(client):
    assert error_of(client.get("/api/v1/patients"))["code"] == "UNAUTHORIZED"
    forged = client.get("/api/v1/patients", headers={"Authorization": "Bearer eyJ1aWQiOjF9.forged.sig"})
    assert forged.status_code == 401 and error_of(forged)["code"] == "UNAUTHORIZED"


def test_token_signed_with_another_secret_is_refused(make_app):
    other = make_app(SECRET_KEY="another-secret-key-0123456789-abcdefghij")
    headers = login(other.test_client(), "alice")
    app = make_app()
    assert app.test_client().get("/api/v1/patients", headers=headers).status_code == 401


def test_expired_token_is_401_token_expired(make_app):
    app = make_app(TOKEN_TTL_SECONDS=-1)
    client = app.test_client()
    headers = login(client)
    response = client.get("/api/v1/patients", headers=headers)
    assert response.status_code == 401 and error_of(response)["code"] == "TOKEN_EXPIRED"


def test_unknown_path_and_wrong_method_use_the_envelope(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "NOT_FOUND"
    wrong = client.delete("/api/v1/auth/wx-login")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "METHOD_NOT_ALLOWED"
    assert "POST" in wrong.headers["Allow"]


def test_schema_errors_are_422_with_field_details(client):
    response = client.post("/api/v1/auth/wx-login", json={"cod": "x"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR" and "code" in error["details"]["fields"]


def test_malformed_json_is_a_client_error_not_500(client):
    response = client.post("/api/v1/auth/wx-login", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422) and "error" in response.get_json()


def test_unexpected_exception_is_500_envelope_without_internals(make_app):
    app = make_app()
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    def _boom():
        raise RuntimeError("secret internals 110101199003071234")

    app.register_blueprint(boom)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert error_of(response)["code"] == "INTERNAL_ERROR"
    assert "secret" not in response.get_data(as_text=True)


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-Id": "req-12345678"})
    assert response.headers["X-Request-Id"] == "req-12345678"
    assert len(client.get("/healthz").headers["X-Request-Id"]) == 32


def test_health_and_readiness(client, memory_his):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok", "his": "ok"}
    assert ready.get_json()["outbox"] == {"pending": 0, "oldest_seconds": 0}
    memory_his.set_down(True)
    down = client.get("/readyz")
    assert down.status_code == 503 and down.get_json()["checks"]["his"].startswith("error")


def test_an_unexpected_error_from_the_his_ping_makes_readiness_503_not_500(client, memory_his, monkeypatch, caplog):
    def broken_ping():
        raise ValueError("患者 张三 110101199003071234")

    monkeypatch.setattr(memory_his, "ping", broken_ping)
    with caplog.at_level(logging.ERROR, logger="bff.health"):
        down = client.get("/readyz")
    assert down.status_code == 503 and down.get_json()["status"] == "unavailable"
    assert down.get_json()["checks"] == {"database": "ok", "his": "error: ValueError"}
    [record] = [r for r in caplog.records if r.name == "bff.health"]
    assert record.levelno == logging.ERROR and record.exc_info and record.exc_info[0] is ValueError
    assert "张三" not in record.getMessage() and "110101" not in record.getMessage()
    monkeypatch.undo()
    assert client.get("/readyz").status_code == 200  # the breaker counted no HIS failure


def test_openapi_document_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/auth/wx-login", "/api/v1/patients", "/api/v1/schedules", "/api/v1/appointments",
                 "/api/v1/appointments/{appointment_id}/cancel", "/api/v1/payments", "/api/v1/payments/{payment_id}",
                 "/api/v1/bills", "/api/v1/bills/settlements", "/api/v1/kiosk/facepay",
                 "/api/v1/kiosk/facepay/authinfo", "/api/v1/health-cards", "/api/v1/health-cards/{card_id}/qrcode",
                 "/api/v1/staff/login", "/api/v1/staff/scan", "/api/v1/staff/audit"):
        assert path in spec["paths"]


def test_logs_never_contain_id_numbers_or_phones(caplog):
    from bff.logs import ContextFilter

    record = logging.LogRecord("t", logging.INFO, __file__, 1, "patient %s phone %s",
                               ("110101199003071234", "13912345678"), None)
    ContextFilter().filter(record)
    assert record.getMessage() == "patient 110101********1234 phone 139****5678"


def test_a_huge_body_is_refused_with_the_envelope(client, alice):
    response = client.post("/api/v1/patients", headers=alice, data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                           content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(("hops", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_the_client_address_comes_from_the_proxy_only_when_one_is_configured(make_app, hops, seen):
    from flask import request

    app = make_app(PROXY_HOPS=hops)
    app.add_url_rule("/_whoami", "whoami", lambda: request.remote_addr or "")
    answer = app.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9"},
                                   environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert answer.get_data(as_text=True) == seen
