"""Who may call what, over every route the BFF has: patients, staff and kiosks never cross over."""
from __future__ import annotations

import re

import pytest

from tests.conftest import login

PUBLIC = {"/api/v1/auth/wx-login", "/api/v1/staff/login"}


def _routes(app):
    """(method, concrete path) of every /api/v1 route, path parameters filled with harmless values."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in PUBLIC or "openapi" in rule.rule:
            continue
        path = re.sub(r"<int:[^>]+>", "1", re.sub(r"<(?!int:)[^>]+>", "x1", rule.rule))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def _kind(path: str) -> str:
    if path.startswith(("/api/v1/staff/", "/api/v1/admin/")):
        return "staff"
    if path.startswith("/api/v1/kiosk/"):
        return "kiosk"
    return "patient"


@pytest.fixture
def staff_token(app, client):
    from bff.extensions import db
    from bff.staff import service

    with app.app_context():
        service.create("admin99", "管理员", ["admin", "registrar", "nurse", "doctor"], "Admin#Pass2026")
        db.session.remove()
    response = client.post("/api/v1/staff/login", json={"username": "admin99", "password": "Admin#Pass2026"})
    return {"Authorization": "Bearer " + response.get_json()["token"]}


def test_every_route_refuses_callers_of_another_kind(app, client, staff_token):
    patient = login(client, "alice")
    callers = {"nobody": {}, "patient": patient, "staff": staff_token}
    allowed = {"patient": {"patient"}, "staff": {"staff"}, "kiosk": set()}  # kiosks sign each request instead
    checked = 0
    for method, path in _routes(app):
        for who, headers in callers.items():
            if who in allowed[_kind(path)]:
                continue
            response = client.open(path, method=method, headers=headers, json={})
            assert response.status_code == 401, (who, method, path, response.get_json())
            assert response.get_json()["error"]["code"] in (
                "UNAUTHORIZED", "STAFF_UNAUTHORIZED", "KIOSK_UNAUTHORIZED"), (who, method, path)
            checked += 1
    assert checked > 50  # every route of the three kinds was tried
