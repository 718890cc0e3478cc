"""Proof before linking a person the HIS already knows: the name on file, then an SMS code sent to
the phone on file (not the one typed in).

Codes are 6 digits, valid VERIFY_CODE_MINUTES, kept only as an HMAC bound to the verification;
VERIFY_MAX_ATTEMPTS tries per verification (counted before comparing, so parallel guesses cannot
exceed it), a resend no sooner than VERIFY_RESEND_SECONDS, and daily limits per phone and per
account. Every step is written to the append-only ``patient_link_events``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass

from flask import current_app, has_request_context, request
from sqlalchemy import func, or_, select, update

from bff import clock
from bff.auth import service as accounts
from bff.crypto import mask_phone
from bff.errors import AppError
from bff.extensions import db
from bff.his.port import HisPatientRecord
from bff.patients.identity import is_mobile, same_name
from bff.patients.models import PatientLinkEvent, PatientVerification
from bff.sms.port import SmsRejected, SmsUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Started:
    """What the 202 answer says: which verification, and where the code went (masked)."""

    verification_id: str
    phone_masked: str


def _cfg(name: str) -> int:
    return int(current_app.config[name])


def _cipher():
    return current_app.extensions["data_cipher"]


def code_hash(public_id: str, code: str) -> str:
    """The stored form of a code: an HMAC keyed from SECRET_KEY and bound to its verification."""
    key = hashlib.sha256(b"yiqiao/patient-verification\0" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, f"{public_id}:{code}".encode(), hashlib.sha256).hexdigest()


def audit(action: str, user_id: int, *, id_index: str | None = None, phone_index: str | None = None,
          verification_id: int | None = None, patient_id: int | None = None) -> None:
    """Add one link event to the session (the caller commits): never a clear ID number or phone."""
    ip = (request.remote_addr or "") if has_request_context() else ""
    db.session.add(PatientLinkEvent(at=clock.now(), user_id=user_id, action=action, id_number_index=id_index,
                                    phone_index=phone_index, verification_id=verification_id,
                                    patient_id=patient_id, ip=ip))


def _refuse(error: AppError, action: str, user_id: int, *, keep_lock: bool = False, **where) -> AppError:
    """Record a refusal in its own commit and answer the error to raise.

    keep_lock: under the account's lock nothing else is pending, and the refusal must be counted
    before the lock goes, or a parallel request would not see it.
    """
    if not keep_lock:
        db.session.rollback()
    audit(action, user_id, **where)
    db.session.commit()
    return error


def _check_daily_limits(user_id: int, phone_index: str, id_index: str) -> None:
    now = clock.now()
    since = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = db.session.execute(select(
        func.count().filter(PatientLinkEvent.phone_index == phone_index),
        func.count().filter(PatientLinkEvent.user_id == user_id),
    ).where(PatientLinkEvent.action == "code_sent", PatientLinkEvent.at >= since,
            or_(PatientLinkEvent.phone_index == phone_index, PatientLinkEvent.user_id == user_id))).one()
    if counts[0] >= _cfg("VERIFY_DAILY_PER_PHONE") or counts[1] >= _cfg("VERIFY_DAILY_PER_USER"):
        raise _refuse(AppError("RATE_LIMITED", "今天获取验证码的次数已达上限，请明天再试",
                               details={"reason": "daily_limit"}), "daily_limit", user_id, keep_lock=True,
                      id_index=id_index, phone_index=phone_index)


def _send(user_id: int, verification: PatientVerification, phone: str, code: str, undo: dict) -> None:
    """Text the code. On failure the verification takes `undo` (a code nobody got must not hold the
    user back), and the failure is recorded and answered: 503, or 429 for the vendor's limits."""
    where = _where(verification)
    sender = current_app.extensions.get("sms")  # None until an SMS service is configured
    try:
        if sender is None:
            raise SmsUnavailable("no SMS sender configured")
        sender.send_verification_code(phone, code, _cfg("VERIFY_CODE_MINUTES"))
        return
    except SmsUnavailable:
        error, action = AppError("SMS_UNAVAILABLE", transient=True), "sms_failed"
    except SmsRejected as rejected:
        log.warning("verification SMS refused by the vendor: %s", rejected.code)
        if "limit" in rejected.code.lower():
            error = AppError("RATE_LIMITED", "该手机号今天接收验证码的次数已达上限，请明天再试",
                             details={"reason": "daily_limit"})
        else:
            error = AppError("SMS_UNAVAILABLE")
        action = "sms_refused"
    db.session.rollback()
    db.session.execute(update(PatientVerification).where(PatientVerification.id == where["verification_id"])
                       .values(**undo))
    db.session.commit()
    raise _refuse(error, action, user_id, **where)


def _check_name(user_id: int, typed: str, record: HisPatientRecord, id_index: str) -> None:
    """The typed name must be the name on file; guesses are limited per account and per ID a day."""
    since = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    guesses = db.session.execute(select(func.count()).where(
        PatientLinkEvent.action == "name_mismatch", PatientLinkEvent.at >= since,
        or_(PatientLinkEvent.user_id == user_id, PatientLinkEvent.id_number_index == id_index))).scalar()
    if guesses >= _cfg("VERIFY_DAILY_NAME_MISMATCHES"):
        raise _refuse(AppError("RATE_LIMITED", "今天核对姓名的次数已达上限，请明天再试",
                               details={"reason": "daily_limit"}), "name_limit", user_id, keep_lock=True,
                      id_index=id_index)
    if not same_name(typed, record.name):
        raise _refuse(AppError("PATIENT_IDENTITY_MISMATCH"), "name_mismatch", user_id, keep_lock=True,
                      id_index=id_index)


def start(user_id: int, fields: dict, record: HisPatientRecord) -> Started:
    """Compare the name with the HIS's, then send a code to the phone on file; no patient yet."""
    cipher = _cipher()
    id_index = fields["id_number_index"]
    db.session.rollback()
    accounts.lock_account(user_id)  # one at a time per account: its daily limits hold under parallel requests
    _check_name(user_id, fields["name"], record, id_index)
    if not is_mobile(record.phone):
        raise _refuse(AppError("PATIENT_PHONE_MISSING"), "no_phone_on_file", user_id, keep_lock=True,
                      id_index=id_index)
    phone_index = cipher.blind_index(record.phone)
    _check_daily_limits(user_id, phone_index, id_index)
    now, public_id, code = clock.now(), secrets.token_urlsafe(24), f"{secrets.randbelow(10**6):06d}"
    verification = PatientVerification(
        public_id=public_id, user_id=user_id, his_patient_id=record.his_patient_id, name=fields["name"],
        relation=fields["relation"], id_type=fields["id_type"], id_number_enc=fields["id_number_enc"],
        id_number_index=id_index, phone_enc=fields["phone_enc"],
        his_phone_enc=cipher.encrypt(record.phone, "phone"), his_phone_index=phone_index,
        is_default=bool(fields.get("is_default")), code_hash=code_hash(public_id, code), attempts=0,
        status="pending", sent_at=now, expires_at=now + dt.timedelta(minutes=_cfg("VERIFY_CODE_MINUTES")))
    db.session.add(verification)
    db.session.flush()
    # Counted before texting, with the lock: a parallel request sees it (a send that then fails still counts).
    audit("code_sent", user_id, id_index=id_index, phone_index=phone_index, verification_id=verification.id)
    db.session.commit()  # before texting: no database lock held while the SMS service answers
    _send(user_id, verification, record.phone, code, {"status": "failed"})
    return Started(public_id, mask_phone(record.phone))


def _load(user_id: int, public_id: str) -> PatientVerification:
    """The user's pending verification; another user's, a used or unknown one is 404 alike."""
    found = db.session.execute(select(PatientVerification).filter_by(public_id=public_id)).scalar_one_or_none()
    if found is None or found.user_id != user_id or found.status != "pending":
        raise AppError("VERIFICATION_NOT_FOUND")
    return found


def _where(verification: PatientVerification) -> dict:
    return {"id_index": verification.id_number_index, "phone_index": verification.his_phone_index,
            "verification_id": verification.id}


def _spent(user_id: int, verification: PatientVerification) -> AppError:
    return _refuse(AppError("RATE_LIMITED", "验证码错误次数过多，请重新添加就诊人", details={"reason": "spent"}),
                   "code_refused_spent",
                   user_id, **_where(verification))


def check_code(user_id: int, public_id: str, code: str) -> PatientVerification:
    """The verification once its code is proven; each try counts, the wrong ones are refused."""
    verification = _load(user_id, public_id)
    limit = _cfg("VERIFY_MAX_ATTEMPTS")
    if verification.attempts >= limit:
        raise _spent(user_id, verification)
    if clock.now() >= verification.expires_at:
        raise _refuse(AppError("VERIFICATION_EXPIRED"), "code_expired", user_id, **_where(verification))
    # Count the try before comparing, guarded, so parallel guesses cannot get more than `limit`.
    taken = db.session.execute(update(PatientVerification).where(
        PatientVerification.id == verification.id, PatientVerification.status == "pending",
        PatientVerification.attempts < limit).values(attempts=PatientVerification.attempts + 1)).rowcount
    db.session.commit()
    if not taken:
        raise _spent(user_id, verification)
    if not hmac.compare_digest(verification.code_hash, code_hash(verification.public_id, code)):
        db.session.refresh(verification)
        left = max(limit - verification.attempts, 0)
        raise _refuse(AppError("VERIFICATION_CODE_INVALID", f"验证码不正确，还可以再试{left}次",
                               details={"attempts_left": left}), "code_wrong", user_id, **_where(verification))
    return verification


def resend(user_id: int, public_id: str) -> Started:
    """A new code to the same phone on file, no sooner than VERIFY_RESEND_SECONDS after the last."""
    verification = _load(user_id, public_id)
    if verification.attempts >= _cfg("VERIFY_MAX_ATTEMPTS"):
        raise _spent(user_id, verification)
    now, last = clock.now(), verification.sent_at
    wait = _cfg("VERIFY_RESEND_SECONDS") - (now - last).total_seconds()
    if wait > 0:
        seconds = math.ceil(wait)
        raise AppError("RATE_LIMITED", f"请{seconds}秒后再获取验证码", details={"retry_after": seconds},
                       headers={"Retry-After": str(seconds)}, transient=True)
    _check_daily_limits(user_id, verification.his_phone_index, verification.id_number_index)
    code = f"{secrets.randbelow(10**6):06d}"
    moved = db.session.execute(update(PatientVerification).where(
        PatientVerification.id == verification.id, PatientVerification.sent_at == last).values(
        code_hash=code_hash(public_id, code), sent_at=now,
        expires_at=now + dt.timedelta(minutes=_cfg("VERIFY_CODE_MINUTES")))).rowcount
    db.session.commit()
    if not moved:  # another resend won the race
        raise AppError("RATE_LIMITED", "验证码已发送，请稍后再试", headers={"Retry-After": "60"}, transient=True)
    phone = _cipher().decrypt(verification.his_phone_enc, "phone")
    _send(user_id, verification, phone, code, {"sent_at": last})  # a failed resend may be retried at once
    audit("code_sent", user_id, **_where(verification))
    db.session.commit()
    return Started(public_id, mask_phone(phone))


def mark_linked(verification_id: int) -> bool:
    """Spend the verification inside the linking transaction; False when it was used meanwhile."""
    return bool(db.session.execute(update(PatientVerification).where(
        PatientVerification.id == verification_id, PatientVerification.status == "pending").values(
        status="linked")).rowcount)


def refused(error: AppError, user_id: int, id_index: str, verification_id: int | None) -> AppError:
    """A link or creation refused at the last step (limit, duplicate), recorded."""
    action = {"PATIENT_LIMIT": "limit_refused", "PATIENT_EXISTS": "exists_refused"}.get(error.code, "link_refused")
    return _refuse(error, action, user_id, id_index=id_index, verification_id=verification_id)
