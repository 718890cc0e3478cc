"""Flask app of the sandbox HIS: the SOAP endpoint, its WSDL and the ``/_control/`` API.

Faults (``POST /_control/faults``) apply to the SOAP endpoint and its WSDL only; the control
API always answers, so a test can switch a fault off again.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from sandbox.faults import Faults
from sandbox.his import billing, booking, data, handlers, soap
from sandbox.his.store import NOT_FOUND, BizError, Store


class Sandbox:
    """The state of one sandbox HIS: store and fault knobs."""

    def __init__(self, store: Store):
        self.store = store
        self.faults = Faults()


ws = Blueprint("his_ws", __name__)
control = Blueprint("his_control", __name__, url_prefix="/_control")


def _sandbox() -> Sandbox:
    return current_app.extensions["sandbox_his"]


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=soap.CONTENT_TYPE)


def _fault_response() -> Response | None:
    """Apply latency, down and error-rate knobs; a response when the call must fail."""
    verdict = _sandbox().faults.verdict()
    if verdict == "down":
        return Response("Service Unavailable", status=503, content_type="text/plain")
    if verdict == "error":
        return _xml(soap.fault("服务器内部错误"), 500)
    return None


@ws.get("/his/ws")
def wsdl():
    """The WSDL (``?wsdl``), with the address this server is reached at."""
    failed = _fault_response()
    if failed is not None:
        return failed
    return _xml(soap.wsdl(request.base_url))


@ws.post("/his/ws")
def invoke():
    """The SOAP endpoint: ``Invoke(code, xml)``."""
    failed = _fault_response()
    if failed is not None:
        return failed
    try:
        code, xml_text = soap.parse_invoke(request.get_data())
    except soap.SoapError as exc:
        return _xml(soap.fault(str(exc), client=True), 500)
    reply = handlers.handle(_sandbox().store, code, xml_text)
    return _xml(soap.invoke_response(reply))


@control.post("/faults")
def faults():
    """Set latency_ms, error_rate, down; ``{}`` answers the current settings."""
    return jsonify(_sandbox().faults.update(request.get_json(silent=True) or {}))


@control.post("/reset")
def reset():
    """Back to the seeded state (records wiped, faults off)."""
    box = _sandbox()
    box.store.reset()
    box.faults.reset()
    return jsonify({"ok": True})


def _parse_time(value: str | None) -> dt.time | None:
    return dt.time.fromisoformat(value) if value else None


def _parse_release(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=data.TZ)


@control.post("/schedules")
def add_schedule():
    """Add a session: {department_code, doctor_code, date, period, capacity, release_at, fee (fen)?, ...}."""
    body = request.get_json(silent=True) or {}
    try:
        sid, slot_ids = _sandbox().store.add_schedule(
            doctor_code=body["doctor_code"], day=dt.date.fromisoformat(body["date"]),
            period=body.get("period", "am"), capacity=int(body["capacity"]),
            release=_parse_release(body.get("release_at")), start=_parse_time(body.get("start_time")),
            slot_count=body.get("slot_count"), dept_code=body.get("department_code"),
            stopped=bool(body.get("stopped", False)), fee=body.get("fee"))
    except (KeyError, TypeError, ValueError) as exc:
        return jsonify({"error": f"bad request: {exc}"}), 400
    return jsonify({"schedule_id": sid, "slot_ids": slot_ids}), 201


@control.post("/patients")
def add_patient():
    """A person registered at the window: {name, id_number, phone, id_type?} -> {his_patient_id}."""
    body = request.get_json(silent=True) or {}
    try:
        name, number, phone = str(body["name"]), str(body["id_number"]), str(body["phone"])
    except KeyError as exc:
        return jsonify({"error": f"bad request: missing {exc}"}), 400
    pid = _sandbox().store.add_known_patient(name, number, phone, str(body.get("id_type") or "01"))
    return jsonify({"his_patient_id": pid}), 201


@control.get("/stats")
def stats():
    """Counts of live locks, registrations, cancellations and patients."""
    return jsonify(_sandbox().store.stats())


@control.get("/registrations")
def registrations():
    """Every registration the HIS holds."""
    return jsonify(booking.registrations(_sandbox().store))


@control.post("/bills")
def add_bill():
    """Add a pending fee: {his_patient_id, title, amount (fen), items?, department?, doctor_name?} -> {bill_id}."""
    body = request.get_json(silent=True) or {}
    try:
        bill_id = billing.add_bill(_sandbox().store, str(body["his_patient_id"]), str(body["title"]), body["amount"],
                                   body.get("items"), str(body.get("department") or ""),
                                   str(body.get("doctor_name") or ""))
    except (KeyError, TypeError, ValueError) as exc:
        return jsonify({"error": f"bad request: {exc}"}), 400
    except BizError as exc:
        return jsonify({"error": exc.message}), 404
    return jsonify({"bill_id": bill_id}), 201


@control.get("/bills")
def list_bills():
    """Every bill with its status (pending / paid / cancelled), of one patient with ?his_patient_id=."""
    bills = billing.all_bills(_sandbox().store, request.args.get("his_patient_id", ""))
    return jsonify([{"bill_id": b["id"], "his_patient_id": b["patient_id"], "title": b["title"],
                     "department": b["dept_name"], "amount": b["amount_fen"], "status": b["status"],
                     "pay_channel": b["pay_channel"],
                     "items": [{k: i[k] for k in ("name", "category", "quantity")} | {"amount": i["amount_fen"]}
                               for i in b["items"]]} for b in bills])


@control.post("/bills/<bill_id>/pay")
def pay_bill_at_window(bill_id: str):
    """The patient paid this pending bill at the hospital's window (not through the interface)."""
    return _bill_status(bill_id, "paid")


@control.post("/bills/<bill_id>/cancel")
def cancel_bill(bill_id: str):
    """The doctor withdrew the order (作废): the bill is no longer payable."""
    return _bill_status(bill_id, "cancelled")


@control.post("/bills/<bill_id>/execute")
def execute_bill(bill_id: str):
    """The medicine was dispensed or the test done (已发药/已执行): the paid bill can no longer be refunded."""
    try:
        billing.execute_bill(_sandbox().store, bill_id)
    except BizError as exc:
        return jsonify({"error": exc.message}), 404 if exc.code == NOT_FOUND else 409
    return jsonify({"bill_id": bill_id, "status": "executed"})


def _bill_status(bill_id: str, status: str):
    try:
        billing.set_bill_status(_sandbox().store, bill_id, status)
    except BizError as exc:
        return jsonify({"error": exc.message}), 404 if exc.code == NOT_FOUND else 409
    return jsonify({"bill_id": bill_id, "status": status})


@control.post("/queue/advance")
def advance_queue():
    """Advance a schedule's current queue number: {schedule_id, by}."""
    body = request.get_json(silent=True) or {}
    try:
        booking.advance_queue(_sandbox().store, body["schedule_id"], int(body.get("by", 1)))
    except (KeyError, TypeError, ValueError) as exc:
        return jsonify({"error": f"bad request: {exc}"}), 400
    except BizError as exc:
        return jsonify({"error": exc.message}), 404
    return jsonify({"ok": True})


def create_app(db_path: str | None = None, clock: Callable[[], dt.datetime] | None = None) -> Flask:
    """The sandbox HIS app; db_path defaults to a temp file, clock to the real time."""
    app = Flask(__name__)
    app.json.ensure_ascii = False
    store = Store(db_path, clock)
    store.ensure_window()
    app.extensions["sandbox_his"] = Sandbox(store)
    app.register_blueprint(ws)
    app.register_blueprint(control)
    return app
