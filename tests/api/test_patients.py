"""就诊人: validation, masking, encryption at rest, limits, ownership."""
from sqlalchemy import text

from tests.conftest import add_patient
from tests.fakes import resident_id


def test_added_patient_is_masked_and_registered_in_the_his(client, alice, memory_his):
    patient = add_patient(client, alice, 7, name="王小明", phone="13812345678")
    number = resident_id(7)
    assert patient["id_number_masked"] == number[:6] + "*" * 12  # with the birthday beside it, no last digits
    assert patient["phone_masked"] == "138****5678"
    assert patient["gender"] == "M" if int(number[16]) % 2 else "F"
    assert patient["birthday"] == "1990-03-07"
    assert patient["his_patient_id"] and patient["is_default"] is True
    assert number not in client.get("/api/v1/patients", headers=alice).get_data(as_text=True)


def test_id_number_and_phone_are_encrypted_at_rest(app, client, alice):
    add_patient(client, alice, 8, phone="13812345678")
    with app.app_context():
        from bff.extensions import db

        row = db.session.execute(text("SELECT * FROM patients")).mappings().one()
    dumped = " ".join(str(v) for v in row.values())
    assert resident_id(8) not in dumped and "13812345678" not in dumped


def test_bad_check_digit_is_422_with_a_chinese_field_message(client, alice):
    number = resident_id(9)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    response = client.post("/api/v1/patients", headers=alice, json={
        "name": "李四", "id_type": "01", "id_number": wrong, "phone": "13912345678", "relation": "self"})
    assert response.status_code == 422
    assert "校验位" in response.get_json()["error"]["details"]["fields"]["id_number"][0]


def test_impossible_birth_date_and_bad_phone_are_refused(client, alice):
    body = {"name": "李四", "id_type": "01", "id_number": "110101199002301234", "phone": "1391234", "relation": "self"}
    fields = client.post("/api/v1/patients", headers=alice, json=body).get_json()["error"]["details"]["fields"]
    assert "出生日期" in fields["id_number"][0] and "手机" in fields["phone"][0]


def test_same_id_twice_is_409_patient_exists(client, alice):
    add_patient(client, alice, 10)
    response = client.post("/api/v1/patients", headers=alice, json={
        "name": "张三", "id_type": "01", "id_number": resident_id(10), "phone": "13912345678", "relation": "self"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "PATIENT_EXISTS"


def test_at_most_five_patients(client, alice):
    for seq in range(20, 25):
        add_patient(client, alice, seq, relation="other")
    response = client.post("/api/v1/patients", headers=alice, json={
        "name": "张三", "id_type": "01", "id_number": resident_id(25), "phone": "13912345678", "relation": "child"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "PATIENT_LIMIT"


def test_one_his_record_per_person_across_users_after_proof(app, client, alice, bob, memory_his):
    from tests.fakes import FakeSms

    app.extensions["sms"] = sms = FakeSms()
    mine = add_patient(client, alice, 30, phone="13812345678")
    body = {"name": "张三", "id_type": "01", "id_number": resident_id(30), "phone": "13912345678", "relation": "self"}
    started = client.post("/api/v1/patients", headers=bob, json=body)
    assert started.status_code == 202 and sms.sent[-1][0] == "13812345678"  # the first one's phone, not bob's
    theirs = client.post("/api/v1/patients/verify", headers=bob, json={
        "verification_id": started.get_json()["verification_id"], "code": sms.sent[-1][1]}).get_json()
    assert mine["his_patient_id"] == theirs["his_patient_id"]


def test_another_users_patient_is_invisible_and_404(client, alice, bob):
    patient = add_patient(client, alice, 31)
    assert client.get("/api/v1/patients", headers=bob).get_json() == {"items": []}
    response = client.delete(f"/api/v1/patients/{patient['id']}", headers=bob)
    assert response.status_code == 404
    assert len(client.get("/api/v1/patients", headers=alice).get_json()["items"]) == 1


def test_delete_moves_default_and_allows_adding_again(client, alice):
    first = add_patient(client, alice, 32)
    second = add_patient(client, alice, 33, relation="child")
    assert client.delete(f"/api/v1/patients/{first['id']}", headers=alice).status_code == 204
    items = client.get("/api/v1/patients", headers=alice).get_json()["items"]
    assert [p["id"] for p in items] == [second["id"]] and items[0]["is_default"] is True
    add_patient(client, alice, 32)


def test_idempotency_key_replays_the_first_answer(client, alice):
    body = {"name": "赵六", "id_type": "01", "id_number": resident_id(34), "phone": "13912345678", "relation": "self"}
    headers = {**alice, "Idempotency-Key": "add-34"}
    first = client.post("/api/v1/patients", headers=headers, json=body)
    again = client.post("/api/v1/patients", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/patients", headers=headers, json={**body, "name": "钱七"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_his_down_while_adding_is_503_and_nothing_saved(client, alice, memory_his):
    memory_his.set_down(True)
    response = client.post("/api/v1/patients", headers=alice, json={
        "name": "张三", "id_type": "01", "id_number": resident_id(35), "phone": "13912345678", "relation": "self"})
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "HIS_UNAVAILABLE"
    memory_his.set_down(False)
    assert client.get("/api/v1/patients", headers=alice).get_json() == {"items": []}


def test_same_body_differently_formatted_is_the_same_request(client, alice):
    import json

    body = {"name": "孙八", "id_type": "01", "id_number": resident_id(36), "phone": "13912345678", "relation": "self"}
    headers = {**alice, "Idempotency-Key": "add-36", "Content-Type": "application/json"}
    first = client.post("/api/v1/patients", headers=headers, data=json.dumps(body))
    again = client.post("/api/v1/patients", headers=headers,
                        data=json.dumps(dict(reversed(list(body.items()))), indent=2))
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()


def test_a_key_left_in_progress_by_a_dead_worker_is_freed(app, client, alice):
    import datetime as dt

    from bff.extensions import db
    from bff.idempotency import IdempotencyRecord

    body = {"name": "周九", "id_type": "01", "id_number": resident_id(37), "phone": "13912345678", "relation": "self"}
    with app.app_context():  # what a killed worker leaves behind: a claim without an answer
        db.session.add(IdempotencyRecord(user_id=1, key="orphan", fingerprint="x",
                                         created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)))
        db.session.commit()
    response = client.post("/api/v1/patients", headers={**alice, "Idempotency-Key": "orphan"}, json=body)
    assert response.status_code == 201


def test_kept_answers_are_encrypted_and_purged_after_a_day(app, client, alice):
    import datetime as dt

    from bff.extensions import db
    from bff.idempotency import IdempotencyRecord, purge
    from bff.jobs import run_periodic

    body = {"name": "吴十", "id_type": "01", "id_number": resident_id(38), "phone": "13912345678", "relation": "self"}
    headers = {**alice, "Idempotency-Key": "add-38"}
    first = client.post("/api/v1/patients", headers=headers, json=body)
    with app.app_context():
        stored = db.session.execute(db.select(IdempotencyRecord.body)).scalar_one()
        assert "吴" not in stored and "****" not in stored  # not even the masked answer lies in clear
    assert client.post("/api/v1/patients", headers=headers, json=body).get_json() == first.get_json()
    with app.app_context():
        db.session.execute(db.update(IdempotencyRecord).values(
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)))
        db.session.commit()
        db.session.remove()
    run_periodic(app)  # the periodic jobs purge what a client can no longer retry
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(IdempotencyRecord)).scalar() == 0
        assert purge(dt.timedelta(hours=24)) == 0


def test_an_answer_kept_in_clear_before_sealing_still_replays(app, client, alice):
    from bff.extensions import db
    from bff.idempotency import IdempotencyRecord

    body = {"name": "郑十一", "id_type": "01", "id_number": resident_id(39), "phone": "13912345679", "relation": "self"}
    headers = {**alice, "Idempotency-Key": "add-39"}
    first = client.post("/api/v1/patients", headers=headers, json=body)
    with app.app_context():  # as a release before this one kept it
        db.session.execute(db.update(IdempotencyRecord).values(body=first.get_data(as_text=True)))
        db.session.commit()
        db.session.remove()
    again = client.post("/api/v1/patients", headers=headers, json=body)
    assert again.status_code == 201 and again.get_json() == first.get_json()
