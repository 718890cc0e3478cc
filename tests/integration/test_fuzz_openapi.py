"""schemathesis against the BFF's own OpenAPI document, on PostgreSQL: no 5xx, every answer as documented.

Each operation gets a bounded number of generated requests (hypothesis), sent straight to the WSGI
app — as a patient, as staff (an admin who is also a registrar, so scans and the audit log are
reached), and kiosk routes unsigned (their documented answer is then 401). Every answer must be a
documented status with a body that validates against its schema.
"""
from __future__ import annotations

import datetime as dt
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.booking_helpers import book, find_slot
from tests.conftest import TEST_CONFIG
from tests.fakes import FakeClock, FakeWxLogin, resident_id
from tests.pg import dispose, fresh_schema

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
STAFF_PASSWORD = "Fuzz#2026-staff"


@pytest.fixture(scope="module")
def fuzz_app(healthcard_platform):
    """The BFF on a PostgreSQL schema of its own, with the memory HIS and the card platform simulator."""
    from flask_migrate import upgrade

    from bff.app import create_app
    from bff.his.adapters.memory import MemoryHis
    from bff.staff import service as staff

    with fresh_schema("yiqiao_fuzz_") as (schema, url):
        clock = FakeClock()
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url,
                          "RECONCILE_DIR": f"/tmp/{schema}", "PAYMENT_MODE": "online"},
                         his=MemoryHis(now=clock), wx_login=FakeWxLogin(), clock=clock,
                         health_card=healthcard_platform.client("a"))
        with app.app_context():
            upgrade(directory="migrations")
            staff.create("fuzz-admin", "模糊测试", ["admin", "registrar"], STAFF_PASSWORD)
            app.extensions["sqlalchemy"].session.remove()
        yield app
        dispose(app)


@pytest.fixture(scope="module")
def credentials(fuzz_app):
    """Bearer headers by security scheme: a patient with a booking, a payment and a card; the staff account."""
    client = fuzz_app.test_client()
    token = client.post("/api/v1/auth/wx-login", json={"code": "fuzzer"}).get_json()["token"]
    patient = {"Authorization": f"Bearer {token}"}
    _seed(client, patient, fuzz_app.extensions["clock"])
    staff = client.post("/api/v1/staff/login", json={"username": "fuzz-admin", "password": STAFF_PASSWORD})
    assert staff.status_code == 200, staff.get_json()
    return {"patientToken": patient, "staffToken": {"Authorization": f"Bearer {staff.get_json()['token']}"}}


def _seed(client, headers, clock) -> None:
    """Real records behind the lists, so their answers are checked against the schemas too."""
    added = client.post("/api/v1/patients", headers=headers, json={
        "name": "模糊", "id_type": "01", "id_number": resident_id(4242), "phone": "13900000000", "relation": "self"})
    assert added.status_code == 201, added.get_json()
    schedule, slot = find_slot(client, headers, clock().date() + dt.timedelta(days=1))
    booked = book(client, headers, added.get_json()["id"], schedule, slot)
    assert booked.status_code == 201, booked.get_json()
    paying = client.post("/api/v1/payments", headers=headers, json={
        "order_type": "appointment", "order_id": booked.get_json()["id"], "channel": "wechat"})
    assert paying.status_code == 201, paying.get_json()
    card = client.post("/api/v1/health-cards", headers=headers, json={"patient_id": added.get_json()["id"]})
    assert card.status_code == 201, card.get_json()


def _headers(operation, credentials) -> dict:
    headers = {}
    for requirement in operation.definition.raw.get("security", []):
        for name in requirement:
            headers.update(credentials.get(name, {}))
    return headers


def _fuzz(operation, credentials, failures: list, mode: GenerationMode) -> None:
    headers = _headers(operation, credentials)

    @settings(max_examples=EXAMPLES if mode == GenerationMode.POSITIVE else EXAMPLES // 2, deadline=None,
              derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Exception as failure:  # noqa: BLE001 -- every operation's findings are reported together
        failures.append(f"{operation.label} ({mode.value}): {failure}")


def test_every_route_answers_as_documented_and_never_5xx(fuzz_app, credentials):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app).exclude(path_regex="^/notify/")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25  # the document lists the routes
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, credentials, failures, mode)
    assert not failures, "\n\n".join(failures)
