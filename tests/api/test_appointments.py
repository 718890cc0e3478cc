"""Booking end to end through the API with the memory HIS: rules, failures, ownership."""
import datetime as dt

from bff.his.port import PatientInfo
from tests.api.booking_helpers import book, find_slot
from tests.conftest import add_patient, login
from tests.fakes import resident_id


def tomorrow(clock):
    return clock().date() + dt.timedelta(days=1)


def error_code(response):
    return response.get_json()["error"]["code"]


def test_booking_is_confirmed_and_registered_in_the_his(client, alice, clock, memory_his, his_clock):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "confirmed" and body["visit_no"]
    assert body["fee"] == schedule["fee"] and body["slot"]["id"] == slot["id"]
    assert body["patient"]["name"] == "张三" and "*" in body["patient"]["id_number_masked"]
    assert memory_his.live_registrations == 1 and memory_his.live_locks == 0
    listed = client.get("/api/v1/appointments", headers=alice).get_json()["items"]
    assert [a["id"] for a in listed] == [body["id"]]
    his_clock.advance(1.0)  # remaining counts follow a booking within a second
    after = client.get(f"/api/v1/schedules/{schedule['id']}/slots", headers=alice).get_json()["items"]
    assert next(s for s in after if s["id"] == slot["id"])["remaining"] == slot["remaining"] - 1


def test_same_idempotency_key_books_once(client, alice, clock, memory_his):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    first = book(client, alice, patient["id"], schedule, slot, key="k-1")
    again = book(client, alice, patient["id"], schedule, slot, key="k-1")
    assert first.get_json()["id"] == again.get_json()["id"] and again.status_code == 201
    assert memory_his.live_registrations == 1


def test_second_booking_same_patient_department_day_is_refused(client, alice, clock):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    assert book(client, alice, patient["id"], schedule, slot).status_code == 201
    again = book(client, alice, patient["id"], schedule, slot)
    assert again.status_code == 409 and error_code(again) == "DUPLICATE_BOOKING"


def test_a_slot_never_takes_more_than_its_capacity(client, clock, memory_his):
    owner = login(client, "first")
    schedule, slot = find_slot(client, owner, tomorrow(clock))
    outcomes = []
    for n in range(slot["capacity"] + 2):
        headers = login(client, f"user-{n}")
        patient = add_patient(client, headers)
        outcomes.append(book(client, headers, patient["id"], schedule, slot))
    statuses = [r.status_code for r in outcomes]
    assert statuses.count(201) == slot["capacity"]
    assert [error_code(r) for r in outcomes if r.status_code != 201] == ["SLOT_FULL", "SLOT_FULL"]
    assert memory_his.live_registrations == slot["capacity"] and memory_his.live_locks == 0


def test_not_released_is_403(client, alice, clock):
    clock.set(clock().replace(hour=6, minute=30))
    patient = add_patient(client, alice)
    last_day = clock().date() + dt.timedelta(days=7)
    schedule, _ = find_slot(client, alice, last_day, status="not_released")
    slot = client.get(f"/api/v1/schedules/{schedule['id']}/slots", headers=alice).get_json()["items"][0]
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 403 and error_code(response) == "NOT_RELEASED"
    assert "release_at" in response.get_json()["error"]["details"]


def test_booking_for_someone_elses_patient_is_404(client, alice, bob, clock):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, bob, tomorrow(clock))
    response = book(client, bob, patient["id"], schedule, slot)
    assert response.status_code == 404 and error_code(response) == "PATIENT_NOT_FOUND"


def test_someone_elses_appointment_is_404_everywhere(client, alice, bob, clock):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    appointment = book(client, alice, patient["id"], schedule, slot).get_json()
    for method, path in (("get", ""), ("post", "/cancel"), ("post", "/check-in"), ("get", "/queue")):
        response = getattr(client, method)(f"/api/v1/appointments/{appointment['id']}{path}", headers=bob)
        assert response.status_code == 404, path
    assert client.get("/api/v1/appointments", headers=bob).get_json() == {"items": []}


def test_bad_booking_body_is_422(client, alice):
    response = client.post("/api/v1/appointments", headers=alice, json={"patient_id": "x"})
    assert response.status_code == 422 and set(response.get_json()["error"]["details"]["fields"]) >= {
        "patient_id", "schedule_id", "slot_id"}


def test_unknown_slot_is_404(client, alice, clock):
    patient = add_patient(client, alice)
    schedule, _ = find_slot(client, alice, tomorrow(clock))
    response = book(client, alice, patient["id"], schedule, {"id": "nope"})
    assert response.status_code == 404 and error_code(response) == "SLOT_NOT_FOUND"


def test_booking_attempts_are_rate_limited_per_user(make_app, clock):
    app = make_app(BOOKING_RATE_LIMIT="3/minute")
    client = app.test_client()
    alice, bob = login(client, "alice"), login(client, "bob")
    statuses = [client.post("/api/v1/appointments", headers=alice, json={}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    limited = client.post("/api/v1/appointments", headers=alice, json={})
    assert error_code(limited) == "RATE_LIMITED" and int(limited.headers["Retry-After"]) > 0
    assert client.post("/api/v1/appointments", headers=bob, json={}).status_code == 422


def test_cancel_frees_the_place_in_the_his(client, alice, clock, memory_his):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    appointment = book(client, alice, patient["id"], schedule, slot).get_json()
    response = client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert memory_his.live_registrations == 0
    again = book(client, alice, patient["id"], schedule, slot)
    assert again.status_code == 201, "a cancelled booking must not block a new one"


def test_cancel_after_the_cutoff_is_409(client, alice, clock):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, clock().date(), after=clock() + dt.timedelta(minutes=20))
    appointment = book(client, alice, patient["id"], schedule, slot).get_json()
    response = client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    assert response.status_code == 409 and error_code(response) == "CANCEL_TOO_LATE"


def test_check_in_on_the_day_then_queue(client, alice, clock, memory_his):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, clock().date(), after=clock())
    appointment = book(client, alice, patient["id"], schedule, slot).get_json()
    start = dt.datetime.fromisoformat(slot["start"])
    clock.set(start - dt.timedelta(minutes=90))
    early = client.post(f"/api/v1/appointments/{appointment['id']}/check-in", headers=alice)
    assert early.status_code == 409 and error_code(early) == "CHECKIN_TOO_EARLY"
    clock.set(start - dt.timedelta(minutes=30))
    checked = client.post(f"/api/v1/appointments/{appointment['id']}/check-in", headers=alice).get_json()
    assert checked["status"] == "checked_in" and checked["queue_no"] >= 1
    queue = client.get(f"/api/v1/appointments/{appointment['id']}/queue", headers=alice).get_json()
    assert queue["queue_no"] == checked["queue_no"] and queue["ahead"] >= 0
    assert queue["estimated_wait_minutes"] >= 0


def test_check_in_on_another_day_is_refused(client, alice, clock):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    appointment = book(client, alice, patient["id"], schedule, slot).get_json()
    response = client.post(f"/api/v1/appointments/{appointment['id']}/check-in", headers=alice)
    assert response.status_code == 409 and error_code(response) == "CHECKIN_NOT_TODAY"


def test_his_down_at_booking_leaves_nothing_behind(client, alice, clock, memory_his):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    memory_his.fail_next("lock_slot", times=1)
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 503 and error_code(response) == "HIS_UNAVAILABLE"
    assert memory_his.live_locks == 0 and memory_his.live_registrations == 0
    assert client.get("/api/v1/appointments", headers=alice).get_json() == {"items": []}
    assert book(client, alice, patient["id"], schedule, slot).status_code == 201


def test_lost_confirmation_reply_is_recovered_by_asking_the_his(client, alice, clock, memory_his):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    memory_his.fail_next("confirm_registration", times=1, committed=True)
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 201 and response.get_json()["status"] == "confirmed"
    assert memory_his.live_registrations == 1


def test_confirmation_not_committed_is_released_by_recovery_not_at_once(app, client, alice, clock, memory_his):
    from bff.appointments.service import recover_pending

    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    memory_his.fail_next("confirm_registration", times=1, committed=False)
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 503
    # The HIS might still be committing our confirm: nothing is decided while it could.
    [pending] = client.get("/api/v1/appointments", headers=alice).get_json()["items"]
    assert pending["status"] == "pending" and memory_his.live_locks == 1
    with app.app_context():
        assert recover_pending(dt.timedelta(seconds=0)) == 1
    assert memory_his.live_locks == 0 and memory_his.live_registrations == 0
    assert client.get("/api/v1/appointments", headers=alice).get_json() == {"items": []}


def test_confirmation_arriving_after_recovery_gave_up_is_cancelled_in_the_his(app, client, alice, clock,
                                                                              memory_his):
    from bff.appointments import service
    from bff.appointments.models import Appointment
    from bff.extensions import db

    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    real_confirm = memory_his.confirm_registration

    def slow_confirm(request_id, *args, **kwargs):  # recovery settles the booking meanwhile
        with app.app_context():
            stuck = db.session.execute(db.select(Appointment)).scalar_one()
            service.state.move(stuck, "failed", "recovered elsewhere")
            db.session.commit()
        return real_confirm(request_id, *args, **kwargs)

    memory_his.confirm_registration = slow_confirm
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 503
    assert memory_his.live_registrations == 0, "the orphan registration is cancelled"


def test_booking_left_pending_is_settled_by_recovery(app, client, alice, clock, memory_his):
    from bff.appointments.service import recover_pending

    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    memory_his.fail_next("confirm_registration", times=1, committed=True)
    memory_his.fail_next("query_registration", times=1)
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 503
    [pending] = client.get("/api/v1/appointments", headers=alice).get_json()["items"]
    assert pending["status"] == "pending"
    retry = book(client, alice, patient["id"], schedule, slot, key="same-key")
    assert retry.status_code == 409 and error_code(retry) == "BOOKING_IN_PROGRESS"
    with app.app_context():
        assert recover_pending(dt.timedelta(seconds=0)) == 1
    settled = client.get(f"/api/v1/appointments/{pending['id']}", headers=alice).get_json()
    assert settled["status"] == "confirmed" and memory_his.live_registrations == 1
    again = book(client, alice, patient["id"], schedule, slot, key="same-key")
    assert error_code(again) == "DUPLICATE_BOOKING", "a transient refusal is not replayed for ever"


def test_his_rejection_at_lock_is_slot_full(client, alice, clock, memory_his):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    for n in range(slot["remaining"]):  # booked through another channel, e.g. the hospital window
        walk_in = memory_his.find_or_create_patient(PatientInfo(
            name="窗口患者", id_type="01", id_number=resident_id(900 + n), phone="13700000000", gender="F",
            birthday=dt.date(1990, 3, 7)))
        memory_his.lock_slot(f"window-{n}", walk_in.his_patient_id, schedule["id"], slot["id"])
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 409 and error_code(response) == "SLOT_FULL"
    assert client.get("/api/v1/appointments", headers=alice).get_json() == {"items": []}


def test_patient_with_upcoming_booking_cannot_be_deleted(client, alice, clock):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    book(client, alice, patient["id"], schedule, slot)
    response = client.delete(f"/api/v1/patients/{patient['id']}", headers=alice)
    assert response.status_code == 409 and error_code(response) == "PATIENT_HAS_APPOINTMENTS"


def test_online_mode_holds_the_slot_until_it_expires(make_app, clock, memory_his):
    from bff.appointments.service import expire_holds

    app = make_app(PAYMENT_MODE="online", HOLD_MINUTES=10)
    client = app.test_client()
    headers = login(client, "payer")
    patient = add_patient(client, headers)
    schedule, slot = find_slot(client, headers, tomorrow(clock))
    held = book(client, headers, patient["id"], schedule, slot).get_json()
    assert held["status"] == "awaiting_payment"
    assert dt.datetime.fromisoformat(held["hold_expires_at"]) == clock() + dt.timedelta(minutes=10)
    assert memory_his.live_locks == 1 and memory_his.live_registrations == 0
    clock.advance(minutes=9)
    with app.app_context():
        assert expire_holds() == 0
    clock.advance(minutes=2)
    with app.app_context():
        assert expire_holds() == 1
    assert client.get(f"/api/v1/appointments/{held['id']}", headers=headers).get_json()["status"] == "expired"
    assert memory_his.live_locks == 0
    assert book(client, headers, patient["id"], schedule, slot).status_code == 201, "an expired hold frees the day"


def test_cancelling_a_hold_releases_the_lock(make_app, clock, memory_his):
    app = make_app(PAYMENT_MODE="online")
    client = app.test_client()
    headers = login(client, "changed-mind")
    patient = add_patient(client, headers)
    schedule, slot = find_slot(client, headers, tomorrow(clock))
    held = book(client, headers, patient["id"], schedule, slot).get_json()
    cancelled = client.post(f"/api/v1/appointments/{held['id']}/cancel", headers=headers).get_json()
    assert cancelled["status"] == "cancelled" and memory_his.live_locks == 0


def test_a_place_freed_by_cancelling_a_full_slot_can_be_booked_at_once(client, clock):
    scout = login(client, "scout")
    schedule, slot = find_slot(client, scout, tomorrow(clock))
    booked = []
    for n in range(slot["remaining"]):
        headers = login(client, f"filler-{n}")
        booked.append((headers, book(client, headers, add_patient(client, headers)["id"], schedule, slot).get_json()))
    late = login(client, "latecomer")
    patient = add_patient(client, late)
    assert error_code(book(client, late, patient["id"], schedule, slot)) == "SLOT_FULL"
    headers, first = booked[0]
    client.post(f"/api/v1/appointments/{first['id']}/cancel", headers=headers)
    assert book(client, late, patient["id"], schedule, slot).status_code == 201


def test_out_of_range_and_unprintable_ids_are_client_errors(client, alice, clock):
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    import json

    huge = client.post("/api/v1/appointments", headers=alice, content_type="application/json",
                       data=json.dumps({"patient_id": 10**27, "schedule_id": schedule["id"], "slot_id": slot["id"]}))
    assert huge.status_code in (400, 422) and "error" in huge.get_json()
    big = client.post("/api/v1/appointments", headers=alice,
                      json={"patient_id": 2**40, "schedule_id": schedule["id"], "slot_id": slot["id"]})
    assert big.status_code == 422 and "patient_id" in big.get_json()["error"]["details"]["fields"]
    control = client.post("/api/v1/appointments", headers=alice,
                          json={"patient_id": 1, "schedule_id": "S\x01", "slot_id": slot["id"]})
    assert control.status_code == 422
    assert client.delete(f"/api/v1/patients/{10**40}", headers=alice).status_code == 404
    assert client.get("/api/v1/schedules/S%01/slots", headers=alice).status_code == 404


def test_a_lock_whose_reply_was_lost_is_released_at_once_and_again_by_recovery(app, client, alice, clock,
                                                                              memory_his):
    from bff.appointments.service import recover_pending
    from bff.jobs import run_job

    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, tomorrow(clock))
    memory_his.fail_next("lock_slot", times=1, committed=True)  # the HIS locked it; its answer got lost
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 503 and memory_his.live_locks == 0
    shown = client.get("/api/v1/appointments", headers=alice).get_json()["items"]
    assert [a["status"] for a in shown] == ["pending"]  # 确认中: a late lock could still land
    again = book(client, alice, patient["id"], schedule, slot)
    assert again.status_code == 409 and error_code(again) == "BOOKING_IN_PROGRESS"
    run_job(app, "recover", lambda: recover_pending(dt.timedelta(seconds=-1)))
    assert client.get("/api/v1/appointments", headers=alice).get_json()["items"] == []
    assert book(client, alice, patient["id"], schedule, slot).status_code == 201
