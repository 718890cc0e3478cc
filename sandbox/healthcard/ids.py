"""Resident ID numbers as the platform checks them (GB 11643-1999): check digit and birth date."""
from __future__ import annotations

import datetime as dt

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
EARLIEST_BIRTH = dt.date(1900, 1, 1)


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def birth_date(id_number: str) -> dt.date | None:
    """The birth date an 18-digit number carries, None when it is no date."""
    try:
        return dt.datetime.strptime(id_number[6:14], "%Y%m%d").date()
    except ValueError:
        return None


def problem(id_number: str, today: dt.date) -> str | None:
    """Why the number is not a valid resident ID, or None when it is."""
    if len(id_number) != 18 or not id_number[:17].isdigit() or id_number[0] == "0":
        return "证件号码应为18位"
    if id_number[17].upper() != check_digit(id_number[:17]):
        return "证件号码校验位错误"
    born = birth_date(id_number)
    if born is None or not EARLIEST_BIRTH <= born <= today:
        return "证件号码中的出生日期无效"
    return None


def gender(id_number: str) -> str:
    """"男" for an odd 17th digit, else "女"."""
    return "男" if int(id_number[16]) % 2 else "女"
