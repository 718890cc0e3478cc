"""`/api/v1/patients`: the user's 就诊人."""
from flask import g, jsonify
from flask_smorest import Blueprint

from bff.auth.tokens import login_required
from bff.errors import ErrorSchema
from bff.idempotency import idempotent
from bff.patients import schemas, service
from bff.patients.verification import Started

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="就诊人")


def _started(started: Started):
    response = jsonify({"verification_id": started.verification_id, "phone_masked": started.phone_masked})
    response.status_code = 202
    return response


@blp.route("", methods=["GET"])
@login_required
@blp.response(200, schemas.PatientList)
def list_patients():
    """List the user's patients."""
    return {"items": [service.present(p) for p in service.list_for(g.user_id)]}


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(schemas.PatientIn)
@idempotent()
@blp.response(201, schemas.PatientOut)
@blp.alt_response(202, schema=schemas.VerificationStarted,
                  description="the person is already in the HIS: a code went to the phone it holds")
@blp.alt_response(409, schema=ErrorSchema, description="PATIENT_EXISTS, PATIENT_LIMIT, PATIENT_IDENTITY_MISMATCH")
@blp.alt_response(429, schema=ErrorSchema, description="RATE_LIMITED: too many codes today")
@blp.alt_response(503, schema=ErrorSchema, description="HIS_UNAVAILABLE, SMS_UNAVAILABLE")
def add_patient(body):
    """Add a patient: 建档 in the HIS when new (201); proof by SMS code when the HIS knows them (202)."""
    result = service.add(g.user_id, body)
    if isinstance(result, Started):
        return _started(result)
    return service.present(result)


@blp.route("/verify", methods=["POST"])
@login_required
@blp.arguments(schemas.VerifyIn)
@idempotent()
@blp.response(201, schemas.PatientOut)
@blp.alt_response(404, schema=ErrorSchema, description="VERIFICATION_NOT_FOUND (unknown, used, or another user's)")
@blp.alt_response(409, schema=ErrorSchema, description="PATIENT_EXISTS, PATIENT_LIMIT")
@blp.alt_response(410, schema=ErrorSchema, description="VERIFICATION_EXPIRED")
@blp.alt_response(422, schema=ErrorSchema, description="VERIFICATION_CODE_INVALID")
@blp.alt_response(429, schema=ErrorSchema, description="RATE_LIMITED: the tries are used up")
def verify_patient(body):
    """Prove the phone on file with the SMS code and link the patient."""
    return service.present(service.verify(g.user_id, body["verification_id"], body["code"]))


@blp.route("/verify/resend", methods=["POST"])
@login_required
@blp.arguments(schemas.ResendIn)
@blp.response(202, schemas.VerificationStarted)
@blp.alt_response(404, schema=ErrorSchema, description="VERIFICATION_NOT_FOUND")
@blp.alt_response(429, schema=ErrorSchema, description="RATE_LIMITED: too soon (Retry-After) or too many today")
@blp.alt_response(503, schema=ErrorSchema, description="SMS_UNAVAILABLE")
def resend_code(body):
    """Send a new code to the same phone on file."""
    started = service.verification.resend(g.user_id, body["verification_id"])
    return {"verification_id": started.verification_id, "phone_masked": started.phone_masked}


@blp.route("/<int:patient_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def delete_patient(patient_id):
    """Remove a patient without upcoming appointments."""
    service.delete(g.user_id, patient_id)
