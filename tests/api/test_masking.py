"""No combination of fields the API answers about a patient gives their ID number or phone away (API.md).

For generated patients, every answer that concerns them is gathered — their own lists, the booking,
the health card, each scanning role's scan, the admin's audit — and the valid resident IDs and mobile
numbers that fit all of it together are counted: at least 100 each.
"""
from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from bff.extensions import db
from tests.api.booking_helpers import book, find_slot
from tests.api.reidentify import Seen, count_ids, count_phones, gather
from tests.conftest import login
from tests.fakes import resident_id

PASSWORD = "Counter#2026x"
SCANNERS = ("registrar", "nurse", "doctor")


@pytest.fixture
def app(make_app, platform):
    return make_app(health_card=platform.client("a"))


@pytest.fixture
def staff_headers(app, client):
    from bff.staff import service

    with app.app_context():
        for role in (*SCANNERS, "admin"):
            service.create(f"{role}01", f"测试{role}", [role], PASSWORD)
        db.session.remove()

    def as_(role):
        answer = client.post("/api/v1/staff/login", json={"username": f"{role}01", "password": PASSWORD})
        assert answer.status_code == 200, answer.get_json()
        return {"Authorization": "Bearer " + answer.get_json()["token"]}

    return as_


def _people(count: int):
    rng = random.Random(20261204)
    for n in range(count):
        born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(90 * 365))
        number = resident_id(rng.randrange(1000), born.strftime("%Y%m%d"))
        number = rng.choice(["110101", "330106", "440305", "510107"]) + number[6:17]
        yield n, _with_check_digit(number), f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _with_check_digit(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def _everything_about(client, clock, staff_headers, n: int, id_number: str, phone: str) -> list:
    """Every answer the API gives that concerns this one patient, from each side that can see them."""
    user = login(client, f"masked-{n}")
    added = client.post("/api/v1/patients", headers=user, json={
        "name": "王建国", "id_type": "01", "id_number": id_number, "phone": phone, "relation": "self"})
    assert added.status_code == 201, added.get_json()
    patient = added.get_json()
    # a slot of its own for each patient: the catalog is cached and does not see the last booking yet
    schedule, slot = find_slot(client, user, clock().date(), after=clock() + dt.timedelta(minutes=30 * n))
    booked = book(client, user, patient["id"], schedule, slot)
    assert booked.status_code == 201, booked.get_json()
    card = client.post("/api/v1/health-cards", headers=user, json={"patient_id": patient["id"]})
    assert card.status_code == 201, card.get_json()
    answers = [added, booked, card, client.get("/api/v1/patients", headers=user),
               client.get("/api/v1/appointments", headers=user),
               client.get(f"/api/v1/appointments/{booked.get_json()['id']}", headers=user),
               client.get("/api/v1/health-cards", headers=user)]
    for role in SCANNERS:
        code = client.get(f"/api/v1/health-cards/{card.get_json()['id']}/qrcode", headers=user)
        answers += [code, client.post("/api/v1/staff/scan", headers=staff_headers(role),
                                      json={"qr_code_text": code.get_json()["qr_code_text"]})]
    answers.append(client.get("/api/v1/staff/audit", headers=staff_headers("admin")))
    for answer in answers:
        assert answer.status_code in (200, 201), answer.get_json()
    return [answer.get_json() for answer in answers]


def test_everything_shown_about_a_patient_still_fits_100_id_numbers_and_100_phones(
        app, client, clock, staff_headers):
    for n, id_number, phone in _people(4):
        answers = _everything_about(client, clock, staff_headers, n, id_number, phone)
        text = json.dumps(answers, ensure_ascii=False)
        assert id_number not in text.upper() and phone not in text
        seen = Seen()
        for answer in answers:
            gather(answer, seen)
        assert seen.id_masks and seen.phone_masks and seen.birthdays  # the test saw the fields it judges
        candidates = count_ids(seen, clock().date())
        assert candidates >= 100, f"{seen} fits only {candidates} ID numbers"
        assert count_phones(seen) >= 100


def test_the_count_is_an_attackers_count():
    """The old mask (first 6, last 4) beside the birthday fits exactly one number: the arithmetic sees it."""
    number = resident_id(123)
    seen = gather({"id_number_masked": number[:6] + "*" * 8 + number[-4:], "birthday": "1990-03-07", "gender": "M"})
    assert count_ids(seen, dt.date(2026, 1, 1)) == 1
    assert count_phones(gather({"phone_masked": "138****5678"})) == 10**4
