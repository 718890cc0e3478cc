"""`Idempotency-Key` for POSTs that create things: same key + same body → the first answer.

Like the payment APIs we imitate, an answer is remembered only once the endpoint has started to
change something: malformed bodies (422) and refusals decided before any write (the view's
`precheck`, e.g. a slot already full) are not stored, so they cost no writes under load.
Stored answers are encrypted (a card's static code, a visit number are in them) and purged
after IDEMPOTENCY_KEEP_HOURS: a client retries within minutes, not days.
"""
from __future__ import annotations

import datetime as dt
import functools
import json

from flask import Response, current_app, g, request
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
    created_at = db.Column(AwareDateTime(), nullable=False, default=lambda: dt.datetime.now(dt.UTC),
                           index=True)  # the hourly purge


_table = IdempotencyRecord.__table__


# A first request still "in progress" after this long died with its process: its key is freed.
ABANDONED_AFTER = dt.timedelta(minutes=2)


def _fingerprint(args, kwargs) -> str:
    """The request as parsed (so spacing and key order do not matter), keyed: bodies hold ID numbers."""
    canonical = json.dumps([request.method, request.path, args, kwargs], sort_keys=True, default=str,
                           ensure_ascii=False)
    return current_app.extensions["data_cipher"].blind_index(canonical)


# Built once: under a release rush every attempt runs it, and building it anew each time cost
# more CPU than the database took to answer it.
_FIND = (db.select(_table.c.id, _table.c.fingerprint, _table.c.status_code, _table.c.body, _table.c.created_at)
         .where(_table.c.user_id == db.bindparam("user_id"), _table.c.key == db.bindparam("key")))


def _find(key: str):
    # A single read outside the request's transaction: under a release rush most requests end
    # right after it, and an autocommit read spares them the BEGIN and the ROLLBACK round trips.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(_FIND, {"user_id": _owner(), "key": key}).first()


def _owner() -> int:
    """Whose keys these are: the patient's user id; 0 for kiosks, whose keys carry the device's id."""
    return g.user_id if "kiosk_id" not in g else 0


def _scoped(key: str) -> str:
    return f"kiosk:{g.kiosk_id}:{key}" if "kiosk_id" in g else key


def _abandoned(earlier) -> bool:
    """A claim whose request never finished (killed worker): delete it so the key can be used."""
    if earlier.status_code is not None or dt.datetime.now(dt.UTC) - earlier.created_at < ABANDONED_AFTER:
        return False
    db.session.execute(_table.delete().where(_table.c.id == earlier.id, _table.c.status_code.is_(None)))
    db.session.commit()
    return True


def _earlier_answer(earlier, fingerprint: str) -> Response:
    """Replay what the first request with this key answered, or say why not."""
    if earlier.fingerprint != fingerprint:
        raise AppError("IDEMPOTENCY_KEY_REUSED")
    if earlier.status_code is None:
        raise AppError("IDEMPOTENCY_IN_PROGRESS", headers={"Retry-After": "1"}, transient=True)
    response = Response(_open(earlier.body), status=earlier.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(key: str, fingerprint: str) -> int | None:
    """Insert the key as in progress; None when another request holds it already."""
    try:
        record_id = db.session.execute(_table.insert().values(
            user_id=_owner(), key=key, fingerprint=fingerprint,
            created_at=dt.datetime.now(dt.UTC)).returning(_table.c.id)).scalar_one()
        db.session.commit()
        return record_id
    except IntegrityError:
        db.session.rollback()
        return None


_BODY_CONTEXT = "idempotency_body"


def _store(record_id: int, status: int, body: str) -> None:
    sealed = current_app.extensions["data_cipher"].encrypt(body, _BODY_CONTEXT)
    db.session.rollback()
    db.session.execute(_table.update().where(_table.c.id == record_id).values(status_code=status, body=sealed))
    db.session.commit()


def _open(sealed: str) -> str:
    if sealed[:1] in ("{", "["):  # kept in clear by a release before answers were sealed (gone in a day)
        return sealed
    return current_app.extensions["data_cipher"].decrypt(sealed, _BODY_CONTEXT)


def purge(older_than: dt.timedelta) -> int:
    """Delete the answers kept longer than a client could still retry; how many went."""
    cutoff = dt.datetime.now(dt.UTC) - older_than
    gone = db.session.execute(_table.delete().where(_table.c.created_at < cutoff)).rowcount
    db.session.commit()
    return gone


def _forget(record_id: int) -> None:
    db.session.rollback()
    db.session.execute(_table.delete().where(_table.c.id == record_id))
    db.session.commit()


def idempotent(precheck=None):
    """Replay stored answers and store new ones (not 5xx). Put it below `blp.arguments`.

    `precheck(*args)` runs before the key is claimed: whatever it refuses is answered afresh.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get("Idempotency-Key", "").strip()
            if not key:
                return view(*args, **kwargs)
            key = _scoped(key)
            if not key.isprintable():  # a control character (NUL above all) has no place in the key column
                raise AppError("BAD_REQUEST", "Idempotency-Key 含有无效字符")
            if len(key) > 128:
                raise AppError("BAD_REQUEST", "Idempotency-Key 过长（最多128个字符，自助机64个）")
            fingerprint = _fingerprint(args, kwargs)
            earlier = _find(key)
            if earlier is not None and not _abandoned(earlier):
                return _earlier_answer(earlier, fingerprint)
            if precheck is not None:
                precheck(*args, **kwargs)
            for _ in range(3):  # the key may be claimed and then freed again between our steps
                record_id = _claim(key, fingerprint)
                if record_id is not None:
                    return _run(view, record_id, args, kwargs)
                earlier = _find(key)
                if earlier is not None:
                    return _earlier_answer(earlier, fingerprint)
            raise AppError("IDEMPOTENCY_IN_PROGRESS", headers={"Retry-After": "1"}, transient=True)

        return wrapper

    return decorate


def _run(view, record_id: int, args, kwargs) -> Response:
    try:
        response = view(*args, **kwargs)
    except AppError as error:
        if error.status >= 500 or error.transient:
            _forget(record_id)
        else:
            body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
            _store(record_id, error.status, json.dumps(body, ensure_ascii=False, default=str))
        raise
    except Exception:
        _forget(record_id)
        raise
    if response.status_code >= 500:
        _forget(record_id)
    else:
        _store(record_id, response.status_code, response.get_data(as_text=True))
    return response
