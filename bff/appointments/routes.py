"""`/api/v1/appointments`: book, list, cancel, check in, queue."""
import datetime as dt

from flask import current_app, g
from flask_smorest import Blueprint

from bff import clock
from bff.appointments import schemas, service
from bff.auth.tokens import login_required
from bff.crypto import mask_id_number
from bff.extensions import limiter
from bff.idempotency import idempotent
from bff.payments import service as cashier

blp = Blueprint("appointments", __name__, url_prefix="/api/v1/appointments", description="预约挂号")


def _booking_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def present(a, payment=...) -> dict:
    """An appointment as the patient sees it, with its latest payment (looked up unless given)."""
    if payment is ...:
        payment = cashier.latest_of("appointment", [a.id]).get(a.id)
    cipher = current_app.extensions["data_cipher"]
    cutoff = a.slot_start - dt.timedelta(minutes=current_app.config["CANCEL_CUTOFF_MINUTES"])
    return {
        "id": a.id, "status": a.status, "fee": a.fee, "hold_expires_at": a.hold_expires_at,
        "visit_no": a.visit_no, "queue_no": a.queue_no, "created_at": a.created_at,
        "cancellable": a.status in ("awaiting_payment", "confirmed") and clock.now() <= cutoff,
        "patient": {"id": a.patient.id, "name": a.patient.name,
                    "id_number_masked": mask_id_number(cipher.decrypt(a.patient.id_number_enc, "id_number"))},
        "schedule": {"id": a.schedule_id, "date": a.visit_date, "period": a.period,
                     "department_code": a.department_code, "department_name": a.department_name,
                     "doctor_code": a.doctor_code, "doctor_name": a.doctor_name, "title": a.title},
        "slot": {"id": a.slot_id, "start": a.slot_start, "end": a.slot_end},
        "payment": None if payment is None else cashier.present(payment),
    }


@blp.route("", methods=["POST"])
@login_required
@limiter.limit(_booking_limit)
@blp.arguments(schemas.BookingIn)
@idempotent(precheck=lambda body: service.check_bookable(g.user_id, **body))
@blp.response(201, schemas.AppointmentOut)
def book(body):
    """Book a slot (挂号预约)."""
    return present(service.book(g.user_id, **body))


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(schemas.AppointmentQuery(), location="query")
@blp.response(200, schemas.AppointmentList)
def list_appointments(query):
    """The user's appointments, newest first."""
    appointments = service.list_for(g.user_id, query.get("status"))
    payments = cashier.latest_of("appointment", [a.id for a in appointments])
    return {"items": [present(a, payments.get(a.id)) for a in appointments]}


@blp.route("/<appointment_id>", methods=["GET"])
@login_required
@blp.response(200, schemas.AppointmentOut)
def get_appointment(appointment_id):
    """One appointment."""
    return present(service.get_for(g.user_id, appointment_id))


@blp.route("/<appointment_id>/cancel", methods=["POST"])
@login_required
@blp.response(200, schemas.AppointmentOut)
def cancel(appointment_id):
    """Cancel before the cut-off."""
    return present(service.cancel(g.user_id, appointment_id))


@blp.route("/<appointment_id>/check-in", methods=["POST"])
@login_required
@blp.response(200, schemas.AppointmentOut)
def check_in(appointment_id):
    """Sign in on the day."""
    return present(service.check_in(g.user_id, appointment_id))


@blp.route("/<appointment_id>/queue", methods=["GET"])
@login_required
@blp.response(200, schemas.QueueOut)
def queue(appointment_id):
    """Queue position after check-in."""
    return service.queue(g.user_id, appointment_id)
