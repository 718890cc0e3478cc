"""Staff use cases: accounts, login with lockout, scanning a patient's code, reading the audit log."""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy.exc import IntegrityError

from bff import audit as audit_log
from bff import clock
from bff.appointments import service as appointments
from bff.crypto import mask_id_number, mask_name, mask_phone
from bff.errors import AppError
from bff.extensions import db
from bff.health_cards import service as health_cards
from bff.his import current as current_his
from bff.his.port import HisError, HisUnavailable, PatientInfo
from bff.staff import lockout, passwords, tokens
from bff.staff.models import ROLES, StaffAccount
from health_card.codes import CardChannel, Scene
from health_card.errors import (
    HealthCardAuthError,
    HealthCardError,
    HealthCardUnavailable,
    QRCodeExpired,
    QRCodeOtherHospital,
)

log = logging.getLogger("bff.staff")

SCANNING_ROLES = ("registrar", "nurse", "doctor")
TODAY_STATUSES = ("awaiting_payment", "paid", "confirmed", "checked_in", "completed")


# -- accounts ------------------------------------------------------------------------------------


def create(username: str, name: str, roles: list[str], password: str) -> StaffAccount:
    """A new staff account (hospital IT); ValueError when something is not acceptable."""
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise ValueError(f"roles must be some of {', '.join(ROLES)}" + (f" (unknown: {unknown})" if unknown else ""))
    weakness = passwords.check_strength(password)
    if weakness:
        raise ValueError(weakness)
    account = StaffAccount(username=username, name=name, roles=",".join(dict.fromkeys(roles)),
                           password_hash=passwords.hash_password(password))
    db.session.add(account)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValueError(f"username {username} is taken") from None
    return account


# The sandbox's demo accounts (API.md): `make run` and the e2e stack seed them; production refuses to.
DEMO_STAFF = {"admin01": "admin", "registrar01": "registrar", "nurse01": "nurse", "nurse02": "nurse",
              "doctor01": "doctor", "pharmacist01": "pharmacist", "emergency01": "emergency"}
# The sandbox HIS's ward: the demo nurses and doctor work on 心血管内科一病区 (department 0101).
DEMO_WARD, DEMO_DEPARTMENT = "W0101", "0101"
DEMO_NAMES = {"admin01": "王管理", "registrar01": "李挂号", "nurse01": "张护士", "nurse02": "刘护士",
              "doctor01": "陈医生", "pharmacist01": "赵药师", "emergency01": "孙急救"}
DEMO_PASSWORD = "Sandbox#2026"  # noqa: S105 -- the documented sandbox password, refused in production


def seed_demo() -> list[str]:
    """Create the demo accounts that are missing; RuntimeError in production."""
    if current_app.config["ENV_NAME"] == "production":
        raise RuntimeError("demo staff accounts are for the sandbox only")
    for username, role in DEMO_STAFF.items():
        if db.session.execute(db.select(StaffAccount).filter_by(username=username)).scalar_one_or_none() is None:
            account = create(username, DEMO_NAMES[username], [role], DEMO_PASSWORD)
            if role in ("nurse", "doctor"):
                account.ward, account.department = DEMO_WARD, DEMO_DEPARTMENT
                db.session.commit()
    return list(DEMO_STAFF)


def login(username: str, password: str, ip: str) -> tuple[StaffAccount, str]:
    """Check a password from a client address: (account, token); a wrong one counts towards that address's lockout.

    Every path does the same work (one account look-up, one lockout look-up, one argon2 check against
    the account's hash or a dummy one) and answers the same way whether the username exists or not.
    """
    account = db.session.execute(db.select(StaffAccount).where(StaffAccount.username == username)).scalar_one_or_none()
    now = clock.now()
    left = lockout.claim(username, ip, now)
    if left is not None:
        passwords.verify(None, password)  # the same work as any other attempt
        raise _locked(left)
    if not passwords.verify(account.password_hash if account else None, password) or not account.active:
        left = lockout.failed(username, ip, now)
        raise _locked(left) if left is not None else AppError("STAFF_LOGIN_FAILED")
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.last_login_at = now
    lockout.succeeded(username, ip)
    db.session.commit()
    return account, tokens.issue(account)


def _locked(left: dt.timedelta) -> AppError:
    minutes = max(1, int(left.total_seconds() // 60) + (1 if left.total_seconds() % 60 else 0))
    return AppError("STAFF_LOCKED", f"密码错误次数过多，请{minutes}分钟后再试",
                    headers={"Retry-After": str(max(1, int(left.total_seconds() + 0.999)))})


def disable(username: str) -> StaffAccount:
    """Stop an account at once: it cannot log in and every token it holds stops working."""
    account = _account(username)
    account.active, account.token_version = False, account.token_version + 1
    db.session.commit()
    return account


def unlock(username: str, reactivate: bool = True, by: StaffAccount | None = None) -> StaffAccount:
    """Lift the lockout from every address (and re-enable a disabled account unless told not to).

    by: the admin doing it, audited in the same transaction (the CLI, run by hospital IT, passes none).
    """
    account = _account(username)
    lockout.clear(username)
    if reactivate:
        account.active = True
    if by is not None:
        audit_log.record(by, "staff_unlock", detail=f"username={account.username}")
    db.session.commit()
    return account


def set_password(username: str, password: str) -> StaffAccount:
    """A new password; the tokens issued with the old one stop working. ValueError when too weak."""
    weakness = passwords.check_strength(password)
    if weakness:
        raise ValueError(weakness)
    account = _account(username)
    account.password_hash, account.token_version = passwords.hash_password(password), account.token_version + 1
    lockout.clear(username)
    db.session.commit()
    return account


def _account(username: str) -> StaffAccount:
    account = db.session.execute(db.select(StaffAccount).filter_by(username=username)).scalar_one_or_none()
    if account is None:
        raise ValueError(f"no staff account {username}")
    return account


def present(account: StaffAccount) -> dict:
    """A staff member as the API shows them."""
    return {"id": account.id, "name": account.name, "roles": account.role_list}


# -- scanning a patient's code ---------------------------------------------------------------------


def _channel(staff: StaffAccount) -> CardChannel:
    roles = set(staff.role_list)
    return CardChannel.DOCTOR_WORKSTATION if "doctor" in roles and not roles & {"registrar", "nurse"} \
        else CardChannel.COUNTER


def scan(staff: StaffAccount, qr_code_text: str, scene: str, ip: str) -> dict:
    """Verify a patient's code with the platform; the patient (masked), today's bookings, pending orders."""
    channel = _channel(staff)
    qr_code_text = qr_code_text.strip()  # scanners add a newline or a space
    try:
        card = health_cards.client().verify_qr_code(qr_code_text, scene, channel, terminal_id=f"staff-{staff.id}")
    except (HealthCardUnavailable, HealthCardAuthError) as error:  # ours to fix, not the patient's code
        if isinstance(error, HealthCardAuthError):  # our credentials or signature: IT must look
            log.error("health card platform refused our credentials on a scan: %s", type(error).__name__)
        audit_log.record(staff, "scan_failed", ip, detail=f"{type(error).__name__} scene={scene}")
        db.session.commit()
        raise AppError("HEALTH_CARD_UNAVAILABLE", "健康卡平台暂时无法连接，请稍后再试或核验身份证件") from error
    except HealthCardError as error:  # expired, tampered, another hospital's, or a code the platform rejects
        audit_log.record(staff, "scan_refused", ip, detail=f"{error.code} scene={scene}")
        db.session.commit()
        raise _scan_error(error) from error
    patient = health_cards.patient_of_card(card.health_card_id)
    his_patient_id = patient.his_patient_id if patient else _his_patient_of(card)
    orders = _pending_orders(his_patient_id)
    answer = {"patient": _patient_view(card, patient, his_patient_id), "appointments": _today(his_patient_id),
              "orders": orders or [], "orders_available": orders is not None}
    entry = audit_log.record(staff, "scan", ip, patient.id if patient else None, his_patient_id,
                  f"scene={scene} card={card.health_card_id[-6:]}")
    if patient is not None:
        db.session.flush()  # the entry's id keys the usage report: one report per scan, no code in the key
        health_cards.report_use(patient.id, Scene(scene), channel, f"scan:{entry.id}")
    db.session.commit()
    return answer


def _scan_error(error: Exception) -> AppError:
    if isinstance(error, QRCodeExpired):
        return AppError("QR_EXPIRED")
    reason = "other_hospital" if isinstance(error, QRCodeOtherHospital) else "invalid"
    return AppError("QR_INVALID", details={"reason": reason})


def _his_patient_of(card) -> str | None:
    """A card not issued through us: the patient's HIS record by the card's ID (建档 when new)."""
    gender = "M" if card.gender in ("男", "1", "M") else "F"
    try:
        return current_his().find_or_create_patient(PatientInfo(
            card.name, card.id_type or "01", card.id_number, card.phone, gender,
            card.birthday or dt.date(1900, 1, 1))).his_patient_id
    except HisUnavailable:
        return None
    except HisError as error:
        log.warning("scanned card %s has no HIS record: %s", card.health_card_id[-6:], error)
        return None


def _patient_view(card, patient, his_patient_id: str | None) -> dict:
    # The age, not the birthday: the masked ID hides exactly the birth date, and the two together
    # would show the whole number on every counter screen.
    return {"name": mask_name(card.name), "gender": card.gender, "age": _age(card.birthday),
            "id_number_masked": mask_id_number(card.id_number), "phone_masked": mask_phone(card.phone or ""),
            "his_patient_id": his_patient_id, "patient_id": patient.id if patient else None,
            "health_card_id": card.health_card_id}


def _age(birthday: dt.date | None) -> int | None:
    if birthday is None:
        return None
    today = clock.today()
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def _today(his_patient_id: str | None) -> list[dict]:
    if not his_patient_id:
        return []
    rows = appointments.on_visit_day(his_patient_id, TODAY_STATUSES)
    return [{"id": a.id, "status": a.status, "department_name": a.department_name, "doctor_name": a.doctor_name,
             "title": a.title, "period": a.period, "slot_start": a.slot_start, "slot_end": a.slot_end,
             "visit_no": a.visit_no, "queue_no": a.queue_no} for a in rows]


def _pending_orders(his_patient_id: str | None) -> list[dict] | None:
    """Orders waiting at the counter: the patient's unpaid fees (处方、检查、检验); None when the HIS cannot say."""
    if not his_patient_id:
        return []
    try:
        bills = current_his().list_pending_bills(his_patient_id)
    except HisError as error:
        log.warning("pending orders of a scanned patient unavailable: %s", type(error).__name__)
        return None
    return [{"kind": "bill", "id": b.id, "title": b.title, "department": b.department, "amount": b.amount,
             "created_at": b.created_at} for b in bills]
