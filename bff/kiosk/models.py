"""Kiosk devices with their HMAC keys (encrypted at rest), and the nonces already seen."""
from __future__ import annotations

import datetime as dt

from bff.db_types import AwareDateTime
from bff.extensions import db


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class KioskDevice(db.Model):
    __tablename__ = "kiosk_devices"

    id = db.Column(db.String(32), primary_key=True)  # the device id hospital IT gave it, e.g. "MZ-1F-01"
    name = db.Column(db.String(64), nullable=False, default="")
    key_enc = db.Column(db.String(160), nullable=False)  # AES-GCM under DATA_KEY
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow)


class KioskNonceSeen(db.Model):
    """Each kiosk's accepted nonces, once: a request replayed within the time window is refused."""

    __tablename__ = "kiosk_nonces_seen"

    kiosk_id = db.Column(db.String(32), primary_key=True)
    nonce = db.Column(db.String(64), primary_key=True)
    seen_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, index=True)
