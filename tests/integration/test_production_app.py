"""The app as production builds it: it starts while the HIS is down, docs are off, the OpenAPI stays."""
from __future__ import annotations

import base64
import os
import secrets

import pytest

from tests.pg import dispose, fresh_schema


@pytest.fixture
def production_app():
    """Build a production app (own schema on the local PostgreSQL) from settings a test chooses."""
    with fresh_schema("yiqiao_p_") as (_schema, url):
        built = []
        yield _builder(url, built)
        for app in built:
            dispose(app)


def _builder(url: str, built: list):
    """build(**overrides): a production app on url with settings nobody answers at; kept in built."""
    from flask_migrate import upgrade

    from bff.app import create_app

    def build(**overrides):
        settings = {
            "ENV_NAME": "production", "TESTING": True, "JOBS_IN_PROCESS": False, "RATELIMIT_STORAGE_URI": "memory://",
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_urlsafe(48), "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
            "WX_SECRET": secrets.token_hex(16), "HEALTH_CARD_APP_SECRET": secrets.token_urlsafe(24),
            "PAYMENT_GATEWAYS": "", "API_DOCS_ENABLED": None,
            # Nobody answers at these: the reserved .invalid domain never resolves.
            "HIS_ADAPTER": "xmlws", "HIS_WSDL_URL": "http://his.hospital.invalid:8101/his/ws?wsdl",
            "HIS_TIMEOUT_SECONDS": 1.0, "WX_API_BASE": "https://wechat.invalid/",
            "HEALTH_CARD_API_BASE": "https://health-card.invalid", "SMS_ENDPOINT": "https://sms.tencentcloud.invalid",
            **overrides}
        app = create_app(settings)
        with app.app_context():
            upgrade(directory="migrations")
        built.append(app)
        return app

    return build


def test_production_starts_while_the_his_is_down_and_readyz_says_so(production_app):
    client = production_app().test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["checks"]["database"] == "ok" and body["checks"]["his"].startswith("error")


def test_production_serves_no_docs_page_but_the_openapi_document(production_app):
    client = production_app().test_client()
    assert client.get("/api/docs").status_code == 404
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 404
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and "/api/v1/appointments" in spec.get_json()["paths"]


def test_an_admin_can_turn_the_docs_page_on_in_production(production_app):
    client = production_app(API_DOCS_ENABLED=True).test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200 and "/api/docs/static/swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200


def test_an_unknown_running_mode_refuses_to_build_the_app(production_app):
    with pytest.raises(RuntimeError, match="YIQIAO_ENV"):
        production_app(ENV_NAME="staging")
