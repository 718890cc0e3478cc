"""The health card client against the simulator: usage reports, and a platform that is slow or down."""
from __future__ import annotations

import datetime as dt
import socket
import time

import pytest

from health_card import (
    CardChannel,
    HealthCardUnavailable,
    HealthCodeInvalid,
    RequestInvalid,
    Scene,
    UsageReport,
)


def _report(client, text: str, scene, channel, **extra):
    return client.report_his_data(UsageReport(qr_code_text=text, scene=scene, channel=channel, at=client.clock(),
                                              **extra))


def test_usage_reports_reach_the_platform_with_their_codes(platform, client, enrol):
    card, id_number = enrol(30)
    code = client.get_dynamic_qr_code(card.health_card_id, id_number).qr_code_text
    before = client.clock()
    sent = [(Scene.BOOKING, CardChannel.MINI_PROGRAM), (Scene.SAME_DAY_REGISTRATION, CardChannel.KIOSK),
            (Scene.CHECK_IN, CardChannel.KIOSK), (Scene.OUTPATIENT_PAYMENT, CardChannel.MINI_PROGRAM),
            (Scene.REPORT_QUERY, CardChannel.COUNTER), (Scene.REGISTRATION_RECORD, CardChannel.DOCTOR_WORKSTATION)]
    for scene, channel in sent:
        _report(client, code, scene, channel, department="0301")
    _report(platform.client("b"), card.qr_code_text, Scene.BOOKING, CardChannel.OFFICIAL_ACCOUNT)
    after = client.clock()

    ours = platform.reports(hospital_id="10001")
    assert [(r["scene"], r["card_channel"]) for r in ours] == [
        ("0101011", "0402"), ("0101012", "0200"), ("0101021", "0200"), ("0101051", "0402"), ("0101081", "0100"),
        ("0101013", "0300")]
    assert {(r["health_card_id"], r["card_type"], r["department"], r["dynamic"]) for r in ours} == {
        (card.health_card_id, "11", "0301", True)}
    for report in ours:  # the platform's time format, in the hospital's time zone (the clock's)
        sent_at = dt.datetime.strptime(report["time"], "%Y-%m-%d %H:%M:%S")
        assert before.replace(tzinfo=None, microsecond=0) <= sent_at <= after.replace(tzinfo=None)
    theirs = platform.reports(hospital_id="10002")
    assert [(r["scene"], r["card_channel"], r["dynamic"]) for r in theirs] == [("0101011", "0401", False)]
    assert len(platform.reports(scene="0101011")) == 2


def test_a_report_sent_again_under_its_request_id_counts_once(platform, client, enrol):
    card, _ = enrol(31)
    first = _report(client, card.qr_code_text, Scene.BOOKING, CardChannel.MINI_PROGRAM, request_id="outbox-31")
    again = _report(client, card.qr_code_text, Scene.BOOKING, CardChannel.MINI_PROGRAM, request_id="outbox-31")
    other = _report(client, card.qr_code_text, Scene.BOOKING, CardChannel.MINI_PROGRAM)
    assert first.request_id == again.request_id == "outbox-31" != other.request_id
    assert [r["request_id"] for r in platform.reports()] == ["outbox-31", other.request_id]


def test_a_late_report_of_an_expired_code_is_still_taken(platform, client, enrol):
    card, id_number = enrol(32)
    code = client.get_dynamic_qr_code(card.health_card_id, id_number).qr_code_text
    scanned_at = client.clock()
    platform.clock.advance(hours=3)  # the outbox could not send it until now
    client.report_his_data(UsageReport(code, Scene.SAME_DAY_REGISTRATION, CardChannel.COUNTER, at=scanned_at))
    (report,) = platform.reports()
    assert report["time"] == scanned_at.strftime("%Y-%m-%d %H:%M:%S")


def test_reports_with_malformed_codes_are_refused(platform, client, enrol):
    card, _ = enrol(33)
    with pytest.raises(RequestInvalid):
        _report(client, card.qr_code_text, "booking", CardChannel.MINI_PROGRAM)
    with pytest.raises(RequestInvalid):
        _report(client, card.qr_code_text, Scene.BOOKING, "mini")
    assert platform.reports() == []


@pytest.mark.parametrize("scene", ["010108", "010101", "0101099", "01010811"])
def test_a_scene_code_not_in_the_platforms_list_is_refused(platform, client, enrol, scene):
    # 010108 was our report-query code; the platform's list has 0101081 (7 digits).
    card, _ = enrol(35)
    with pytest.raises(RequestInvalid):
        _report(client, card.qr_code_text, scene, CardChannel.MINI_PROGRAM)
    with pytest.raises(RequestInvalid):
        client.verify_qr_code(card.qr_code_text, scene, CardChannel.COUNTER)
    _report(client, card.qr_code_text, Scene.REPORT_QUERY, CardChannel.MINI_PROGRAM)
    assert [r["scene"] for r in platform.reports()] == ["0101081"]


def test_a_platform_that_is_down_is_unavailable_quickly(platform, client, enrol):
    card, id_number = enrol(34)
    platform.faults(down=True)
    started = time.perf_counter()
    with pytest.raises(HealthCardUnavailable) as caught:
        client.get_dynamic_qr_code(card.health_card_id, id_number)
    assert time.perf_counter() - started < 0.5
    assert caught.value.code == "HEALTH_CARD_UNAVAILABLE"
    assert platform.calls("getDynamicQRCode") == 2  # an idempotent call: tried once more
    platform.faults(down=False)
    assert client.get_dynamic_qr_code(card.health_card_id, id_number).health_card_id == card.health_card_id


def test_an_unreachable_platform_is_unavailable_quickly(platform):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = platform.client("a", base_url=f"http://127.0.0.1:{port}")
    started = time.perf_counter()
    with pytest.raises(HealthCardUnavailable):
        client.check()
    assert time.perf_counter() - started < 0.5


def test_a_slow_platform_times_out(platform, enrol):
    card, id_number = enrol(35)
    client = platform.client("a", timeout=0.2, retries=1)
    client.check()
    platform.faults(latency_ms=1500)
    started = time.perf_counter()
    with pytest.raises(HealthCardUnavailable, match="timed out"):
        client.get_dynamic_qr_code(card.health_card_id, id_number)
    assert time.perf_counter() - started < 1.0


def test_only_safe_calls_are_retried_after_a_platform_error(platform, client, enrol):
    card, _ = enrol(36)
    code = platform.post("health-codes", {"health_card_id": card.health_card_id}, expect=201)["health_code"]
    platform.faults(error_rate=1.0)  # every call answers HTTP 500 "system busy"
    with pytest.raises(HealthCardUnavailable) as busy:
        client.get_health_card_by_qr_code(card.qr_code_text)
    with pytest.raises(HealthCardUnavailable):
        client.get_health_card_by_health_code(code)
    assert busy.value.platform_code == "-1"
    assert platform.calls("getHealthCardByQRCode") == 2
    assert platform.calls("getHealthCardByHealthCode") == 1  # single-use code: never sent twice
    platform.faults(error_rate=0.0)
    assert client.get_health_card_by_health_code(code).health_card_id == card.health_card_id
    with pytest.raises(HealthCodeInvalid):
        client.get_health_card_by_health_code(code)
