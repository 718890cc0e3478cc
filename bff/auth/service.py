"""Patient login: WeChat code → user → token."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from bff.auth import tokens
from bff.auth.models import User
from bff.auth.wechat import WxCodeInvalid, WxUnavailable
from bff.errors import AppError
from bff.extensions import db


def wx_login(js_code: str) -> dict:
    """Log a mini-program user in with a `wx.login` code."""
    try:
        session = current_app.extensions["wx_login"].code_to_session(js_code)
    except WxCodeInvalid as error:
        raise AppError("WX_CODE_INVALID") from error
    except WxUnavailable as error:
        raise AppError("WX_UNAVAILABLE") from error
    user = _find_or_create_user(session.openid, session.unionid)
    return {"token": tokens.issue(user.id), "expires_in": current_app.config["TOKEN_TTL_SECONDS"],
            "user": {"id": user.id}}


def openid_of(user_id: int) -> str:
    """The WeChat openid the user logged in with (JSAPI payments are made as it)."""
    return db.session.get(User, user_id).openid


def _find_or_create_user(openid: str, unionid: str | None) -> User:
    user = db.session.execute(db.select(User).filter_by(openid=openid)).scalar_one_or_none()
    if user:
        return user
    user = User(openid=openid, unionid=unionid)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # the same user logged in twice at once
        db.session.rollback()
        user = db.session.execute(db.select(User).filter_by(openid=openid)).scalar_one()
    return user


def lock_account(user_id: int) -> None:
    """Lock the user's row until the transaction ends (a no-op UPDATE: PostgreSQL row lock, SQLite write lock)."""
    db.session.execute(db.update(User).where(User.id == user_id).values(id=User.id))
