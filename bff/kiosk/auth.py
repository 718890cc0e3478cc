"""Kiosk request authentication: an HMAC-SHA256 per device over the request, fresh and never replayed.

The kiosk sends `X-Kiosk-Id`, `X-Kiosk-Timestamp` (Unix seconds), `X-Kiosk-Nonce` (16 to 64
characters of A-Z a-z 0-9 _ -, new for every request) and `X-Kiosk-Signature`, the lowercase hex
HMAC-SHA256 under its key (the UTF-8 bytes of the key text) of the five lines joined by "\\n",
with no "\\n" at the end::

    METHOD            upper case, e.g. POST
    PATH              the path without the query string, e.g. /api/v1/kiosk/payments/7
    TIMESTAMP         exactly as sent in X-Kiosk-Timestamp
    NONCE             exactly as sent in X-Kiosk-Nonce
    hex(SHA-256(body))  lowercase; of the empty body for a GET

e.g. a poll: ``GET\\n/api/v1/kiosk/payments/7\\n1764840000\\nq3XbT0f9-a1_Zz7kLm2\\ne3b0c44298fc1c14…``
(the last line the SHA-256 of nothing). `signed_headers` builds all four headers for a client.

A header that is not ASCII (the timestamp: at most 12 ASCII digits), a missing or malformed nonce,
a timestamp more than WINDOW from now, an unknown or disabled device, a wrong signature, or a nonce
this kiosk already used inside the window is refused with 401 and changes nothing. Two requests in
the same second pass as long as their nonces differ; nonces are forgotten once twice the window old
(the timestamp check refuses those requests anyway).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import re
import secrets
import time

from flask import current_app, g, request
from sqlalchemy.exc import IntegrityError

from bff.errors import AppError
from bff.extensions import db
from bff.kiosk.models import KioskDevice, KioskNonceSeen
from bff.secret_strength import Rule, weaknesses

log = logging.getLogger("bff.kiosk")

WINDOW_SECONDS = 300
_KEY_CONTEXT = "kiosk_key"


_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def signature(key: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The signature a kiosk sends (hex HMAC-SHA256 of the string in the module docstring)."""
    message = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


# Kiosk keys are only ever made here (no command or setting takes one from a person): 256 random bits.
KIOSK_KEY_RULE = Rule(43, 160)


def signed_headers(kiosk_id: str, key: str, method: str, path: str, body: bytes = b"", *,
                   stamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
    """The four headers a kiosk client sends, with a fresh nonce and the current time unless given."""
    stamp = str(int(time.time())) if stamp is None else stamp
    nonce = secrets.token_urlsafe(18) if nonce is None else nonce
    return {"X-Kiosk-Id": kiosk_id, "X-Kiosk-Timestamp": stamp, "X-Kiosk-Nonce": nonce,
            "X-Kiosk-Signature": signature(key, method, path.split("?", 1)[0], stamp, nonce, body)}


def provision(kiosk_id: str, name: str) -> str:
    """Create (or re-key) a device; answers its new key, shown once to hospital IT."""
    key = secrets.token_urlsafe(32)
    if weaknesses(key, KIOSK_KEY_RULE):  # a generator someone weakened must not hand out guessable keys
        raise RuntimeError("the new kiosk key is too short or predictable; nothing was provisioned")
    sealed = current_app.extensions["data_cipher"].encrypt(key, _KEY_CONTEXT)
    device = db.session.get(KioskDevice, kiosk_id)
    if device is None:
        db.session.add(KioskDevice(id=kiosk_id, name=name, key_enc=sealed, active=True))
    else:
        device.key_enc, device.name, device.active = sealed, name or device.name, True
    db.session.commit()
    return key


def _refuse(reason: str) -> AppError:
    log.warning("kiosk request refused: %s", reason, extra={"kiosk_id": request.headers.get("X-Kiosk-Id", "")[:32],
                                                            "path": request.path})
    return AppError("KIOSK_UNAUTHORIZED")


def _well_formed(kiosk_id: str, stamp: str, nonce: str, sent: str) -> bool:
    """ASCII headers only, a timestamp of at most 12 ASCII digits, a nonce of the allowed characters.

    str.isdigit alone passes '١٢٣' (which int() reads) and '²' (which it refuses), int() refuses
    more than 4300 digits, and hmac.compare_digest raises on non-ASCII text.
    """
    return (bool(kiosk_id) and kiosk_id.isascii() and 0 < len(stamp) <= 12 and stamp.isascii() and stamp.isdigit()
            and len(sent) == 64 and sent.isascii() and _NONCE.fullmatch(nonce) is not None)


def _verify() -> str:
    kiosk_id = request.headers.get("X-Kiosk-Id", "")
    stamp = request.headers.get("X-Kiosk-Timestamp", "")
    nonce = request.headers.get("X-Kiosk-Nonce", "")
    sent = request.headers.get("X-Kiosk-Signature", "")
    if not _well_formed(kiosk_id, stamp, nonce, sent):
        raise _refuse("missing or malformed headers")
    sent = sent.lower()
    if abs(time.time() - int(stamp)) > WINDOW_SECONDS:
        raise _refuse("timestamp outside the window")
    device = db.session.get(KioskDevice, kiosk_id[:32])
    if device is None or not device.active:
        raise _refuse("unknown or disabled device")
    key = current_app.extensions["data_cipher"].decrypt(device.key_enc, _KEY_CONTEXT)
    if not hmac.compare_digest(signature(key, request.method, request.path, stamp, nonce, request.get_data()), sent):
        raise _refuse("bad signature")
    _remember(device.id, nonce)
    return device.id


def _remember(kiosk_id: str, nonce: str) -> None:
    """Accept a kiosk's nonce once; forget the ones older than the window (they fail the time check anyway)."""
    db.session.add(KioskNonceSeen(kiosk_id=kiosk_id, nonce=nonce))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _refuse("replayed request") from None
    if secrets.randbelow(100) == 0:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2 * WINDOW_SECONDS)
        db.session.execute(db.delete(KioskNonceSeen).where(KioskNonceSeen.seen_at < cutoff))
        db.session.commit()


def kiosk_required(view):
    """Refuse the view with 401 unless a provisioned kiosk signed this very request."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.kiosk_id = _verify()
        return view(*args, **kwargs)

    return wrapper
