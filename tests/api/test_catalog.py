"""Departments, doctors, schedules and slots from the HIS, cached and served stale when it is down."""
import datetime as dt

from tests.api.booking_helpers import book, departments, find_slot
from tests.conftest import add_patient


def test_departments_have_two_levels(client, alice):
    items = client.get("/api/v1/departments", headers=alice).get_json()["items"]
    assert items and all(top["children"] for top in items)
    assert all(child["code"] and child["name"] for top in items for child in top["children"])


def test_doctors_of_a_department_have_titles(client, alice):
    dept = departments(client, alice)[0]
    doctors = client.get(f"/api/v1/doctors?department={dept['code']}", headers=alice).get_json()["items"]
    assert doctors and all(d["department_code"] == dept["code"] and d["title"] for d in doctors)


def test_schedules_cover_the_next_days_with_fees_in_fen(client, alice, clock):
    dept = departments(client, alice)[0]
    items = client.get(f"/api/v1/schedules?department={dept['code']}", headers=alice).get_json()["items"]
    dates = {s["date"] for s in items}
    assert clock().date().isoformat() in dates
    assert (clock().date() + dt.timedelta(days=7)).isoformat() in dates
    assert all(isinstance(s["fee"], int) and s["fee"] > 0 and s["period"] in ("am", "pm", "night") for s in items)
    assert all(s["remaining"] <= s["total"] for s in items)


def test_schedules_after_release_time_are_not_released(client, alice, clock):
    clock.set(clock().replace(hour=6, minute=30))
    dept = departments(client, alice)[0]
    last_day = clock().date() + dt.timedelta(days=7)
    items = client.get(f"/api/v1/schedules?department={dept['code']}&date_from={last_day}&date_to={last_day}",
                       headers=alice).get_json()["items"]
    assert items and {s["status"] for s in items} == {"not_released"}


def test_slots_of_a_schedule(client, alice):
    dept = departments(client, alice)[0]
    schedule = client.get(f"/api/v1/schedules?department={dept['code']}", headers=alice).get_json()["items"][0]
    slots = client.get(f"/api/v1/schedules/{schedule['id']}/slots", headers=alice).get_json()["items"]
    assert slots and sum(s["capacity"] for s in slots) == schedule["total"]
    first = dt.datetime.fromisoformat(slots[0]["start"])
    assert first.utcoffset() == dt.timedelta(hours=8)


def test_unknown_schedule_is_404(client, alice):
    response = client.get("/api/v1/schedules/no-such-schedule/slots", headers=alice)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "SCHEDULE_NOT_FOUND"


def test_bad_dates_are_422(client, alice):
    assert client.get("/api/v1/schedules?date_from=tomorrow", headers=alice).status_code == 422
    response = client.get("/api/v1/schedules?date_from=2026-01-10&date_to=2026-01-01", headers=alice)
    assert response.status_code == 422


def test_catalog_is_served_stale_and_marked_while_the_his_is_down(client, alice, memory_his, his_clock):
    fresh = client.get("/api/v1/departments", headers=alice).get_json()
    assert fresh["stale"] is False
    memory_his.set_down(True)
    his_clock.advance(3600)  # long past the cache's freshness
    stale = client.get("/api/v1/departments", headers=alice)
    assert stale.status_code == 200
    assert stale.get_json() == {"items": fresh["items"], "stale": True}
    memory_his.set_down(False)
    his_clock.advance(60)  # past the breaker's cool-down
    assert client.get("/api/v1/departments", headers=alice).get_json()["stale"] is False


def test_no_cached_data_and_his_down_is_503(client, alice, memory_his):
    memory_his.set_down(True)
    response = client.get("/api/v1/doctors?department=none", headers=alice)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "HIS_UNAVAILABLE"


def test_slots_that_have_ended_are_marked_passed_and_refused(client, alice, clock):
    clock.set(clock().replace(hour=10, minute=10))
    schedule, _ = find_slot(client, alice, clock().date())
    assert schedule["period"] == "am"
    slots = client.get(f"/api/v1/schedules/{schedule['id']}/slots", headers=alice).get_json()["items"]
    ended = [s for s in slots if dt.datetime.fromisoformat(s["end"]) <= clock()]
    ahead = [s for s in slots if dt.datetime.fromisoformat(s["end"]) > clock()]
    assert ended and ahead
    assert {s["status"] for s in ended} == {"passed"}
    assert {s["status"] for s in ahead} <= {"open", "full"}
    patient = add_patient(client, alice)
    response = book(client, alice, patient["id"], schedule, ended[-1])
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "SLOT_PASSED"
    assert client.get("/api/v1/appointments", headers=alice).get_json()["items"] == []
