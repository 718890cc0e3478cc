"""Rules of the health card simulator that need no HTTP: ID numbers, QR lifetimes, identity helpers."""
from __future__ import annotations

import datetime as dt

import pytest

from health_card.codes import IdType
from health_card.identity import gender_and_birthday
from health_card.models import CardHolder
from sandbox.healthcard import ids
from sandbox.healthcard.results import QR_EXPIRED, PlatformError
from sandbox.healthcard.store import Platform, SandboxApp
from tests.fakes import resident_id

TODAY = dt.date(2026, 11, 24)


def test_valid_resident_ids_pass():
    assert ids.problem(resident_id(5), TODAY) is None
    assert ids.problem("11010519491231002X", TODAY) is None  # the GB 11643 example, check character X
    assert ids.problem("11010519491231002x", TODAY) is None


@pytest.mark.parametrize("number, why", [
    ("11010519491231002", "18位"), ("01010519491231002X", "18位"), ("1101051949123100AX", "18位"),
    ("110105194912310021", "校验位"), (resident_id(5, "19490230"), "出生日期"),
    (resident_id(5, "18991231"), "出生日期"), (resident_id(5, "20261125"), "出生日期"),
])
def test_invalid_resident_ids_say_why(number, why):
    assert why in ids.problem(number, TODAY)


def test_gender_and_birthday_are_read_from_a_resident_id():
    assert gender_and_birthday(CardHolder("甲", resident_id(7, "20000101"), "13912345678")) == (
        "男", dt.date(2000, 1, 1))
    assert gender_and_birthday(CardHolder("乙", resident_id(8), "13912345678", gender="女"))[0] == "女"
    assert gender_and_birthday(CardHolder("丙", "E1234567", "13912345678", id_type="03")) == ("", None)
    assert IdType.RESIDENT_ID == "01"


def _platform(qr_ttl: int) -> tuple[Platform, SandboxApp]:
    app = SandboxApp("a", "s", "10001")
    return Platform([app], clock=lambda: dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC), qr_ttl=qr_ttl), app


def test_the_dynamic_code_lifetime_is_configurable():
    platform, app = _platform(qr_ttl=5)
    now = platform.clock()
    card = platform.register(app, {"id_type": "01", "id_number": resident_id(9), "name": "丁", "gender": "男",
                                   "birthday": dt.date(1990, 3, 7), "phone": "13912345678", "nation": "",
                                   "address": ""}, now)
    code = platform.issue_dynamic(card, "10001", now)
    assert platform.resolve(code.text, "10001", now + dt.timedelta(seconds=4))[1] == card
    with pytest.raises(PlatformError) as caught:
        platform.resolve(code.text, "10001", now + dt.timedelta(seconds=5))
    assert caught.value.code == QR_EXPIRED
    # kept for late usage reports, then forgotten a day after expiry
    assert platform.resolve(code.text, "10001", now + dt.timedelta(hours=23), allow_expired=True)[0] == code
    platform.issue_dynamic(card, "10001", now + dt.timedelta(days=2))
    assert platform.stats()["codes"] == 2  # the static code and the new one
