"""XmlWsHis against the sandbox HIS over loopback: the conformance suite plus failure modes."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from bff.his import port
from bff.his.adapters.xmlws import Codec, XmlWsHis
from bff.his.port import HOSPITAL_TZ, HisRejected, HisUnavailable
from tests.his_conformance import HisConformance, HisHarness

MAPPING_PATH = Path(__file__).resolve().parents[2] / "bff" / "his" / "mappings" / "sandbox.yaml"
MAPPING = yaml.safe_load(MAPPING_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def xmlws_his(sandbox_his) -> XmlWsHis:
    """One adapter (one zeep client) reused by the whole suite."""
    return XmlWsHis.from_config(MAPPING_PATH, sandbox_his.wsdl_url, timeout=5.0)


@pytest.fixture
def env(xmlws_his, his_control) -> HisHarness:
    def add_schedule(**kw) -> tuple[str, list[str]]:
        body = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in kw.items()}
        created = his_control.post("schedules", body)
        return created["schedule_id"], created["slot_ids"]

    def advance_queue(schedule_id: str, by: int) -> None:
        his_control.post("queue/advance", {"schedule_id": schedule_id, "by": by})

    def add_bill(his_patient_id: str, title: str, amount: int, items=()) -> str:
        body = {"his_patient_id": his_patient_id, "title": title, "amount": amount,
                "items": [dataclasses.asdict(i) for i in items]}
        return his_control.post("bills", body)["bill_id"]

    return HisHarness(xmlws_his, add_schedule, lambda: his_control.get("stats"), advance_queue,
                      lambda: dt.datetime.now(HOSPITAL_TZ), add_bill,
                      lambda bill_id: his_control.post(f"bills/{bill_id}/pay"),
                      lambda bill_id: his_control.post(f"bills/{bill_id}/cancel"),
                      lambda bill_id: his_control.post(f"bills/{bill_id}/execute"))


class TestXmlWsConformance(HisConformance):
    """The shared suite against the sandbox HIS through the YAML mapping."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _elapsed(fn) -> float:
    start = time.monotonic()
    with pytest.raises(HisUnavailable):
        fn()
    return time.monotonic() - start


def test_construction_does_not_touch_the_his():
    his = XmlWsHis(MAPPING, f"http://127.0.0.1:{_free_port()}/his/ws?wsdl", timeout=1.0)
    assert _elapsed(his.list_departments) < 2.0


def test_down_is_unavailable_quickly_and_recovers(xmlws_his, his_control):
    xmlws_his.ping()
    his_control.faults(down=True)
    assert _elapsed(xmlws_his.list_departments) < 1.0
    fresh = XmlWsHis(MAPPING, his_control.wsdl_url, timeout=1.0)
    assert _elapsed(fresh.ping) < 1.0
    his_control.faults(down=False)
    fresh.ping()
    assert fresh.list_departments()


def test_latency_over_timeout_is_unavailable(his_control):
    his = XmlWsHis(MAPPING, his_control.wsdl_url, timeout=0.5)
    his.ping()
    his_control.faults(latency_ms=1500)
    assert _elapsed(his.list_departments) < 1.3
    his_control.faults(latency_ms=100)
    assert his.list_departments()


def test_error_rate_one_is_unavailable(xmlws_his, his_control):
    xmlws_his.ping()
    assert his_control.faults(error_rate=1.0)["error_rate"] == 1.0
    with pytest.raises(HisUnavailable):
        xmlws_his.get_schedule("S1")
    assert his_control.faults() == {"latency_ms": 0, "error_rate": 1.0, "down": False}


def test_endpoint_overrides_the_wsdl_address(his_control):
    his = XmlWsHis(MAPPING, his_control.wsdl_url, endpoint=f"http://127.0.0.1:{_free_port()}/his/ws", timeout=1.0)
    with pytest.raises(HisUnavailable):
        his.ping()
    good = XmlWsHis(MAPPING, his_control.wsdl_url, endpoint=his_control.endpoint, timeout=1.0)
    good.ping()


def test_reply_without_result_code_is_unavailable(his_control):
    mapping = copy.deepcopy(MAPPING)
    mapping["response"]["result_code"] = "NoSuchCode"
    with pytest.raises(HisUnavailable):
        XmlWsHis(mapping, his_control.wsdl_url, timeout=1.0).list_departments()


def test_unmapped_result_code_keeps_the_hospital_code(his_control):
    mapping = copy.deepcopy(MAPPING)
    del mapping["response"]["rejections"]["101"]
    with pytest.raises(HisRejected) as err:
        XmlWsHis(mapping, his_control.wsdl_url, timeout=1.0).get_schedule("NOPE")
    assert (err.value.code, err.value.his_code, err.value.message) == (port.REJECTED, "101", "排班记录不存在")


def test_lazy_init_is_thread_safe(his_control):
    his = XmlWsHis(MAPPING, his_control.wsdl_url, timeout=5.0)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(len(his.list_departments()))) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(results) == 8 and len(set(results)) == 1


@pytest.mark.parametrize("broken", [
    lambda m: m["operations"].pop("list_slots"),  # core: without it there is no booking page at all
    lambda m: m["response"]["rejections"].update({"777": "NO_SUCH_CANONICAL"}),
    lambda m: m["formats"].update({"money": "jiao"}),
])
def test_bad_mapping_fails_at_construction(broken):
    mapping = copy.deepcopy(MAPPING)
    broken(mapping)
    with pytest.raises(ValueError):
        XmlWsHis(mapping, "http://127.0.0.1:9/his/ws?wsdl")


def test_codec_converts_money_and_times():
    codec = Codec({"money": "yuan", "datetime": "%Y-%m-%d %H:%M:%S"})
    assert codec.decode("50.00", {"type": "money"}) == 5000
    assert codec.decode("0.105", {"type": "money"}) == 11
    assert codec.decode("1500", {"type": "fen"}) == 1500
    assert codec.encode(1234, {"type": "money"}) == "12.34"
    moment = codec.decode("2025-03-01 08:30:00", {"type": "datetime"})
    assert moment == dt.datetime(2025, 3, 1, 8, 30, tzinfo=HOSPITAL_TZ)
    assert codec.decode("2", {"map": {"1": "am", "2": "pm"}}) == "pm"
    assert codec.encode("F", {"map": {"M": "1", "F": "2"}}) == "2"
    assert codec.decode("", {"type": "int"}) is None


def _patient_with_bill(xmlws_his: XmlWsHis, his_control) -> tuple[str, str]:
    info = port.PatientInfo("缴费患者", "01", "110101198805051234", "13800000001", "F", dt.date(1988, 5, 5))
    pid = xmlws_his.find_or_create_patient(info).his_patient_id
    added = his_control.post("bills", {"his_patient_id": pid, "title": "检查：腹部彩超", "amount": 16000})
    return pid, added["bill_id"]


def test_settlement_whose_reply_timed_out_is_found_by_the_compensation_query(xmlws_his, his_control):
    pid, bill = _patient_with_bill(xmlws_his, his_control)
    slow = XmlWsHis(MAPPING, his_control.wsdl_url, timeout=0.3)
    slow.ping()
    his_control.faults(latency_ms=600)  # the HIS settles after our timeout
    with pytest.raises(HisUnavailable):
        slow.settle_bills("pay-late", pid, [bill], "WX-LATE", 16000)
    his_control.faults(latency_ms=0)
    deadline, found = time.monotonic() + 3, None
    while found is None and time.monotonic() < deadline:
        found = xmlws_his.query_settlement("pay-late")
        time.sleep(0.05)
    assert found is not None and (found.bill_ids, found.amount, found.trade_no) == ((bill,), 16000, "WX-LATE")
    assert xmlws_his.settle_bills("pay-late", pid, [bill], "WX-LATE", 16000) == found
    assert [b["status"] for b in his_control.get(f"bills?his_patient_id={pid}")] == ["paid"]


def test_settlement_while_the_his_is_down_changes_nothing(xmlws_his, his_control):
    pid, bill = _patient_with_bill(xmlws_his, his_control)
    his_control.faults(down=True)
    with pytest.raises(HisUnavailable):
        xmlws_his.settle_bills("pay-down", pid, [bill], "WX-DOWN", 16000)
    his_control.faults(down=False)
    assert xmlws_his.query_settlement("pay-down") is None
    assert [b.id for b in xmlws_his.list_pending_bills(pid)] == [bill]
