"""Booking rate limits kept in the real Redis: shared by every BFF process, per user not per IP."""
from __future__ import annotations

import os
import uuid

import redis

from tests.conftest import login

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_limit_is_shared_between_processes_through_redis(make_app, tmp_path):
    assert redis.Redis.from_url(REDIS_URL).ping()
    prefix = "yiqiao-test-" + uuid.uuid4().hex[:8]
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix, "BOOKING_RATE_LIMIT": "4/minute",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/shared.sqlite3"}
    first, second = make_app(**settings), make_app(**settings)  # two workers, one Redis
    headers = login(first.test_client(), "shared")
    other = login(second.test_client(), "someone-else")
    codes = [app.test_client().post("/api/v1/appointments", headers=headers, json={}).status_code
             for app in (first, second, first, second, first)]
    assert codes == [422, 422, 422, 422, 429]
    assert second.test_client().post("/api/v1/appointments", headers=other, json={}).status_code == 422
    keys = redis.Redis.from_url(REDIS_URL).keys("*" + prefix + "*")
    assert keys, "the counters must live in Redis"
    redis.Redis.from_url(REDIS_URL).delete(*keys)
