"""In-process fakes for unit and API tests (never used by `make run` or integration tests)."""
from __future__ import annotations

import datetime as dt

from bff.auth.wechat import WxCodeInvalid, WxSession, WxUnavailable
from bff.his.port import HOSPITAL_TZ
from bff.sms.port import SmsSender, SmsUnavailable


class FakeWxLogin:
    """code X → openid test-X; `invalid` is refused, `down` means WeChat is unreachable."""

    def code_to_session(self, js_code: str) -> WxSession:
        if js_code == "invalid":
            raise WxCodeInvalid("40029")
        if js_code == "down":
            raise WxUnavailable("down")
        return WxSession(openid=f"test-{js_code}", unionid=None)


class FakeSms(SmsSender):
    """Records every code sent as (phone, code, minutes) in `.sent`; `down = True` makes it unreachable."""

    def __init__(self):
        self.sent: list[tuple[str, str, int]] = []
        self.down = False

    def send_verification_code(self, phone: str, code: str, minutes: int) -> None:
        if self.down:
            raise SmsUnavailable("down")
        self.sent.append((phone, code, minutes))


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime | None = None):
        self.current = start or dt.datetime.now(HOSPITAL_TZ).replace(hour=9, minute=0, second=0, microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = when

    def advance(self, **delta) -> None:
        self.current += dt.timedelta(**delta)


def resident_id(seq: int, birthday: str = "19900307") -> str:
    """A valid 18-digit resident ID (GB 11643 check digit) for test patient number seq."""
    body = "110101" + birthday + f"{seq % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]



def fill_slot(his, schedule_id: str, slot_id: str) -> int:
    """Lock every place left in a slot for other patients, as the hospital window would; how many."""
    from bff.his.port import HisRejected, PatientInfo

    for n in range(50):
        info = PatientInfo(f"窗口患者{n}", "01", resident_id(700 + n), "13800000000", "F", dt.date(1980, 1, 1))
        patient = his.find_or_create_patient(info).his_patient_id
        try:
            his.lock_slot(f"window-{schedule_id}-{slot_id}-{n}", patient, schedule_id, slot_id)
        except HisRejected:
            return n
    raise AssertionError("the slot never filled")
