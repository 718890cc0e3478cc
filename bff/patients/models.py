"""就诊人: the people a user books for. ID number and phone are stored encrypted."""
import datetime as dt

from bff.db_types import AwareDateTime
from bff.extensions import db


class Patient(db.Model):
    __tablename__ = "patients"
    # `active` is 1 while the patient is listed and NULL once deleted, so the unique constraint
    # (NULLs are distinct) forbids the same ID twice per user but allows re-adding after delete.
    __table_args__ = (db.UniqueConstraint("user_id", "id_number_index", "active"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    name = db.Column(db.String(64), nullable=False)
    relation = db.Column(db.String(16), nullable=False)
    id_type = db.Column(db.String(4), nullable=False, default="01")
    id_number_enc = db.Column(db.String(128), nullable=False)
    id_number_index = db.Column(db.String(64), nullable=False)
    phone_enc = db.Column(db.String(128), nullable=False)
    gender = db.Column(db.String(1), nullable=False)
    birthday = db.Column(db.Date, nullable=False)
    his_patient_id = db.Column(db.String(64), nullable=False)
    is_default = db.Column(db.Boolean, nullable=False, default=False)
    active = db.Column(db.Integer, nullable=True, default=1)
    created_at = db.Column(AwareDateTime(), nullable=False,
                           default=lambda: dt.datetime.now(dt.UTC))
