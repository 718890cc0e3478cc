"""The health card usage scenes: one table of the platform's 7-digit codes, and every user goes through it."""
from __future__ import annotations

import re

from health_card.codes import SCENE_CODES, SCENE_TABLE, Scene

# Codes the platform's list is known to hold (INTEGRATIONS.md and the public SDKs).
KNOWN = {"0101011": "预约挂号", "0101012": "当日挂号", "0101013": "挂号记录", "0101014": None,
         "0101051": "门诊缴费", "0101053": "住院缴费", "0101081": "报告查询"}


def test_every_scene_code_is_seven_digits_unique_and_says_where_it_comes_from():
    codes = [row.code for row in SCENE_TABLE]
    assert all(re.fullmatch(r"[0-9]{7}", code) for code in codes), codes
    assert len(set(codes)) == len(codes) and len({row.member for row in SCENE_TABLE}) == len(codes)
    assert all(row.name and row.source for row in SCENE_TABLE)


def test_the_known_codes_are_in_the_table_with_their_names():
    names = {row.code: row.name for row in SCENE_TABLE}
    for code, name in KNOWN.items():
        assert code in names and (name is None or names[code] == name), code
    assert "010108" not in names  # report query is 0101081 in the platform's list


def test_the_scene_enum_is_the_table():
    assert [(s.name, s.value) for s in Scene] == [(row.member, row.code) for row in SCENE_TABLE]
    assert SCENE_CODES == {str(s) for s in Scene}
    assert Scene.REPORT_QUERY == "0101081" and Scene("0101014") is Scene.REGISTRATION_OTHER


def test_every_scene_code_the_client_sends_is_on_the_platform_simulators_list():
    from sandbox.healthcard.operations import SCENE_CODES as PLATFORM_LIST

    assert SCENE_CODES <= PLATFORM_LIST
