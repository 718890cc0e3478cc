"""`Idempotency-Key` for POSTs that create things: same key + same body → the first answer."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json

from flask import g, request
from sqlalchemy.exc import IntegrityError

from bff.db_types import AwareDateTime
from bff.errors import AppError
from bff.extensions import db


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (db.UniqueConstraint("user_id", "key"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, nullable=False)
    key = db.Column(db.String(128), nullable=False)
    fingerprint = db.Column(db.String(64), nullable=False)
    status_code = db.Column(db.Integer)  # NULL while the first request is still running
    body = db.Column(db.Text)
    created_at = db.Column(AwareDateTime(), nullable=False,
                           default=lambda: dt.datetime.now(dt.UTC))


def _fingerprint() -> str:
    payload = request.method + " " + request.path + "\n" + request.get_data(as_text=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _claim(key: str, fingerprint: str):
    """Insert the key, or answer what an earlier request with it decided."""
    record = IdempotencyRecord(user_id=g.user_id, key=key, fingerprint=fingerprint)
    db.session.add(record)
    try:
        db.session.commit()
        return record, None
    except IntegrityError:
        db.session.rollback()
    earlier = db.session.execute(db.select(IdempotencyRecord).filter_by(user_id=g.user_id, key=key)).scalar_one()
    if earlier.fingerprint != fingerprint:
        raise AppError("IDEMPOTENCY_KEY_REUSED", 409)
    if earlier.status_code is None:
        raise AppError("IDEMPOTENCY_IN_PROGRESS", 409, headers={"Retry-After": "1"})
    return None, (json.loads(earlier.body), earlier.status_code, {"Idempotent-Replayed": "true"})


def idempotent(view):
    """Replay stored answers, store new ones (not 5xx). Put it above flask-smorest's decorators."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > 128:
            raise AppError("BAD_REQUEST", 400, "Idempotency-Key 过长（最多128个字符）")
        record, replay = _claim(key, _fingerprint())
        if replay:
            return replay
        try:
            response = view(*args, **kwargs)
        except AppError as error:
            if error.status >= 500:
                _forget(record)
            else:
                _store(record, error.status, {"error": {"code": error.code, "message": error.message,
                                                        "details": error.details}})
            raise
        except Exception:
            _forget(record)
            raise
        if response.status_code >= 500:
            _forget(record)
        else:
            _store(record, response.status_code, response.get_json())
        return response

    return wrapper


def _store(record: IdempotencyRecord, status: int, body) -> None:
    db.session.rollback()
    record = db.session.merge(record)
    record.status_code, record.body = status, json.dumps(body, ensure_ascii=False, default=str)
    db.session.commit()


def _forget(record: IdempotencyRecord) -> None:
    db.session.rollback()
    db.session.execute(db.delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
    db.session.commit()
