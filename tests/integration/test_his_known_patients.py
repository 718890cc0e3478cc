"""The sandbox HIS knows demo people with phones on file (identity check), through the real adapter."""
from __future__ import annotations

from pathlib import Path

import pytest

from bff.his.adapters.xmlws import XmlWsHis
from bff.his.port import HisPatientRecord

MAPPING_PATH = Path(__file__).resolve().parents[2] / "bff" / "his" / "mappings" / "sandbox.yaml"


@pytest.fixture
def his(sandbox_his, his_control) -> XmlWsHis:
    return XmlWsHis.from_config(MAPPING_PATH, sandbox_his.wsdl_url, timeout=5.0)


def test_the_demo_person_is_known_with_the_phone_on_file_even_after_a_reset(his, his_control):
    his_control.post("reset")
    found = his.find_patient("01", "110101198001010010")
    assert found is not None and found.name == "王建国" and found.phone == "13800000000"
    assert his_control.get("stats")["patients"] == 0  # seeded people are not live records


def test_a_person_registered_at_the_window_is_found(his, his_control):
    pid = his_control.post("patients", {"name": "赵敏", "id_number": "110101199001019993",
                                        "phone": "13800000123"})["his_patient_id"]
    assert his.find_patient("01", "110101199001019993") == HisPatientRecord(pid, "赵敏", "13800000123")
