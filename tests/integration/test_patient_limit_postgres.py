"""The 5-patient limit and the SMS code's tries hold under concurrency on the real PostgreSQL server."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import login
from tests.fakes import FakeSms, resident_id
from tests.integration import test_postgres

pg_config, pg_app = test_postgres.pg_config, test_postgres.pg_app  # the fixtures: a fresh migrated schema


def _race(calls):
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_concurrent_adds_cannot_exceed_five(pg_app):
    headers = login(pg_app.test_client(), "hurried")

    def add(seq):
        return lambda: pg_app.test_client().post("/api/v1/patients", headers=headers, json={
            "name": "张三", "id_type": "01", "id_number": resident_id(seq), "phone": "13912345678",
            "relation": "other"}).status_code

    codes = _race([add(seq) for seq in range(800, 812)])
    assert sorted(codes) == [201] * 5 + [409] * 7
    items = pg_app.test_client().get("/api/v1/patients", headers=headers).get_json()["items"]
    assert len(items) == 5 and sum(p["is_default"] for p in items) == 1


def test_parallel_guesses_get_five_tries_in_all(pg_app, memory_his):
    pg_app.extensions["sms"] = sms = FakeSms()
    memory_his.add_patient("王建国", resident_id(850), "13800000000")
    client = pg_app.test_client()
    headers = login(client, "guesser")
    started = client.post("/api/v1/patients", headers=headers, json={
        "name": "王建国", "id_type": "01", "id_number": resident_id(850), "phone": "13912345678",
        "relation": "other"}).get_json()
    wrong = f"{(int(sms.sent[-1][1]) + 1) % 10**6:06d}"

    def guess():
        return pg_app.test_client().post("/api/v1/patients/verify", headers=headers, json={
            "verification_id": started["verification_id"], "code": wrong}).status_code

    codes = _race([guess] * 12)
    assert sorted(codes) == [422] * 5 + [429] * 7


def test_parallel_adds_of_a_known_person_send_no_more_codes_than_the_daily_limit(pg_app, memory_his):
    pg_app.extensions["sms"] = sms = FakeSms()
    memory_his.add_patient("李秀英", resident_id(860), "13800000001")
    headers = login(pg_app.test_client(), "texter")
    limit = pg_app.config["VERIFY_DAILY_PER_USER"]

    def add(name):
        return lambda: pg_app.test_client().post("/api/v1/patients", headers=headers, json={
            "name": name, "id_type": "01", "id_number": resident_id(860), "phone": "13912345678",
            "relation": "other"}).status_code

    codes = _race([add("李秀英") for _ in range(limit + 10)])
    assert len(sms.sent) <= limit and codes.count(202) == len(sms.sent), codes
    guesses = _race([add("王小二") for _ in range(12)])  # wrong names from the same account, all at once
    mismatches = guesses.count(409)
    assert mismatches <= pg_app.config["VERIFY_DAILY_NAME_MISMATCHES"], guesses
