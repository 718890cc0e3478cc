"""`/api/v1/patients`: the user's 就诊人."""
from flask import g
from flask_smorest import Blueprint

from bff.auth.tokens import login_required
from bff.idempotency import idempotent
from bff.patients import schemas, service

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="就诊人")


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
def add_patient(body):
    """Add a patient (建档 in the HIS when new)."""
    return service.present(service.add(g.user_id, body))


@blp.route("/<int:patient_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def delete_patient(patient_id):
    """Remove a patient without upcoming appointments."""
    service.delete(g.user_id, patient_id)
