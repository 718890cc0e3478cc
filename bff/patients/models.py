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


class PatientVerification(db.Model):
    """A pending link to a person the HIS already knows: proven by an SMS code to the phone on file.

    Holds no clear personal number: the ID number and both phones are encrypted, the code is an HMAC.
    """

    __tablename__ = "patient_verifications"

    id = db.Column(db.Integer, primary_key=True)
    public_id = db.Column(db.String(64), nullable=False, unique=True)  # what the client holds; unguessable
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    his_patient_id = db.Column(db.String(64), nullable=False)
    name = db.Column(db.String(64), nullable=False)
    relation = db.Column(db.String(16), nullable=False)
    id_type = db.Column(db.String(4), nullable=False)
    id_number_enc = db.Column(db.String(128), nullable=False)
    id_number_index = db.Column(db.String(64), nullable=False)
    phone_enc = db.Column(db.String(128), nullable=False)  # the phone the user typed (kept on the patient)
    his_phone_enc = db.Column(db.String(128), nullable=False)  # where the code goes
    his_phone_index = db.Column(db.String(64), nullable=False)
    is_default = db.Column(db.Boolean, nullable=False, default=False)
    code_hash = db.Column(db.String(64), nullable=False)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    status = db.Column(db.String(16), nullable=False, default="pending")  # pending / linked
    sent_at = db.Column(AwareDateTime(), nullable=False)
    expires_at = db.Column(AwareDateTime(), nullable=False)
    created_at = db.Column(AwareDateTime(), nullable=False, default=lambda: dt.datetime.now(dt.UTC))


class PatientLinkEvent(db.Model):
    """Append-only audit of linking (who, what, which person by blind index, when, from where).

    Also what the daily SMS limits count. Never holds a clear ID number or phone.
    """

    __tablename__ = "patient_link_events"

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(AwareDateTime(), nullable=False, index=True)
    user_id = db.Column(db.Integer, nullable=False, index=True)
    action = db.Column(db.String(32), nullable=False)
    id_number_index = db.Column(db.String(64), nullable=True)
    phone_index = db.Column(db.String(64), nullable=True, index=True)
    verification_id = db.Column(db.Integer, nullable=True)
    patient_id = db.Column(db.Integer, nullable=True)
    ip = db.Column(db.String(64), nullable=False, default="")
