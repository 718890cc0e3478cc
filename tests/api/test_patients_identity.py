"""Linking a person the hospital already knows needs proof (trust issue, security item 1): the name on
file, then the SMS code sent to the phone the HIS holds. A first-timer is still created at once."""
from __future__ import annotations

import pytest

from tests.conftest import add_patient, login
from tests.fakes import FakeSms, resident_id

KNOWN_ID = resident_id(501)
HIS_PHONE = "13800000000"


@pytest.fixture
def sms(app):
    fake = FakeSms()
    app.extensions["sms"] = fake
    return fake


@pytest.fixture
def known(memory_his):
    """A person registered at the hospital's window: an HIV test among their pending fees."""
    his_id = memory_his.add_patient("买买提·艾力", KNOWN_ID, HIS_PHONE)
    memory_his.add_bill(his_id, "检验：HIV抗体检测", 8000)
    return his_id


def body(**fields) -> dict:
    return {"name": "买买提·艾力", "id_type": "01", "id_number": KNOWN_ID, "phone": "13912345678",
            "relation": "self", **fields}


def start(client, headers, **fields):
    response = client.post("/api/v1/patients", headers=headers, json=body(**fields))
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def verify(client, headers, verification_id, code):
    return client.post("/api/v1/patients/verify", headers=headers,
                       json={"verification_id": verification_id, "code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def link_events(app) -> list[tuple[str, int]]:
    from bff.extensions import db
    from bff.patients.models import PatientLinkEvent

    with app.app_context():
        rows = db.session.execute(db.select(PatientLinkEvent).order_by(PatientLinkEvent.id)).scalars()
        return [(e.action, e.user_id) for e in rows]


def test_a_stranger_with_the_wrong_name_is_refused_and_nothing_is_linked(client, alice, sms, known):
    response = client.post("/api/v1/patients", headers=alice, json=body(name="张三"))
    assert response.status_code == 409 and error_code(response) == "PATIENT_IDENTITY_MISMATCH"
    assert sms.sent == [] and HIS_PHONE[-4:] not in response.get_data(as_text=True)
    assert client.get("/api/v1/patients", headers=alice).get_json() == {"items": []}


def test_the_right_name_sends_a_code_to_the_phone_on_file_not_the_one_typed(client, alice, sms, known):
    started = start(client, alice)
    assert started["phone_masked"] == "138****0000" and len(started["verification_id"]) >= 32
    assert [(phone, minutes) for phone, _, minutes in sms.sent] == [(HIS_PHONE, 5)]
    assert client.get("/api/v1/patients", headers=alice).get_json() == {"items": []}


def test_the_right_code_links_the_patient_and_their_bills_become_visible(client, alice, sms, known):
    started = start(client, alice)
    response = verify(client, alice, started["verification_id"], sms.sent[-1][1])
    assert response.status_code == 201, response.get_json()
    patient = response.get_json()
    assert patient["his_patient_id"] == known and patient["phone_masked"] == "139****5678"
    bills = client.get(f"/api/v1/bills?patient_id={patient['id']}", headers=alice).get_json()["items"]
    assert [b["title"] for b in bills] == ["检验：HIV抗体检测"]
    again = verify(client, alice, started["verification_id"], sms.sent[-1][1])
    assert again.status_code == 404 and error_code(again) == "VERIFICATION_NOT_FOUND"


def test_five_wrong_codes_spend_the_verification_even_for_the_right_code(client, alice, sms, known):
    started = start(client, alice)
    code = sms.sent[-1][1]
    answers = [verify(client, alice, started["verification_id"], wrong(code)) for _ in range(5)]
    assert [(r.status_code, error_code(r)) for r in answers] == [(422, "VERIFICATION_CODE_INVALID")] * 5
    assert answers[0].get_json()["error"]["details"]["attempts_left"] == 4
    last = verify(client, alice, started["verification_id"], code)
    assert last.status_code == 429 and error_code(last) == "RATE_LIMITED"
    assert client.get("/api/v1/patients", headers=alice).get_json() == {"items": []}


def test_a_code_expires_after_five_minutes(client, alice, sms, known, clock):
    started = start(client, alice)
    clock.advance(minutes=5, seconds=1)
    response = verify(client, alice, started["verification_id"], sms.sent[-1][1])
    assert response.status_code == 410 and error_code(response) == "VERIFICATION_EXPIRED"


def test_another_users_verification_is_404(client, alice, bob, sms, known):
    started = start(client, alice)
    response = verify(client, bob, started["verification_id"], sms.sent[-1][1])
    assert response.status_code == 404 and error_code(response) == "VERIFICATION_NOT_FOUND"
    resend = client.post("/api/v1/patients/verify/resend", headers=bob,
                         json={"verification_id": started["verification_id"]})
    assert resend.status_code == 404
    assert client.get("/api/v1/patients", headers=bob).get_json() == {"items": []}


def test_resend_waits_sixty_seconds_and_only_the_new_code_works(client, alice, sms, known, clock):
    started = start(client, alice)
    first = sms.sent[-1][1]
    resend = {"verification_id": started["verification_id"]}
    clock.advance(seconds=30)
    early = client.post("/api/v1/patients/verify/resend", headers=alice, json=resend)
    assert early.status_code == 429 and early.headers["Retry-After"] == "30" and len(sms.sent) == 1
    clock.advance(seconds=30)
    later = client.post("/api/v1/patients/verify/resend", headers=alice, json=resend)
    assert later.status_code == 202 and later.get_json()["phone_masked"] == "138****0000"
    assert len(sms.sent) == 2 and sms.sent[-1][0] == HIS_PHONE
    if first != sms.sent[-1][1]:
        assert verify(client, alice, started["verification_id"], first).status_code == 422
    assert verify(client, alice, started["verification_id"], sms.sent[-1][1]).status_code == 201


def test_codes_to_one_phone_are_limited_per_day(make_app, memory_his, clock):
    app = make_app(VERIFY_DAILY_PER_PHONE=2)
    app.extensions["sms"] = sms = FakeSms()
    client = app.test_client()
    memory_his.add_patient("李四", KNOWN_ID, HIS_PHONE)
    for user in ("u1", "u2"):
        start(client, login(client, user), name="李四")
    third = client.post("/api/v1/patients", headers=login(client, "u3"), json=body(name="李四"))
    assert third.status_code == 429 and error_code(third) == "RATE_LIMITED" and len(sms.sent) == 2
    clock.advance(days=1)
    start(client, login(client, "u3"), name="李四")


def test_codes_one_account_asks_for_are_limited_per_day(make_app, memory_his, clock):
    app = make_app(VERIFY_DAILY_PER_USER=2, VERIFY_DAILY_PER_PHONE=100)
    app.extensions["sms"] = sms = FakeSms()
    client = app.test_client()
    headers = login(client, "collector")
    for n in range(3):
        memory_his.add_patient("王五", resident_id(600 + n), f"1380000000{n}")
    start(client, headers, name="王五", id_number=resident_id(600))
    start(client, headers, name="王五", id_number=resident_id(601))
    third = client.post("/api/v1/patients", headers=headers, json=body(name="王五", id_number=resident_id(602)))
    assert third.status_code == 429 and len(sms.sent) == 2


@pytest.mark.parametrize("typed", ["买买提•艾力", "买买提.艾力", "买买提・艾力", "买买提 · 艾力", "买买提．艾力"])
def test_names_match_whatever_middle_dot_and_spaces(client, alice, sms, known, typed):
    assert start(client, alice, name=typed)["phone_masked"] == "138****0000"


def test_full_width_letters_and_case_match(client, alice, sms, memory_his):
    memory_his.add_patient("John Smith", KNOWN_ID, HIS_PHONE)
    assert start(client, alice, name="ＪＯＨＮ　ＳＭＩＴＨ")["phone_masked"] == "138****0000"


def test_a_name_with_a_trailing_newline_is_refused(client, alice):
    response = client.post("/api/v1/patients", headers=alice, json={
        "name": "张三\n", "id_type": "01", "id_number": resident_id(502), "phone": "13912345678",
        "relation": "self"})
    assert response.status_code == 422 and "name" in response.get_json()["error"]["details"]["fields"]


def test_a_first_timer_is_still_created_at_once_without_an_sms(client, alice, sms, memory_his):
    patient = add_patient(client, alice, 503)
    assert patient["his_patient_id"] and sms.sent == []
    assert memory_his.find_patient("01", resident_id(503)).phone == "13912345678"


def test_unknown_and_known_answers_reveal_no_phone_or_id(client, alice, sms, known):
    refused = client.post("/api/v1/patients", headers=alice, json=body(name="张三")).get_data(as_text=True)
    started = client.post("/api/v1/patients", headers=alice, json=body()).get_data(as_text=True)
    for text in (refused, started):
        assert HIS_PHONE not in text and KNOWN_ID not in text and known not in text


def test_a_pending_verification_does_not_count_and_the_limit_is_checked_at_verify(client, alice, sms, known):
    started = start(client, alice)
    for seq in range(510, 515):
        add_patient(client, alice, seq, relation="other")
    response = verify(client, alice, started["verification_id"], sms.sent[-1][1])
    assert response.status_code == 409 and error_code(response) == "PATIENT_LIMIT"
    assert len(client.get("/api/v1/patients", headers=alice).get_json()["items"]) == 5


def test_sms_down_is_503_and_nothing_pending(client, alice, sms, known):
    sms.down = True
    response = client.post("/api/v1/patients", headers=alice, json=body())
    assert response.status_code == 503 and error_code(response) == "SMS_UNAVAILABLE"
    sms.down = False
    assert start(client, alice)["phone_masked"] == "138****0000"


def test_every_step_is_audited_without_clear_numbers(app, client, alice, sms, known):
    client.post("/api/v1/patients", headers=alice, json=body(name="张三"))
    started = start(client, alice)
    verify(client, alice, started["verification_id"], wrong(sms.sent[-1][1]))
    verify(client, alice, started["verification_id"], sms.sent[-1][1])
    user = 1
    assert link_events(app) == [("name_mismatch", user), ("code_sent", user), ("code_wrong", user),
                                ("linked", user)]
    from sqlalchemy import text

    from bff.extensions import db
    with app.app_context():
        dumped = " ".join(str(v) for row in db.session.execute(text("SELECT * FROM patient_link_events"))
                          for v in row) + " ".join(str(v) for row in db.session.execute(
                              text("SELECT * FROM patient_verifications")) for v in row)
    assert KNOWN_ID not in dumped and HIS_PHONE not in dumped and sms.sent[-1][1] not in dumped.split()


def test_idempotency_key_replays_the_202_without_a_second_sms(client, alice, sms, known):
    headers = {**alice, "Idempotency-Key": "link-1"}
    first = client.post("/api/v1/patients", headers=headers, json=body())
    again = client.post("/api/v1/patients", headers=headers, json=body())
    assert first.status_code == again.status_code == 202 and first.get_json() == again.get_json()
    assert len(sms.sent) == 1


def test_re_adding_ones_own_deleted_patient_needs_no_new_code_but_the_name_on_file(client, alice, sms, known):
    started = start(client, alice)
    patient = verify(client, alice, started["verification_id"], sms.sent[-1][1]).get_json()
    assert client.delete(f"/api/v1/patients/{patient['id']}", headers=alice).status_code == 204
    assert client.post("/api/v1/patients", headers=alice, json=body(name="张三")).status_code == 409
    again = client.post("/api/v1/patients", headers=alice, json=body())
    assert again.status_code == 201 and again.get_json()["his_patient_id"] == known and len(sms.sent) == 1


def test_concurrent_adds_cannot_exceed_five(app, alice):
    from concurrent.futures import ThreadPoolExecutor

    def add(seq):
        return app.test_client().post("/api/v1/patients", headers=alice, json={
            "name": "张三", "id_type": "01", "id_number": resident_id(seq), "phone": "13912345678",
            "relation": "other"}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(add, range(520, 532)))
    assert sorted(codes) == [201] * 5 + [409] * 7
    items = app.test_client().get("/api/v1/patients", headers=alice).get_json()["items"]
    assert len(items) == 5 and sum(p["is_default"] for p in items) == 1


def test_guessing_names_for_a_known_id_is_limited_per_day(make_app, memory_his, clock):
    app = make_app(VERIFY_DAILY_NAME_MISMATCHES=3)
    app.extensions["sms"] = sms = FakeSms()
    client = app.test_client()
    memory_his.add_patient("买买提·艾力", KNOWN_ID, HIS_PHONE)
    guesses = [client.post("/api/v1/patients", headers=login(client, f"g{n}"), json=body(name=name))
               for n, name in enumerate(["张三", "李四", "王五", "买买提·艾力"])]
    assert [error_code(r) for r in guesses] == ["PATIENT_IDENTITY_MISMATCH"] * 3 + ["RATE_LIMITED"]
    assert sms.sent == []  # even the right name is not compared once the ID's guesses are used up
    clock.advance(days=1)
    start(client, login(client, "g9"))


def test_a_resend_the_sms_service_drops_may_be_retried_at_once(client, alice, sms, known, clock):
    started = start(client, alice)
    clock.advance(seconds=60)
    resend = {"verification_id": started["verification_id"]}
    sms.down = True
    failed = client.post("/api/v1/patients/verify/resend", headers=alice, json=resend)
    assert failed.status_code == 503 and error_code(failed) == "SMS_UNAVAILABLE"
    sms.down = False
    assert client.post("/api/v1/patients/verify/resend", headers=alice, json=resend).status_code == 202
    assert verify(client, alice, started["verification_id"], sms.sent[-1][1]).status_code == 201
