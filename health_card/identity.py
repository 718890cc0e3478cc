"""What an 18-digit resident ID number says about its holder (GB 11643): birth date and gender.

Used to fill the gender and birthday registration needs when the caller has only the ID
number. The platform stays the judge of validity: a number we cannot read is sent as it is.
"""
from __future__ import annotations

import datetime as dt

from health_card.codes import IdType
from health_card.models import CardHolder


def birthday_of(id_number: str) -> dt.date | None:
    """The birth date in an 18-digit resident ID, or None when it has none readable."""
    if len(id_number) != 18 or not id_number[:17].isdigit():
        return None
    try:
        return dt.datetime.strptime(id_number[6:14], "%Y%m%d").date()
    except ValueError:
        return None


def gender_of(id_number: str) -> str | None:
    """"男" or "女" from the 17th digit (odd for men), or None."""
    if len(id_number) != 18 or not id_number[16].isdigit():
        return None
    return "男" if int(id_number[16]) % 2 else "女"


def gender_and_birthday(holder: CardHolder) -> tuple[str, dt.date | None]:
    """The holder's gender and birthday, read from a resident ID where the caller gave none."""
    gender, birthday = holder.gender, holder.birthday
    if holder.id_type == IdType.RESIDENT_ID:
        gender = gender or gender_of(holder.id_number)
        birthday = birthday or birthday_of(holder.id_number)
    return gender or "", birthday
