"""Finding bookable schedules and slots through the API, as the mini-program does."""
from __future__ import annotations

import datetime as dt


def departments(client, headers) -> list[dict]:
    items = client.get("/api/v1/departments", headers=headers).get_json()["items"]
    return [child for top in items for child in top["children"]]


def find_slot(client, headers, day: dt.date, after: dt.datetime | None = None, status: str = "open"):
    """The first (schedule, slot) on day with a free place (starting after `after` if given)."""
    for dept in departments(client, headers):
        query = f"/api/v1/schedules?department={dept['code']}&date_from={day}&date_to={day}"
        for schedule in client.get(query, headers=headers).get_json()["items"]:
            if schedule["status"] != status:
                continue
            if status != "open":
                return schedule, None
            slots = client.get(f"/api/v1/schedules/{schedule['id']}/slots", headers=headers).get_json()["items"]
            for slot in slots:
                if slot["status"] == "open" and (after is None or dt.datetime.fromisoformat(slot["start"]) > after):
                    return schedule, slot
    raise AssertionError(f"no {status} schedule on {day}")


def book(client, headers, patient_id, schedule, slot, key: str | None = None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/appointments", headers={**headers, **extra},
                       json={"patient_id": patient_id, "schedule_id": schedule["id"], "slot_id": slot["id"]})
