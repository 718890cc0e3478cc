"""The health cards the BFF registered: one per patient, its static code encrypted at rest."""
from __future__ import annotations

import datetime as dt

from bff.db_types import AwareDateTime
from bff.extensions import db


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class HealthCardRecord(db.Model):
    __tablename__ = "health_cards"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    patient_id = db.Column(db.Integer, db.ForeignKey("patients.id"), nullable=False, unique=True)
    health_card_id = db.Column(db.String(64), nullable=False, index=True)
    phid = db.Column(db.String(64), nullable=False, default="")
    qr_code_enc = db.Column(db.String(400), nullable=False)  # the card's static code, AES-GCM under DATA_KEY
    status = db.Column(db.String(12), nullable=False, default="active")
    created_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow)

    patient = db.relationship("Patient", lazy="joined")
