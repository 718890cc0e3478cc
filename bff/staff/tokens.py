"""Staff tokens: signed, short-lived, apart from patient tokens (their own salt and kind)."""
from __future__ import annotations

import functools

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bff import audit
from bff.errors import AppError
from bff.extensions import db
from bff.staff.models import StaffAccount

_SALT = "yiqiao.staff-token.v1"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue(staff: StaffAccount) -> str:
    """A token naming the staff member and the version of their credentials."""
    return _serializer().dumps({"sid": staff.id, "kind": "staff", "v": staff.token_version})


def _current_staff() -> StaffAccount:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise AppError("STAFF_UNAUTHORIZED")
    try:
        data = _serializer().loads(header[7:].strip(), max_age=current_app.config["STAFF_TOKEN_TTL_SECONDS"])
    except SignatureExpired:
        raise AppError("STAFF_TOKEN_EXPIRED") from None
    except BadSignature:
        raise AppError("STAFF_UNAUTHORIZED") from None
    if not isinstance(data, dict) or data.get("kind") != "staff":
        raise AppError("STAFF_UNAUTHORIZED")
    staff = db.session.get(StaffAccount, data.get("sid"))
    if staff is None or not staff.active or staff.token_version != data.get("v"):
        raise AppError("STAFF_UNAUTHORIZED", "账号已停用或已重置，请重新登录")
    return staff


def staff_required(*roles: str):
    """Refuse the view unless a staff token of one of the roles came with the request (a refusal is audited)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            staff = _current_staff()
            if roles and not set(roles) & set(staff.role_list):
                # a refusal is audited too: trying a patient look-up one's role does not allow is worth knowing
                audit.record(staff, "forbidden", detail=f"{request.method} {request.path}")
                db.session.commit()
                raise AppError("FORBIDDEN", "您的岗位没有此项权限")
            g.staff = staff
            return view(*args, **kwargs)

        return wrapper

    return decorate
