"""Staff lockout and kiosk nonces on the real PostgreSQL server, with parallel requests."""
from __future__ import annotations

import pytest

from tests.integration.test_postgres import _race, pg_app, pg_config  # noqa: F401 -- the PostgreSQL app fixtures

PASSWORD = "Counter#2026x"


@pytest.fixture
def staff_app(pg_app):  # noqa: F811 -- pg_app is the fixture imported above
    from bff.extensions import db
    from bff.staff import service

    with pg_app.app_context():
        service.create("nurse09", "测试护士", ["nurse"], PASSWORD)
        db.session.remove()
    return pg_app


def _guess(username: str, ip: str, password: str = "wrong-password-1"):
    return lambda client: client.post("/api/v1/staff/login", json={"username": username, "password": password},
                                      environ_base={"REMOTE_ADDR": ip})


@pytest.mark.parametrize("username", ["nurse09", "nobody09"])
def test_parallel_guesses_from_one_address_get_no_more_than_the_limit(staff_app, username):
    codes = [r.status_code for r in _race(staff_app, [_guess(username, "10.0.0.66") for _ in range(12)])]
    assert codes.count(401) == 4 and codes.count(429) == 8, codes
    assert _guess("nurse09", "10.0.0.5", PASSWORD)(staff_app.test_client()).status_code == 200  # the owner


def test_a_nonce_raced_twice_is_accepted_once(staff_app):
    from bff.kiosk.auth import signed_headers

    result = staff_app.test_cli_runner().invoke(args=["kiosk", "add", "--id", "MZ-9F-01", "--name", "测试"])
    key = result.output.rsplit(" ", 1)[1].strip()
    body = b'{"rawdata": "RAW-FROM-DEVICE"}'
    headers = signed_headers("MZ-9F-01", key, "POST", "/api/v1/kiosk/facepay/authinfo", body)

    def call(client):
        return client.post("/api/v1/kiosk/facepay/authinfo", data=body, content_type="application/json",
                           headers=headers)

    codes = sorted(r.status_code for r in _race(staff_app, [call] * 6))
    assert codes == [200, 401, 401, 401, 401, 401]


def test_parallel_guesses_past_the_limit_never_reach_the_password_check(staff_app, monkeypatch):
    import threading

    from bff.staff import passwords

    checked, lock = [], threading.Lock()
    real_verify = passwords.verify

    def counting(password_hash, password):
        if password_hash is not None:
            with lock:
                checked.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify", counting)
    guesses = [_guess("nurse09", "10.0.0.77", f"guess-{n}") for n in range(15)] + [_guess("nurse09", "10.0.0.77",
                                                                                          PASSWORD)]
    codes = [r.status_code for r in _race(staff_app, guesses)]
    assert len(checked) <= 5, checked  # only as many as the limit were ever tried against the account
    assert codes.count(200) <= 1 and (codes.count(200) == 0 or PASSWORD in checked)
