"""`/api/v1/departments`, `/doctors`, `/schedules`: what the hospital offers."""
from flask import jsonify
from flask_smorest import Blueprint

from bff import clock
from bff.auth.tokens import login_required
from bff.catalog import schemas, service

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="科室、医生与排班")


@blp.route("/departments", methods=["GET"])
@login_required
@blp.response(200, schemas.DepartmentList)
def list_departments():
    """Departments in two levels."""
    return service.listing(service.departments())


@blp.route("/doctors", methods=["GET"])
@login_required
@blp.arguments(schemas.DoctorQuery(), location="query")
@blp.response(200, schemas.DoctorList)
def list_doctors(query):
    """Doctors of a department."""
    return jsonify(service.listing([service.present_doctor(d) for d in service.doctors(query.get("department"))]))


@blp.route("/schedules", methods=["GET"])
@login_required
@blp.arguments(schemas.ScheduleQuery(), location="query")
@blp.response(200, schemas.ScheduleList)
def list_schedules(query):
    """Schedules with remaining places and release time."""
    schedules = service.schedules(query.get("department"), query.get("doctor"),
                                  query.get("date_from"), query.get("date_to"))
    return jsonify(service.listing([service.present_schedule(s) for s in schedules]))


@blp.route("/schedules/<schedule_id>/slots", methods=["GET"])
@login_required
@blp.response(200, schemas.SlotList)
def list_slots(schedule_id):
    """Time slots of one schedule, each `open`, `full` or `passed`."""
    now = clock.now()
    return jsonify(service.listing([service.present_slot(s, now) for s in service.slots(schedule_id)]))
