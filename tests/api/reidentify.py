"""An attacker's arithmetic: how many real ID numbers / phones fit everything the API showed about a person.

Everything is gathered from the answers generically (any `*`-masked value under a key naming an
ID number or a phone, any birthday, gender or age), so a new endpoint or field is judged too.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
DIGITS = frozenset("0123456789")


@dataclass
class Seen:
    """What the answers showed: masks as (shown prefix, shown suffix), birthdays, genders, ages."""

    id_masks: set = field(default_factory=set)
    phone_masks: set = field(default_factory=set)
    birthdays: set = field(default_factory=set)
    genders: set = field(default_factory=set)
    ages: set = field(default_factory=set)


def _split_mask(text: str) -> tuple[str, str]:
    return text[:text.index("*")], text[text.rindex("*") + 1:]


def gather(answer, seen: Seen | None = None, key: str = "") -> Seen:
    """Walk a JSON answer and note every field that says something about an ID number or phone."""
    seen = seen if seen is not None else Seen()
    if isinstance(answer, dict):
        for name, value in answer.items():
            gather(value, seen, name)
    elif isinstance(answer, list):
        for value in answer:
            gather(value, seen, key)
    elif isinstance(answer, str) and "*" in answer and "id_number" in key:
        seen.id_masks.add(_split_mask(answer))
    elif isinstance(answer, str) and "*" in answer and "phone" in key:
        seen.phone_masks.add(_split_mask(answer))
    elif key == "birthday" and answer:
        seen.birthdays.add(dt.date.fromisoformat(answer))
    elif key == "gender" and answer:
        seen.genders.add({"男": "M", "女": "F", "male": "M", "female": "F"}.get(answer, answer))
    elif key == "age" and answer is not None:
        seen.ages.add(answer)
    return seen


def _positions(masks, length: int) -> list[set[str]] | None:
    """The characters each position may hold given the masks; None when the masks contradict each other."""
    allowed = [set(DIGITS) for _ in range(length - 1)] + [set(CHECK)]
    for prefix, suffix in masks:
        shown = dict(enumerate(prefix)) | {length - len(suffix) + i: c for i, c in enumerate(suffix)}
        for index, char in shown.items():
            allowed[index] &= {char.upper()}
    return None if any(not chars for chars in allowed) else allowed


def _birthdays(seen: Seen, today: dt.date) -> list[dt.date]:
    if seen.birthdays:
        return sorted(seen.birthdays)
    days = [dt.date(1900, 1, 1) + dt.timedelta(days=n) for n in range((today - dt.date(1900, 1, 1)).days + 1)]
    ages = [lambda d, a=a: today.year - d.year - ((today.month, today.day) < (d.month, d.day)) == a
            for a in seen.ages]
    return [d for d in days if all(fits(d) for fits in ages)]


def count_ids(seen: Seen, today: dt.date) -> int:
    """Valid 18-character resident IDs (GB 11643) whose date, parity and shown characters fit all of it."""
    base = _positions(seen.id_masks, 18)
    if base is None:
        return 0
    total = 0
    for birthday in _birthdays(seen, today):
        allowed = [set(chars) for chars in base]
        for offset, char in enumerate(birthday.strftime("%Y%m%d")):
            allowed[6 + offset] &= {char}
        for gender in seen.genders:
            allowed[16] &= set("13579" if gender == "M" else "02468")
        total += _count_with_check_digit(allowed)
    return total


def _count_with_check_digit(allowed: list[set[str]]) -> int:
    sums = {0: 1}  # weighted sum mod 11 → how many ways to reach it
    for weight, chars in zip(WEIGHTS, allowed[:17], strict=True):
        following: dict[int, int] = {}
        for total, ways in sums.items():
            for char in chars:
                key = (total + int(char) * weight) % 11
                following[key] = following.get(key, 0) + ways
        sums = following
    return sum(ways for total, ways in sums.items() if CHECK[total] in allowed[17])


def count_phones(seen: Seen) -> int:
    """11-digit mobile numbers (1 then 3-9) that fit every masked phone shown."""
    allowed = [{"1"}, set("3456789")] + [set(DIGITS) for _ in range(9)]
    for prefix, suffix in seen.phone_masks:
        shown = dict(enumerate(prefix)) | {11 - len(suffix) + i: c for i, c in enumerate(suffix)}
        for index, char in shown.items():
            allowed[index] &= {char}
    count = 1
    for chars in allowed:
        count *= len(chars)
    return count
