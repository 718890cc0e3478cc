"""Resident ID numbers (GB 11643-1999) and mainland mobile numbers."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class InvalidIdNumber(ValueError):
    """The ID number is malformed; the message is Chinese and fit to show."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    birthday: dt.date
    gender: str  # "M" / "F"


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse_resident_id(value: str, today: dt.date | None = None) -> ResidentId:
    """Validate an 18-digit resident ID and derive birthday and gender from it."""
    number = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise InvalidIdNumber("身份证号应为18位，最后一位可以是X")
    try:
        birthday = dt.datetime.strptime(number[6:14], "%Y%m%d").date()
    except ValueError:
        raise InvalidIdNumber("身份证号中的出生日期无效") from None
    if birthday.year < 1900 or birthday > (today or dt.date.today()):
        raise InvalidIdNumber("身份证号中的出生日期无效")
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号校验位不正确，请核对")
    return ResidentId(number=number, birthday=birthday, gender="M" if int(number[16]) % 2 else "F")


def is_mobile(value: str) -> bool:
    """A mainland mobile number: 11 digits starting 13–19."""
    return bool(_MOBILE.fullmatch(value or ""))
