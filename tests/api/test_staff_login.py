"""Staff login as an attacker tries it: usernames cannot be told apart, and guesses lock only the guesser."""
from __future__ import annotations

import pytest

from bff.extensions import db

PASSWORD = "Counter#2026x"
OWNER, ATTACKER = "10.0.0.5", "10.0.0.66"


@pytest.fixture
def app(make_app):
    app = make_app(STAFF_LOCKOUT_MINUTES=5, STAFF_LOGIN_RATE_LIMIT="1000/minute")  # the lockout is under test
    with app.app_context():
        from bff.staff import service

        service.create("nurse07", "测试护士", ["nurse"], PASSWORD)
        service.create("admin07", "测试管理员", ["admin"], PASSWORD)
        db.session.remove()
    return app


def attempt(client, username, password, ip=OWNER, **headers):
    return client.post("/api/v1/staff/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, headers={"X-Request-Id": "req-0000-fixed", **headers})


_CLOCK_HEADERS = ("Retry-After", "X-RateLimit-Reset")  # seconds from the real clock: equal, give or take one


def _seen(response) -> tuple:
    """Everything a client can see of an answer (the headers that tell the time only by name)."""
    return response.status_code, response.get_data(), sorted(
        (k, "<time>" if k in _CLOCK_HEADERS else v) for k, v in response.headers.items())


class _CountingHasher:
    """The real argon2 hasher, counting the verifications."""

    def __init__(self, real):
        self.real, self.verified = real, 0

    def verify(self, stored_hash, password):
        self.verified += 1
        return self.real.verify(stored_hash, password)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def hasher(monkeypatch):
    from bff.staff import passwords

    counting = _CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    return counting


def test_an_unknown_username_answers_exactly_like_a_wrong_password_and_locks_the_same_way(client, hasher):
    known, unknown = [], []
    for _ in range(7):  # each from its own address, so the rate limiter's counts match too
        before = hasher.verified
        known.append(_seen(attempt(client, "nurse07", "wrong-password-1", ip="10.0.0.71")))
        assert hasher.verified == before + 1  # one argon2 check per attempt, locked or not
        unknown.append(_seen(attempt(client, "nurse99", "wrong-password-1", ip="10.0.0.72")))
        assert hasher.verified == before + 2
    assert known == unknown  # status, bytes of the body, every header
    assert [status for status, _, _ in known] == [401, 401, 401, 401, 429, 429, 429]
    assert b"STAFF_LOGIN_FAILED" in known[0][1] and b"STAFF_LOCKED" in known[4][1]
    assert "Retry-After" in dict(known[4][2])


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(client):
    answers = [attempt(client, "nurse07", f"guess-{n:04d}x", ip=ATTACKER).status_code for n in range(20)]
    assert answers[:4] == [401] * 4 and set(answers[4:]) == {429}
    assert attempt(client, "nurse07", PASSWORD, ip=ATTACKER).status_code == 429  # the right password, wrong desk
    owner = attempt(client, "nurse07", PASSWORD, ip=OWNER)
    assert owner.status_code == 200, owner.get_json()  # at once, from the nurse's usual address


@pytest.mark.parametrize("seconds", [[60, 120, 240, 300, 300]])  # STAFF_LOCKOUT_MINUTES=5 caps the doubling
def test_each_lockout_from_an_address_is_twice_as_long_up_to_the_limit(client, clock, seconds):
    for length in seconds:
        answers = [attempt(client, "nurse07", "wrong-password-1", ip=ATTACKER) for _ in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
        assert int(answers[-1].headers["Retry-After"]) in (length - 1, length)
        clock.advance(seconds=length - 1)
        assert attempt(client, "nurse07", PASSWORD, ip=ATTACKER).status_code == 429  # not a second early
        clock.advance(seconds=1)
    assert attempt(client, "nurse07", PASSWORD, ip=ATTACKER).status_code == 200


def test_the_count_is_kept_in_the_database_for_every_bff_process(app, make_app, client):
    other = make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]).test_client()
    for n in range(4):
        assert attempt(client if n % 2 else other, "nurse07", "wrong-password-1").status_code == 401
    assert attempt(other, "nurse07", "wrong-password-1").status_code == 429
    assert attempt(client, "nurse07", PASSWORD).status_code == 429


def test_behind_a_proxy_the_forwarded_address_is_the_one_counted(make_app):
    app = make_app(PROXY_HOPS=1)
    with app.app_context():
        from bff.staff import service

        service.create("nurse08", "测试护士", ["nurse"], PASSWORD)
        db.session.remove()
    client = app.test_client()
    for _ in range(5):
        attempt(client, "nurse08", "wrong-password-1", ip="127.0.0.1", **{"X-Forwarded-For": ATTACKER})
    assert attempt(client, "nurse08", PASSWORD, ip="127.0.0.1", **{"X-Forwarded-For": ATTACKER}).status_code == 429
    assert attempt(client, "nurse08", PASSWORD, ip="127.0.0.1", **{"X-Forwarded-For": OWNER}).status_code == 200


def _admin(client) -> dict:
    response = attempt(client, "admin07", PASSWORD, ip="10.0.0.9")
    assert response.status_code == 200, response.get_json()
    return {"Authorization": "Bearer " + response.get_json()["token"]}


def test_an_admin_unlocks_an_account_for_every_address_and_it_is_audited(client):
    for ip in (ATTACKER, OWNER):
        for _ in range(5):
            attempt(client, "nurse07", "wrong-password-1", ip=ip)
        assert attempt(client, "nurse07", PASSWORD, ip=ip).status_code == 429
    admin = _admin(client)
    unlocked = client.post("/api/v1/staff/accounts/nurse07/unlock", headers=admin,
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert unlocked.status_code == 200 and unlocked.get_json() == {"username": "nurse07", "active": True}
    assert attempt(client, "nurse07", PASSWORD, ip=OWNER).status_code == 200
    nurse = {"Authorization": "Bearer " + attempt(client, "nurse07", PASSWORD, ip=ATTACKER).get_json()["token"]}
    assert client.post("/api/v1/staff/accounts/admin07/unlock", headers=nurse).status_code == 403
    missing = client.post("/api/v1/staff/accounts/nobody/unlock", headers=admin)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "STAFF_ACCOUNT_NOT_FOUND"
    entries = client.get("/api/v1/staff/audit", headers=admin).get_json()["items"]
    assert [(e["action"], e["detail"]) for e in entries[:2]] == [
        ("forbidden", "POST /api/v1/staff/accounts/admin07/unlock"), ("staff_unlock", "username=nurse07")]
    assert entries[1]["ip"] == "10.0.0.9"


def test_flask_staff_unlock_clears_the_failures_of_every_address(app, client):
    for ip in (ATTACKER, OWNER):
        for _ in range(5):
            attempt(client, "nurse07", "wrong-password-1", ip=ip)
    result = app.test_cli_runner().invoke(args=["staff", "unlock", "nurse07"])
    assert result.exit_code == 0, result.output
    assert attempt(client, "nurse07", PASSWORD, ip=ATTACKER).status_code == 200
    assert attempt(client, "nurse07", "wrong-password-1", ip=OWNER).status_code == 401  # counting from nothing
