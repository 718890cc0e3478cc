"""Health cards and staff scanning through the BFF, against the health card platform simulator on loopback."""
from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from bff.extensions import db
from bff.jobs import run_outbox
from tests.api.booking_helpers import book, find_slot
from tests.conftest import add_patient, login

STAFF_PASSWORD = "Counter#2026x"


@pytest.fixture
def app(make_app, platform):
    return make_app(health_card=platform.client("a"))


@pytest.fixture
def staff(app):
    """Accounts of each role, and a way to log in as one."""
    from bff.staff import service

    with app.app_context():
        for username, role in (("reg01", "registrar"), ("nurse01", "nurse"), ("admin01", "admin"),
                               ("pharm01", "pharmacist")):
            service.create(username, f"测试{role}", [role], STAFF_PASSWORD)
        db.session.remove()

    def as_(client, username):
        response = client.post("/api/v1/staff/login", json={"username": username, "password": STAFF_PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": "Bearer " + response.get_json()["token"]}

    return as_


def _card(client, headers, patient):
    response = client.post("/api/v1/health-cards", headers=headers, json={"patient_id": patient["id"]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _dynamic(client, headers, card):
    response = client.get(f"/api/v1/health-cards/{card['id']}/qrcode", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def test_a_patient_gets_one_card_bound_to_their_his_record(client, alice, platform):
    patient = add_patient(client, alice)
    card = _card(client, alice, patient)
    assert card["health_card_id"] and card["qr_code_text"] and card["status"] == "active"
    assert "*" in card["patient"]["id_number_masked"] and card["patient"]["name"] == patient["name"]
    again = client.post("/api/v1/health-cards", headers=alice, json={"patient_id": patient["id"]})
    assert again.status_code == 200 and again.get_json()["id"] == card["id"]
    assert [c["id"] for c in client.get("/api/v1/health-cards", headers=alice).get_json()["items"]] == [card["id"]]
    bindings = platform.bindings()
    assert [b["patid"] for b in bindings] == [patient["his_patient_id"]]


def test_the_dynamic_code_is_fresh_each_time_expires_and_is_never_cached(client, alice, platform):
    card = _card(client, alice, add_patient(client, alice))
    first, second = _dynamic(client, alice, card), _dynamic(client, alice, card)
    assert first.headers["Cache-Control"] == "no-store"
    body = first.get_json()
    assert body["qr_code_text"] != second.get_json()["qr_code_text"]
    assert base64.b64decode(body["png"]).startswith(b"\x89PNG\r\n\x1a\n")
    left = dt.datetime.fromisoformat(body["expires_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=30) < left <= dt.timedelta(seconds=61)


def test_another_users_card_is_404(client, alice, bob):
    card = _card(client, alice, add_patient(client, alice))
    assert client.get(f"/api/v1/health-cards/{card['id']}/qrcode", headers=bob).status_code == 404


def test_a_staff_scan_finds_the_patient_todays_booking_and_pending_orders(app, client, alice, clock, staff,
                                                                         platform, memory_his):
    patient = add_patient(client, alice)
    card = _card(client, alice, patient)
    schedule, slot = find_slot(client, alice, clock().date(), after=clock())
    assert book(client, alice, patient["id"], schedule, slot).status_code == 201
    memory_his.add_bill(patient["his_patient_id"], "检验：血常规", 2500)
    code = _dynamic(client, alice, card).get_json()["qr_code_text"]
    registrar = staff(client, "reg01")
    response = client.post("/api/v1/staff/scan", headers=registrar, json={"qr_code_text": code, "scene": "0101012"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["patient"]["his_patient_id"] == patient["his_patient_id"]
    assert body["patient"]["name"] == "张*" and "*" in body["patient"]["id_number_masked"]  # 张三, masked
    assert [a["doctor_name"] for a in body["appointments"]] == [schedule["doctor_name"]]
    assert [o["title"] for o in body["orders"]] == ["检验：血常规"] and body["orders_available"] is True
    audit = client.get("/api/v1/staff/audit", headers=staff(client, "admin01")).get_json()["items"]
    assert audit[0]["action"] == "scan" and audit[0]["patient_id"] == patient["id"] and audit[0]["ip"]
    for _ in range(2):
        run_outbox(app)
    scenes = sorted((r["scene"], r["card_channel"]) for r in platform.reports())
    assert scenes == [("0101011", "0402"), ("0101012", "0100")]  # the booking in the app, the scan at the counter


@pytest.mark.parametrize("case", ["expired", "tampered", "other_hospital"])
def test_expired_tampered_and_other_hospital_codes_are_refused_and_audited(app, client, alice, staff, platform,
                                                                          case):
    card = _card(client, alice, add_patient(client, alice))
    code = _dynamic(client, alice, card).get_json()["qr_code_text"]
    if case == "expired":
        platform.post("expire", {"qr_code_text": code})
    elif case == "tampered":
        code = code[:-1] + ("A" if code[-1] != "A" else "B")
    else:
        from health_card import CardHolder
        from tests.fakes import resident_id

        other = platform.client("b")
        elsewhere = other.register_health_card(CardHolder(name="李四", id_number=resident_id(901), phone="13900000000"))
        code = other.get_dynamic_qr_code(elsewhere.health_card_id, resident_id(901)).qr_code_text
    response = client.post("/api/v1/staff/scan", headers=staff(client, "nurse01"), json={"qr_code_text": code})
    expected = {"expired": (410, "QR_EXPIRED"), "tampered": (422, "QR_INVALID"), "other_hospital": (422, "QR_INVALID")}
    assert (response.status_code, response.get_json()["error"]["code"]) == expected[case]
    if case == "other_hospital":
        assert response.get_json()["error"]["details"]["reason"] == "other_hospital"
    audit = client.get("/api/v1/staff/audit", headers=staff(client, "admin01")).get_json()["items"]
    assert audit[0]["action"] == "scan_refused" and audit[0]["patient_id"] is None


def test_a_scan_shows_the_age_not_the_birthday_and_takes_the_code_with_a_scanners_newline(app, client, alice,
                                                                                          staff, platform):
    patient = add_patient(client, alice)
    card = _card(client, alice, patient)
    code = _dynamic(client, alice, card).get_json()["qr_code_text"]
    response = client.post("/api/v1/staff/scan", headers=staff(client, "nurse01"),
                           json={"qr_code_text": f" {code}\r\n"})
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()["patient"]
    # the masked ID hides exactly the birth date: showing it too would give the whole number away
    assert "birthday" not in shown and isinstance(shown["age"], int)
    born = patient["birthday"]  # e.g. 1990-03-07
    assert born not in json.dumps(shown) and born.replace("-", "") not in json.dumps(shown)


def test_a_card_made_elsewhere_is_found_in_the_his_once_whoever_scans_it(app, client, staff, platform, memory_his):
    from health_card import CardHolder
    from tests.fakes import resident_id

    elsewhere = platform.client("a")  # our hospital's card, but issued by another channel (the official account)
    issued = elsewhere.register_health_card(CardHolder(name="王五", id_number=resident_id(902), phone="13900000001"))

    def scan(username):
        code = elsewhere.get_dynamic_qr_code(issued.health_card_id, resident_id(902)).qr_code_text
        return client.post("/api/v1/staff/scan", headers=staff(client, username), json={"qr_code_text": code})

    known = len(memory_his._s.patients)
    by_nurse = scan("nurse01").get_json()
    assert by_nurse["patient"]["his_patient_id"] and by_nurse["orders_available"]  # the nurse sees the HIS side
    by_registrar = scan("reg01").get_json()["patient"]
    assert by_registrar["his_patient_id"] == by_nurse["patient"]["his_patient_id"]
    assert len(memory_his._s.patients) == known + 1  # one record (建档), found again the second time
    his_id = by_registrar["his_patient_id"]  # no patient of ours: the audit is found by the HIS's id
    admin = staff(client, "admin01")
    found = client.get(f"/api/v1/staff/audit?his_patient_id={his_id}", headers=admin).get_json()["items"]
    assert [e["action"] for e in found] == ["scan", "scan"]


def test_a_removed_patient_takes_their_card_along(app, client, alice, staff, platform):
    patient = add_patient(client, alice)
    card = _card(client, alice, patient)
    code = _dynamic(client, alice, card).get_json()["qr_code_text"]
    assert client.delete(f"/api/v1/patients/{patient['id']}", headers=alice).status_code == 204
    assert client.get("/api/v1/health-cards", headers=alice).get_json()["items"] == []
    assert client.get(f"/api/v1/health-cards/{card['id']}/qrcode", headers=alice).status_code == 404
    scanned = client.post("/api/v1/staff/scan", headers=staff(client, "nurse01"), json={"qr_code_text": code})
    assert scanned.status_code == 200 and scanned.get_json()["patient"]["patient_id"] is None


def test_usage_reports_reach_the_platform_after_it_was_down(app, client, alice, clock, platform):
    patient = add_patient(client, alice)
    _card(client, alice, patient)
    platform.faults(down=True)
    schedule, slot = find_slot(client, alice, clock().date() + dt.timedelta(days=1))
    assert book(client, alice, patient["id"], schedule, slot).status_code == 201  # the patient is not blocked
    run_outbox(app)
    assert platform.reports() == []
    platform.faults(down=False)
    from bff.outbox import OutboxMessage

    with app.app_context():
        db.session.execute(db.update(OutboxMessage).values(due_at=dt.datetime.now(dt.UTC)))
        db.session.commit()
        db.session.remove()
    run_outbox(app)
    assert [(r["scene"], r["card_channel"]) for r in platform.reports()] == [("0101011", "0402")]


def test_staff_and_patient_credentials_do_not_cross(client, alice, staff):
    registrar = staff(client, "reg01")
    for headers in ({}, alice):
        assert client.post("/api/v1/staff/scan", headers=headers, json={"qr_code_text": "x"}).status_code == 401
        assert client.get("/api/v1/staff/audit", headers=headers).status_code == 401
    assert client.get("/api/v1/patients", headers=registrar).status_code == 401
    assert client.get("/api/v1/appointments", headers=registrar).status_code == 401
    assert client.get("/api/v1/staff/audit", headers=registrar).status_code == 403
    assert client.post("/api/v1/staff/scan", headers=staff(client, "pharm01"), json={"qr_code_text": "x"}) \
        .status_code == 403


def _audit(client, staff):
    return client.get("/api/v1/staff/audit", headers=staff(client, "admin01")).get_json()["items"]


def test_a_scan_refused_for_the_role_is_audited_with_who_what_and_where(client, alice, staff):
    card = _card(client, alice, add_patient(client, alice))
    code = _dynamic(client, alice, card).get_json()["qr_code_text"]
    refused = client.post("/api/v1/staff/scan", headers=staff(client, "pharm01"), json={"qr_code_text": code},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "FORBIDDEN"
    entry = _audit(client, staff)[0]
    assert (entry["action"], entry["detail"], entry["ip"]) == ("forbidden", "POST /api/v1/staff/scan", "10.1.2.3")
    assert entry["staff_id"] and entry["at"]


def test_a_scan_the_platform_could_not_answer_is_audited_too(client, alice, staff, platform):
    card = _card(client, alice, add_patient(client, alice))
    code = _dynamic(client, alice, card).get_json()["qr_code_text"]
    platform.faults(down=True)
    failed = client.post("/api/v1/staff/scan", headers=staff(client, "nurse01"), json={"qr_code_text": code})
    platform.faults(down=False)
    assert failed.status_code == 503
    assert _audit(client, staff)[0]["action"] == "scan_failed"


def test_reading_the_audit_log_is_itself_audited(client, alice, staff):
    patient = add_patient(client, alice)
    admin = staff(client, "admin01")
    first = client.get(f"/api/v1/staff/audit?patient_id={patient['id']}", headers=admin)
    assert first.status_code == 200 and first.get_json()["items"] == []  # the read never shows itself
    entry = client.get("/api/v1/staff/audit", headers=admin).get_json()["items"][0]
    assert entry["action"] == "audit_read"  # the patient asked about is in the detail, typed ids need not exist
    assert f"patient_id={patient['id']}" in entry["detail"] and entry["ip"]


def test_repeated_wrong_passwords_lock_the_account(client, staff):
    staff(client, "reg01")
    answers = [client.post("/api/v1/staff/login", json={"username": "reg01", "password": "wrong-password-1"})
               for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert answers[0].get_json()["error"]["code"] == "STAFF_LOGIN_FAILED"
    assert answers[4].get_json()["error"]["code"] == "STAFF_LOCKED" and answers[4].headers["Retry-After"]
    right = client.post("/api/v1/staff/login", json={"username": "reg01", "password": STAFF_PASSWORD})
    assert right.status_code == 429  # locked even with the right password
    unknown = client.post("/api/v1/staff/login", json={"username": "nobody", "password": STAFF_PASSWORD})
    assert unknown.status_code == 401 and unknown.get_json()["error"]["code"] == "STAFF_LOGIN_FAILED"


def test_it_disables_unlocks_and_resets_staff_from_the_command_line(app, client, staff):
    registrar = staff(client, "reg01")
    cli = app.test_cli_runner()
    assert cli.invoke(args=["staff", "disable", "reg01"]).exit_code == 0
    assert client.get("/api/v1/staff/audit", headers=registrar).status_code == 401  # the token died at once
    refused = client.post("/api/v1/staff/login", json={"username": "reg01", "password": STAFF_PASSWORD})
    assert refused.status_code == 401
    for _ in range(5):
        client.post("/api/v1/staff/login", json={"username": "reg01", "password": "wrong-password-1"})
    assert cli.invoke(args=["staff", "unlock", "reg01"]).exit_code == 0
    assert client.post("/api/v1/staff/login", json={"username": "reg01", "password": STAFF_PASSWORD}) \
        .status_code == 200
    registrar = staff(client, "reg01")
    assert cli.invoke(args=["staff", "set-password", "reg01", "--password", "short"]).exit_code != 0
    assert cli.invoke(args=["staff", "set-password", "reg01", "--password", "Another#Pass2027"]).exit_code == 0
    assert client.post("/api/v1/staff/scan", headers=registrar, json={"qr_code_text": "x", "scene": "0101012"}) \
        .status_code == 401  # tokens from before the reset stop working
    assert client.post("/api/v1/staff/login", json={"username": "reg01", "password": "Another#Pass2027"}) \
        .status_code == 200
    assert "no staff account" in cli.invoke(args=["staff", "unlock", "nobody"]).output


def test_the_audit_log_pages_newest_first_and_refuses_changes(app, client, alice, staff):
    import sqlalchemy as sa

    card = _card(client, alice, add_patient(client, alice))
    nurse = staff(client, "nurse01")
    for _ in range(3):
        code = _dynamic(client, alice, card).get_json()["qr_code_text"]
        client.post("/api/v1/staff/scan", headers=nurse, json={"qr_code_text": code})
    admin = staff(client, "admin01")
    page = client.get("/api/v1/staff/audit?limit=2", headers=admin).get_json()
    rest = client.get(f"/api/v1/staff/audit?limit=2&before={page['next_cursor']}", headers=admin).get_json()
    ids = [e["id"] for e in page["items"] + rest["items"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True) and rest["next_cursor"] is None
    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text("DELETE FROM staff_audit"))
        db.session.rollback()
        db.session.remove()
    login(client, "someone")  # patient endpoints still fine alongside


def test_booking_and_check_in_each_report_once_with_their_codes(app, client, alice, clock, platform):
    patient = add_patient(client, alice)
    _card(client, alice, patient)
    schedule, slot = find_slot(client, alice, clock().date(), after=clock())
    appointment = book(client, alice, patient["id"], schedule, slot).get_json()
    checked_in = client.post(f"/api/v1/appointments/{appointment['id']}/check-in", headers=alice)
    assert checked_in.status_code == 200, checked_in.get_json()
    client.post(f"/api/v1/appointments/{appointment['id']}/check-in", headers=alice)  # again: still one report
    for _ in range(2):
        run_outbox(app)
    reports = platform.reports()
    assert sorted((r["scene"], r["card_channel"], r["department"]) for r in reports) == [
        ("0101011", "0402", schedule["department_code"]), ("0101021", "0402", schedule["department_code"])]


def test_reading_the_refunds_desk_and_unlocking_an_account_are_audited(client, staff):
    admin = staff(client, "admin01")
    assert client.get("/api/v1/admin/refunds?status=refund_failed", headers=admin).status_code == 200
    assert client.post("/api/v1/staff/accounts/nurse01/unlock", headers=admin).status_code == 200
    actions = [(e["action"], e["detail"]) for e in _audit(client, staff)]
    assert ("staff_unlock", "username=nurse01") in actions and ("refunds_read", "status=refund_failed") in actions
