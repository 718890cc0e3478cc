"""Signed, expiring bearer tokens for patients (itsdangerous, keyed by SECRET_KEY)."""
from __future__ import annotations

import functools
import time

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bff.errors import AppError

_SALT = "yiqiao.patient-token.v1"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


@functools.lru_cache(maxsize=8192)
def _verified(secret_key: str, token: str) -> tuple[object, float]:
    """Payload and issue time of a correctly signed token (a forged one raises, and is not cached).

    Every request carries a token; checking the signature once per token per process, not once per
    request, keeps that off the hot path. Expiry is still judged on every request.
    """
    payload, issued = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, return_timestamp=True)
    return payload, issued.timestamp()


def issue(user_id: int) -> str:
    """A token naming the user; its age is checked on every request."""
    return _serializer().dumps({"uid": user_id, "kind": "patient"})


def load_user_from_header() -> None:
    """Before each request: set g.user_id from a valid bearer token, or note why it failed."""
    g.user_id, g.auth_error = None, "UNAUTHORIZED"
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return
    try:
        data, issued = _verified(current_app.config["SECRET_KEY"], header[7:].strip())
    except BadSignature:
        return
    if time.time() - issued > current_app.config["TOKEN_TTL_SECONDS"]:
        g.auth_error = "TOKEN_EXPIRED"
        return
    if isinstance(data, dict) and data.get("kind") == "patient" and isinstance(data.get("uid"), int):
        g.user_id, g.auth_error = data["uid"], None


def login_required(view):
    """Refuse the view with 401 unless a patient token came with the request."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user_id") is None:
            raise AppError(g.get("auth_error") or "UNAUTHORIZED",
                           headers={"WWW-Authenticate": 'Bearer realm="yiqiao"'})
        return view(*args, **kwargs)

    return wrapper
