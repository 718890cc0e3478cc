"""就诊人 use cases: list, add (with 建档 in the HIS), delete."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from bff import clock
from bff.crypto import DataCipher, mask_id_number, mask_phone
from bff.errors import AppError
from bff.extensions import db
from bff.his import current as current_his
from bff.his.port import PatientInfo
from bff.patients.identity import parse_resident_id
from bff.patients.models import Patient


def _cipher() -> DataCipher:
    return current_app.extensions["data_cipher"]


_his = current_his  # the HIS in use


def present(patient: Patient) -> dict:
    """The patient as the API shows it: personal numbers masked."""
    cipher = _cipher()
    return {
        "id": patient.id, "name": patient.name, "relation": patient.relation, "id_type": patient.id_type,
        "id_number_masked": mask_id_number(cipher.decrypt(patient.id_number_enc, "id_number")),
        "phone_masked": mask_phone(cipher.decrypt(patient.phone_enc, "phone")),
        "gender": patient.gender, "birthday": patient.birthday, "his_patient_id": patient.his_patient_id,
        "is_default": patient.is_default,
    }


def list_for(user_id: int) -> list[Patient]:
    """The user's listed patients, default first."""
    query = db.select(Patient).filter_by(user_id=user_id, active=1).order_by(Patient.is_default.desc(), Patient.id)
    return list(db.session.execute(query).scalars())


def get_for(user_id: int, patient_id: int) -> Patient:
    """One of the user's patients; someone else's is 404 like a missing one."""
    patient = db.session.get(Patient, patient_id) if 0 < patient_id < 2**31 else None
    if patient is None or patient.user_id != user_id or patient.active != 1:
        raise AppError("PATIENT_NOT_FOUND")
    return patient


def add(user_id: int, data: dict) -> Patient:
    """Add a patient after finding or creating them in the HIS."""
    cipher = _cipher()
    resident = parse_resident_id(data["id_number"], clock.today())
    existing = list_for(user_id)
    index = cipher.blind_index(resident.number)
    if any(p.id_number_index == index for p in existing):
        raise AppError("PATIENT_EXISTS")
    if len(existing) >= current_app.config["MAX_PATIENTS_PER_USER"]:
        raise AppError("PATIENT_LIMIT", f"每个账号最多添加{current_app.config['MAX_PATIENTS_PER_USER']}位就诊人")
    his_patient = _his().find_or_create_patient(PatientInfo(
        name=data["name"], id_type=data["id_type"], id_number=resident.number, phone=data["phone"],
        gender=resident.gender, birthday=resident.birthday))
    make_default = data.get("is_default") or not existing
    if make_default:
        for other in existing:
            other.is_default = False
    patient = Patient(
        user_id=user_id, name=data["name"], relation=data["relation"], id_type=data["id_type"],
        id_number_enc=cipher.encrypt(resident.number, "id_number"), id_number_index=index,
        phone_enc=cipher.encrypt(data["phone"], "phone"), gender=resident.gender, birthday=resident.birthday,
        his_patient_id=his_patient.his_patient_id, is_default=make_default)
    db.session.add(patient)
    try:
        db.session.commit()
    except IntegrityError:  # the same patient added twice at once
        db.session.rollback()
        raise AppError("PATIENT_EXISTS") from None
    return patient


# Domains above this one say what keeps a patient on the list (e.g. an upcoming appointment):
# each guard takes a patient id and answers True to refuse the removal.
_removal_guards: list = []


def register_removal_guard(guard) -> None:
    """Refuse removing a patient while guard(patient_id) is True (registered at app start)."""
    if guard not in _removal_guards:
        _removal_guards.append(guard)


def delete(user_id: int, patient_id: int) -> None:
    """Remove a patient from the list; refused while they have upcoming appointments."""
    patient = get_for(user_id, patient_id)
    if any(guard(patient.id) for guard in _removal_guards):
        raise AppError("PATIENT_HAS_APPOINTMENTS")
    was_default = patient.is_default
    patient.active, patient.is_default = None, False
    db.session.flush()
    if was_default:
        rest = list_for(user_id)
        if rest:
            rest[0].is_default = True
    db.session.commit()
