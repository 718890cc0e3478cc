"""The staff audit log: who did what to which patient's data, when and from where; append-only.

Shared by every domain a member of staff acts in (scans, refunds, 退费), so it sits below them all,
like the outbox: a staff account is referred to by its id only.
"""
from __future__ import annotations

import datetime as dt

from flask import has_request_context, request

from bff.db_types import AwareDateTime
from bff.extensions import db


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditEntry(db.Model):
    """Who looked at which patient, when and from where; never changed (database triggers refuse it)."""

    __tablename__ = "staff_audit"

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, index=True)
    staff_id = db.Column(db.Integer, db.ForeignKey("staff_accounts.id"), nullable=False, index=True)
    action = db.Column(db.String(32), nullable=False)  # scan / scan_refused / scan_failed / forbidden / audit_read …
    patient_id = db.Column(db.Integer, db.ForeignKey("patients.id"), index=True)
    his_patient_id = db.Column(db.String(64))
    detail = db.Column(db.String(255), nullable=False, default="")
    ip = db.Column(db.String(64), nullable=False, default="")


def client_ip() -> str:
    """The client's address as the app sees it (after ProxyFix when PROXY_HOPS is set)."""
    return (request.remote_addr or "") if has_request_context() else ""


def record(staff, action: str, ip: str | None = None, patient_id: int | None = None,
           his_patient_id: str | None = None, detail: str = "") -> AuditEntry:
    """Write one audit entry in the caller's transaction (the request's address unless ip is given)."""
    entry = AuditEntry(staff_id=staff.id, action=action, patient_id=patient_id, his_patient_id=his_patient_id,
                       detail=detail[:255], ip=(client_ip() if ip is None else ip)[:64])
    db.session.add(entry)
    return entry


def entries(before: int | None, limit: int, staff_id: int | None = None,
            patient_id: int | None = None, his_patient_id: str | None = None) -> tuple[list[AuditEntry], int | None]:
    """Entries newest first, a page at a time: (entries, cursor of the next page or None)."""
    query = db.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before:
        query = query.where(AuditEntry.id < before)
    if staff_id:
        query = query.where(AuditEntry.staff_id == staff_id)
    if patient_id:
        query = query.where(AuditEntry.patient_id == patient_id)
    if his_patient_id:
        query = query.where(AuditEntry.his_patient_id == his_patient_id)
    rows = list(db.session.execute(query).scalars())
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None
