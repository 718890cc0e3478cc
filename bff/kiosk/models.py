"""Kiosk devices with their HMAC keys (encrypted at rest), and the signatures already seen."""
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


class KioskRequestSeen(db.Model):
    """Each accepted signature once: a request replayed within the time window is refused."""

    __tablename__ = "kiosk_requests_seen"

    signature = db.Column(db.String(64), primary_key=True)
    kiosk_id = db.Column(db.String(32), nullable=False)
    seen_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, index=True)
