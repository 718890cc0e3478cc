"""`/api/v1/staff/…`: staff login, scanning a patient's code, the audit log (admins)."""
from flask import current_app, g, request
from flask_smorest import Blueprint

from bff.extensions import limiter
from bff.staff import schemas, service
from bff.staff.tokens import staff_required

blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff", description="医护人员")


def _ip() -> str:
    return request.remote_addr or ""


@blp.route("/login", methods=["POST"])
@limiter.limit(lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT"], key_func=_ip)
@blp.arguments(schemas.LoginIn)
@blp.response(200, schemas.LoginOut)
def login(body):
    """Log in with a hospital account; repeated failures lock the account for a while."""
    account, token = service.login(body["username"], body["password"])
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
    entries, cursor = service.audit_entries(query.get("before"), query["limit"], query.get("staff_id"),
                                            query.get("patient_id"))
    return {"items": entries, "next_cursor": cursor}
