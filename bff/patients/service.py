"""就诊人 use cases: list, add (建档 in the HIS for a first-timer, proof for a known person), verify, delete."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from bff import clock
from bff.auth import service as accounts
from bff.crypto import DataCipher, mask_id_number, mask_phone
from bff.errors import AppError
from bff.extensions import db
from bff.his import current as current_his
from bff.his.port import PatientInfo
from bff.patients import verification
from bff.patients.identity import parse_resident_id, same_name
from bff.patients.models import Patient


def _cipher() -> DataCipher:
    return current_app.extensions["data_cipher"]




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


def _fields(data: dict, resident, cipher: DataCipher) -> dict:
    """The patient as stored, from the validated input (personal numbers encrypted)."""
    return {"name": data["name"], "relation": data["relation"], "id_type": data["id_type"],
            "id_number_enc": cipher.encrypt(resident.number, "id_number"),
            "id_number_index": cipher.blind_index(resident.number),
            "phone_enc": cipher.encrypt(data["phone"], "phone"), "gender": resident.gender,
            "birthday": resident.birthday, "is_default": bool(data.get("is_default"))}


def _precheck(user_id: int, index: str) -> None:
    """Quick refusals before asking the HIS (checked again, atomically, when inserting)."""
    existing = list_for(user_id)
    if any(p.id_number_index == index for p in existing):
        raise AppError("PATIENT_EXISTS")
    limit = current_app.config["MAX_PATIENTS_PER_USER"]
    if len(existing) >= limit:
        raise AppError("PATIENT_LIMIT", f"每个账号最多添加{limit}位就诊人")


def add(user_id: int, data: dict) -> Patient | verification.Started:
    """Add a patient: a first-timer is created in the HIS and listed at once; a person the HIS
    already knows must be proven first (name, then an SMS code): then a pending verification."""
    cipher = _cipher()
    resident = parse_resident_id(data["id_number"], clock.today())
    fields = _fields(data, resident, cipher)
    _precheck(user_id, fields["id_number_index"])
    db.session.rollback()  # no read transaction held while the HIS answers
    known = current_his().find_patient(data["id_type"], resident.number)
    if known is not None and _had_before(user_id, fields, known):
        return _insert(user_id, {**fields, "his_patient_id": known.his_patient_id}, "relinked")
    if known is not None:
        return verification.start(user_id, fields, known)
    his_patient = current_his().find_or_create_patient(PatientInfo(
        name=data["name"], id_type=data["id_type"], id_number=resident.number, phone=data["phone"],
        gender=resident.gender, birthday=resident.birthday))
    if not his_patient.created:  # registered elsewhere a moment ago: it needs proof like any known person
        known = current_his().find_patient(data["id_type"], resident.number)
        if known is None:
            raise AppError("HIS_UNAVAILABLE", transient=True)
        return verification.start(user_id, fields, known)
    return _insert(user_id, {**fields, "his_patient_id": his_patient.his_patient_id}, "created")


def _had_before(user_id: int, fields: dict, known) -> bool:
    """The user listed this very HIS record before (proven or created by them) and deleted it: adding
    it back under the name on file needs no new proof."""
    if not same_name(fields["name"], known.name):
        return False
    query = db.select(Patient.id).filter_by(user_id=user_id, id_number_index=fields["id_number_index"],
                                            his_patient_id=known.his_patient_id, active=None).limit(1)
    return db.session.execute(query).first() is not None


def verify(user_id: int, public_id: str, code: str) -> Patient:
    """Link the person of a verification once its SMS code is right; the limit is checked again."""
    proven = verification.check_code(user_id, public_id, code)
    fields = {name: getattr(proven, name) for name in (
        "name", "relation", "id_type", "id_number_enc", "id_number_index", "phone_enc", "his_patient_id",
        "is_default")}
    resident = parse_resident_id(_cipher().decrypt(proven.id_number_enc, "id_number"))
    fields.update(gender=resident.gender, birthday=resident.birthday)
    return _insert(user_id, fields, "linked", verification_id=proven.id)


def _lock_user(user_id: int) -> None:
    """Serialise one user's adds: a no-op UPDATE of their row, as the transaction's first statement
    (PostgreSQL: a row lock held to commit; SQLite: the write lock, which a reader could not take)."""
    db.session.rollback()
    accounts.lock_account(user_id)


def _insert(user_id: int, fields: dict, action: str, verification_id: int | None = None) -> Patient:
    """Insert the patient under the user's lock: at most MAX_PATIENTS_PER_USER, however many race."""
    _lock_user(user_id)
    try:
        _precheck(user_id, fields["id_number_index"])
        if verification_id is not None and not verification.mark_linked(verification_id):
            raise AppError("VERIFICATION_NOT_FOUND")
    except AppError as error:
        raise verification.refused(error, user_id, fields["id_number_index"], verification_id) from None
    existing = list_for(user_id)
    make_default = fields.pop("is_default") or not existing
    if make_default:
        for other in existing:
            other.is_default = False
    patient = Patient(user_id=user_id, is_default=make_default, **fields)
    db.session.add(patient)
    try:
        db.session.flush()
        verification.audit(action, user_id, id_index=patient.id_number_index, patient_id=patient.id,
                           verification_id=verification_id)
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
