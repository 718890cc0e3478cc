"""Signed, expiring bearer tokens for patients (itsdangerous, keyed by SECRET_KEY)."""
from __future__ import annotations

import functools

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bff.errors import AppError

_SALT = "yiqiao.patient-token.v1"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


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
        data = _serializer().loads(header[7:].strip(), max_age=current_app.config["TOKEN_TTL_SECONDS"])
    except SignatureExpired:
        g.auth_error = "TOKEN_EXPIRED"
        return
    except BadSignature:
        return
    if isinstance(data, dict) and data.get("kind") == "patient" and isinstance(data.get("uid"), int):
        g.user_id, g.auth_error = data["uid"], None


def login_required(view):
    """Refuse the view with 401 unless a patient token came with the request."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user_id") is None:
            raise AppError(g.get("auth_error") or "UNAUTHORIZED", 401,
                           headers={"WWW-Authenticate": 'Bearer realm="yiqiao"'})
        return view(*args, **kwargs)

    return wrapper
