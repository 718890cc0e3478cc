"""The whole patient flow over loopback: real wechatpy, real zeep/xmlws, the sandbox servers.

The BFF and the sandbox HIS share one fixed clock (today 09:00, Asia/Shanghai), so "on the day"
check-in is tested the same way at any hour CI runs.
"""
from __future__ import annotations

import datetime as dt

import pytest
import requests

from bff.his.port import HOSPITAL_TZ
from tests.e2e.stack import start_stack
from tests.fakes import FakeClock, resident_id

NOW = dt.datetime.now(HOSPITAL_TZ).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    live = start_stack(str(tmp_path_factory.mktemp("live")), clock=FakeClock(NOW))
    yield live
    live.stop()


@pytest.fixture
def api(stack):
    session = requests.Session()
    base = stack.urls["bff"]

    def call(method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = "Bearer " + token
        return session.request(method, base + path, headers=headers, timeout=15, **kwargs)

    return call


def control(stack, method, path, **kwargs):
    response = requests.request(method, f"{stack.urls['his']}/_control/{path}", timeout=5, **kwargs)
    response.raise_for_status()
    return response.json()


def login(api, code):
    response = api("POST", "/api/v1/auth/wx-login", json={"code": code})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def new_patient(api, token, seq):
    response = api("POST", "/api/v1/patients", token, json={
        "name": "刘备", "id_type": "01", "id_number": resident_id(seq, "19620715"), "phone": "13600001111",
        "relation": "parent"})
    assert response.status_code == 201, response.text
    return response.json()


def first_child_department(api, token):
    tops = api("GET", "/api/v1/departments", token).json()["items"]
    return tops[0]["children"][0]["code"]


def test_wechat_login_against_the_sandbox(api):
    assert api("POST", "/api/v1/auth/wx-login", json={"code": "expired"}).json()["error"]["code"] == "WX_CODE_INVALID"
    assert login(api, "zhangsan") != login(api, "lisi")


def test_book_check_in_queue_and_cancel_against_the_sandbox_his(api, stack):
    token = login(api, "live-patient")
    patient = new_patient(api, token, 101)
    department = first_child_department(api, token)
    doctor = api("GET", f"/api/v1/doctors?department={department}", token).json()["items"][0]["code"]
    made = control(stack, "POST", "schedules", json={
        "department_code": department, "doctor_code": doctor, "date": NOW.date().isoformat(), "period": "am",
        "capacity": 2, "release_at": (NOW - dt.timedelta(days=1)).isoformat(), "start_time": "09:30",
        "slot_count": 1})
    slots = api("GET", f"/api/v1/schedules/{made['schedule_id']}/slots", token).json()["items"]
    assert [s["id"] for s in slots] == made["slot_ids"]
    booked = api("POST", "/api/v1/appointments", token, headers={"Idempotency-Key": "live-1"}, json={
        "patient_id": patient["id"], "schedule_id": made["schedule_id"], "slot_id": made["slot_ids"][0]})
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    registrations = control(stack, "GET", "registrations")
    registrations = registrations["items"] if isinstance(registrations, dict) else registrations
    assert any(r.get("status") != "cancelled" and made["slot_ids"][0] in str(r) for r in registrations)
    checked = api("POST", f"/api/v1/appointments/{appointment['id']}/check-in", token).json()
    assert checked["status"] == "checked_in" and checked["queue_no"] >= 1
    queue = api("GET", f"/api/v1/appointments/{appointment['id']}/queue", token).json()
    assert queue["queue_no"] == checked["queue_no"] and queue["ahead"] >= 0


def test_cancel_releases_the_registration_in_the_his(api, stack):
    token = login(api, "live-canceller")
    patient = new_patient(api, token, 102)
    department = first_child_department(api, token)
    day = (NOW + dt.timedelta(days=2)).date()
    schedules = api("GET", f"/api/v1/schedules?department={department}&date_from={day}&date_to={day}", token).json()
    schedule = next(s for s in schedules["items"] if s["status"] == "open")
    slot = next(s for s in api("GET", f"/api/v1/schedules/{schedule['id']}/slots", token).json()["items"]
                if s["remaining"] > 0)
    before = control(stack, "GET", "stats")
    appointment = api("POST", "/api/v1/appointments", token, json={
        "patient_id": patient["id"], "schedule_id": schedule["id"], "slot_id": slot["id"]}).json()
    assert control(stack, "GET", "stats")["registrations"] == before["registrations"] + 1
    cancelled = api("POST", f"/api/v1/appointments/{appointment['id']}/cancel", token).json()
    assert cancelled["status"] == "cancelled"
    after = control(stack, "GET", "stats")
    assert after["registrations"] == before["registrations"]
    assert after["cancellations"] == before["cancellations"] + 1


def test_his_failing_gives_503_and_recovery_leaves_no_lock(api, stack):
    token = login(api, "live-unlucky")
    patient = new_patient(api, token, 103)
    department = first_child_department(api, token)
    day = (NOW + dt.timedelta(days=3)).date()
    schedule = next(s for s in api("GET", f"/api/v1/schedules?department={department}&date_from={day}&date_to={day}",
                                   token).json()["items"] if s["status"] == "open")
    slot = api("GET", f"/api/v1/schedules/{schedule['id']}/slots", token).json()["items"][0]
    control(stack, "POST", "faults", json={"error_rate": 1.0})
    try:
        response = api("POST", "/api/v1/appointments", token, json={
            "patient_id": patient["id"], "schedule_id": schedule["id"], "slot_id": slot["id"]})
    finally:
        control(stack, "POST", "faults", json={"error_rate": 0.0})
    assert response.status_code == 503 and response.json()["error"]["code"] == "HIS_UNAVAILABLE"
    # Not even the unlock got through: the booking stays visible as pending, never lost…
    [pending] = api("GET", "/api/v1/appointments", token).json()["items"]
    assert pending["status"] == "pending"
    # …and once the HIS answers again, recovery releases whatever the HIS may hold.
    from bff.appointments.service import recover_pending

    with stack.app.app_context():
        assert recover_pending(dt.timedelta(seconds=0)) == 1
    assert control(stack, "GET", "stats")["locks"] == 0
    assert api("GET", "/api/v1/appointments", token).json()["items"] == []
    retry = api("POST", "/api/v1/appointments", token, json={
        "patient_id": patient["id"], "schedule_id": schedule["id"], "slot_id": slot["id"]})
    assert retry.status_code == 201 and retry.json()["status"] == "confirmed"
