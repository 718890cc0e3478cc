"""A hospital whose HIS lacks an operation: that feature is off, said plainly, and nothing else breaks."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml

from bff.his.adapters.xmlws import Mapping, XmlWsHis
from tests.api.booking_helpers import book, find_slot
from tests.conftest import add_patient


def _error(response) -> str:
    return response.get_json()["error"]["code"]


def test_without_booking_operations_patients_are_told_before_anything_is_written(app, client, alice, clock,
                                                                                 memory_his):
    patient = add_patient(client, alice)
    schedule, slot = find_slot(client, alice, clock().date() + dt.timedelta(days=1))  # the catalog still works
    memory_his.switch_off("lock_slot", "confirm_registration")
    response = book(client, alice, patient["id"], schedule, slot)
    assert response.status_code == 501 and _error(response) == "FEATURE_UNAVAILABLE"
    assert "预约挂号" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/appointments", headers=alice).get_json()["items"] == []  # no pending booking left
    assert memory_his.calls["lock_slot"] == 0


def test_without_the_bills_operations_outpatient_payment_is_off_and_readyz_says_so(app, client, alice, memory_his):
    patient = add_patient(client, alice)
    memory_his.switch_off("list_pending_bills", "settle_bills", "query_settlement")
    response = client.get(f"/api/v1/bills?patient_id={patient['id']}", headers=alice)
    assert response.status_code == 501 and _error(response) == "FEATURE_UNAVAILABLE"
    ready = client.get("/readyz")
    assert ready.status_code == 200  # configuration, not a fault
    assert ready.get_json()["his_features_off"] == {"outpatient_payment": "门诊缴费"}


def test_the_cli_check_names_what_is_off(app, memory_his):
    memory_his.switch_off("check_in", "queue_status")
    result = app.test_cli_runner().invoke(args=["his", "check"])
    assert result.exit_code == 0, result.output
    assert "feature off: check_in (线上签到与排队)" in result.output and "check_in, queue_status" in result.output


def _sandbox_mapping() -> dict:
    with open("bff/his/mappings/sandbox.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_a_mapping_without_optional_operations_loads_and_lists_them():
    raw = _sandbox_mapping()
    for name in ("check_in", "queue_status", "list_payment_records"):
        del raw["operations"][name]
    his = XmlWsHis(raw, "http://his.invalid/ws?wsdl")
    assert his.missing_operations() == {"check_in", "queue_status", "list_payment_records"}
    from bff.his.port import HisUnsupported

    with pytest.raises(HisUnsupported):
        his.check_in("R1")  # refused before any network call


def test_a_mapping_without_a_core_operation_is_refused_at_start():
    raw = _sandbox_mapping()
    del raw["operations"]["list_slots"]
    with pytest.raises(ValueError, match="list_slots"):
        Mapping(raw)


def test_a_booking_cannot_be_paid_or_cancelled_once_booking_is_off(make_app, clock, memory_his):
    app = make_app(PAYMENT_MODE="online")
    client = app.test_client()
    from tests.conftest import login

    headers = login(client, "payer")
    patient = add_patient(client, headers)
    schedule, slot = find_slot(client, headers, clock().date() + dt.timedelta(days=1))
    held = book(client, headers, patient["id"], schedule, slot).get_json()
    memory_his.switch_off("lock_slot", "unlock_slot", "confirm_registration", "query_registration",
                          "cancel_registration")  # the hospital's mapping changed after the booking
    pay = client.post("/api/v1/payments", headers=headers,
                      json={"order_type": "appointment", "order_id": held["id"], "channel": "wechat"})
    assert pay.status_code == 501 and _error(pay) == "FEATURE_UNAVAILABLE"  # no money taken
    cancel = client.post(f"/api/v1/appointments/{held['id']}/cancel", headers=headers)
    assert cancel.status_code == 501
    assert client.get(f"/api/v1/appointments/{held['id']}", headers=headers).get_json()["status"] == "awaiting_payment"
