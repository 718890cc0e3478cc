"""Staff use cases: accounts, login with lockout, scanning a patient's code, reading the audit log."""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy.exc import IntegrityError

from bff import clock
from bff.appointments import service as appointments
from bff.crypto import mask_id_number, mask_name, mask_phone
from bff.errors import AppError
from bff.extensions import db
from bff.health_cards import service as health_cards
from bff.his.port import HisError, HisUnavailable, PatientInfo
from bff.staff import passwords, tokens
from bff.staff.models import ROLES, AuditEntry, StaffAccount
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
DEMO_STAFF = {"admin01": "admin", "registrar01": "registrar", "nurse01": "nurse", "doctor01": "doctor",
              "pharmacist01": "pharmacist"}
DEMO_PASSWORD = "Sandbox#2026"  # noqa: S105 -- the documented sandbox password, refused in production


def seed_demo() -> list[str]:
    """Create the demo accounts that are missing; RuntimeError in production."""
    if current_app.config["ENV_NAME"] == "production":
        raise RuntimeError("demo staff accounts are for the sandbox only")
    for username, role in DEMO_STAFF.items():
        if db.session.execute(db.select(StaffAccount).filter_by(username=username)).scalar_one_or_none() is None:
            create(username, f"演示{username.rstrip('0123456789')}", [role], DEMO_PASSWORD)
    return list(DEMO_STAFF)


def login(username: str, password: str) -> tuple[StaffAccount, str]:
    """Check a password: (account, token); a wrong one counts towards the lockout.

    Every path checks one argon2 hash (a locked or unknown account too), so timing tells nothing;
    failures are counted by one UPDATE each, so parallel guesses cannot slip past the limit.
    """
    account = db.session.execute(db.select(StaffAccount).where(StaffAccount.username == username)).scalar_one_or_none()
    now = clock.now()
    if account is not None and account.locked_until and account.locked_until > now:
        passwords.verify(None, password)  # the same work as any other attempt
        raise _locked(account.locked_until - now)
    if not passwords.verify(account.password_hash if account else None, password) or not account.active:
        _failed(account, now)
        raise AppError("STAFF_LOGIN_FAILED")
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    db.session.commit()
    return account, tokens.issue(account)


def _locked(left: dt.timedelta) -> AppError:
    minutes = max(1, int(left.total_seconds() // 60) + 1)
    return AppError("STAFF_LOCKED", f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试",
                    headers={"Retry-After": str(int(left.total_seconds()) + 1)})


def _failed(account: StaffAccount | None, now: dt.datetime) -> None:
    """Count a wrong password atomically; the attempt reaching the limit locks the account."""
    if account is None:
        return
    limit, minutes = current_app.config["STAFF_MAX_FAILED_LOGINS"], current_app.config["STAFF_LOCKOUT_MINUTES"]
    failed = db.session.execute(db.update(StaffAccount).where(StaffAccount.id == account.id)
                                .values(failed_logins=StaffAccount.failed_logins + 1)
                                .returning(StaffAccount.failed_logins)).scalar_one()
    if failed >= limit:
        db.session.execute(db.update(StaffAccount).where(StaffAccount.id == account.id)
                           .values(failed_logins=0, locked_until=now + dt.timedelta(minutes=minutes)))
        db.session.commit()
        log.warning("staff account %s locked after %d failed logins", account.username, limit)
        raise _locked(dt.timedelta(minutes=minutes))
    db.session.commit()


def disable(username: str) -> StaffAccount:
    """Stop an account at once: it cannot log in and every token it holds stops working."""
    account = _account(username)
    account.active, account.token_version = False, account.token_version + 1
    db.session.commit()
    return account


def unlock(username: str) -> StaffAccount:
    """Lift a lockout (and re-enable a disabled account) after IT checked who is asking."""
    account = _account(username)
    account.active, account.failed_logins, account.locked_until = True, 0, None
    db.session.commit()
    return account


def set_password(username: str, password: str) -> StaffAccount:
    """A new password; the tokens issued with the old one stop working. ValueError when too weak."""
    weakness = passwords.check_strength(password)
    if weakness:
        raise ValueError(weakness)
    account = _account(username)
    account.password_hash, account.token_version = passwords.hash_password(password), account.token_version + 1
    account.failed_logins, account.locked_until = 0, None
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


# -- the audit log -------------------------------------------------------------------------------


def audit(staff: StaffAccount, action: str, ip: str, patient_id: int | None = None,
          his_patient_id: str | None = None, detail: str = "") -> AuditEntry:
    """Write one audit entry in the caller's transaction."""
    entry = AuditEntry(staff_id=staff.id, action=action, patient_id=patient_id, his_patient_id=his_patient_id,
                       detail=detail[:255], ip=ip[:64])
    db.session.add(entry)
    return entry


def audit_entries(before: int | None, limit: int, staff_id: int | None = None,
                  patient_id: int | None = None) -> tuple[list[AuditEntry], int | None]:
    """Entries newest first, a page at a time: (entries, cursor of the next page or None)."""
    query = db.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before:
        query = query.where(AuditEntry.id < before)
    if staff_id:
        query = query.where(AuditEntry.staff_id == staff_id)
    if patient_id:
        query = query.where(AuditEntry.patient_id == patient_id)
    rows = list(db.session.execute(query).scalars())
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


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
        raise AppError("HEALTH_CARD_UNAVAILABLE", "健康卡平台暂时无法连接，请稍后再试或核验身份证件") from error
    except HealthCardError as error:  # expired, tampered, another hospital's, or a code the platform rejects
        audit(staff, "scan_refused", ip, detail=f"{error.code} scene={scene}")
        db.session.commit()
        raise _scan_error(error) from error
    patient = health_cards.patient_of_card(card.health_card_id)
    his_patient_id = patient.his_patient_id if patient else _his_patient_of(card)
    orders = _pending_orders(his_patient_id)
    answer = {"patient": _patient_view(card, patient, his_patient_id), "appointments": _today(his_patient_id),
              "orders": orders or [], "orders_available": orders is not None}
    entry = audit(staff, "scan", ip, patient.id if patient else None, his_patient_id,
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
        return current_app.extensions["his"].find_or_create_patient(PatientInfo(
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
        bills = current_app.extensions["his"].list_pending_bills(his_patient_id)
    except HisError as error:
        log.warning("pending orders of a scanned patient unavailable: %s", type(error).__name__)
        return None
    return [{"kind": "bill", "id": b.id, "title": b.title, "department": b.department, "amount": b.amount,
             "created_at": b.created_at} for b in bills]
