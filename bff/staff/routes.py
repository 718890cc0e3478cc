"""`/api/v1/staff/…`: staff login, scanning a patient's code, the audit log and unlocking accounts (admins).

Every answer that shows a patient's data, or refuses to, writes an audit entry: the scan (done,
refused, failed), a role refused (staff_required), and the admin's read of the audit log itself.
"""
from flask import current_app, g, request
from flask_smorest import Blueprint

from bff import audit as audit_log
from bff.errors import AppError
from bff.extensions import db, limiter
from bff.staff import schemas, service
from bff.staff.tokens import staff_required

blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff", description="医护人员")


def _ip() -> str:
    return request.remote_addr or ""  # after ProxyFix: the client, not the proxy, when PROXY_HOPS is set


@blp.route("/login", methods=["POST"])
@limiter.limit(lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT"], key_func=_ip)
@blp.arguments(schemas.LoginIn)
@blp.response(200, schemas.LoginOut)
def login(body):
    """Log in with a hospital account; repeated failures from one address lock it there for a while."""
    account, token = service.login(body["username"], body["password"], _ip())
    return {"token": token, "expires_in": current_app.config["STAFF_TOKEN_TTL_SECONDS"],
            "staff": service.present(account)}


@blp.route("/scan", methods=["POST"])
@staff_required(*service.SCANNING_ROLES)
@blp.arguments(schemas.ScanIn)
@blp.response(200, schemas.ScanOut)
def scan(body):
    """Scan a patient's health card code: who they are, today's bookings, pending orders. Audited."""
    return service.scan(g.staff, body["qr_code_text"], body["scene"], _ip())


@blp.route("/audit", methods=["GET"])
@staff_required("admin")
@blp.arguments(schemas.AuditQuery(), location="query")
@blp.response(200, schemas.AuditList)
def audit(query):
    """Every staff look-up of a patient, newest first (pass next_cursor as before= for the next page)."""
    entries, cursor = audit_log.entries(query.get("before"), query["limit"], query.get("staff_id"),
                                        query.get("patient_id"), query.get("his_patient_id"))
    answer = {"items": entries, "next_cursor": cursor}
    # written after the page was read, so a page never shows the read that fetched it
    # The filter is named in the detail; a patient id someone typed may be no patient at all.
    audit_log.record(g.staff, "audit_read", detail=" ".join(f"{k}={v}" for k, v in sorted(query.items())))
    db.session.commit()
    return answer


@blp.route("/accounts/<string:username>/unlock", methods=["POST"])
@staff_required("admin")
@blp.response(200, schemas.UnlockOut)
def unlock(username):
    """Lift an account's login lockout from every address (does not re-enable a disabled account). Audited."""
    try:
        if len(username) > 32:
            raise ValueError(username)
        account = service.unlock(username, reactivate=False, by=g.staff)
    except ValueError:
        raise AppError("STAFF_ACCOUNT_NOT_FOUND") from None
    return {"username": account.username, "active": account.active}
