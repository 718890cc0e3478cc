"""Magic face codes (micropay ``auth_code``): the code a test sends decides what the payer does.

Saleor's dummy gateway idea: failure paths are reachable end to end by choosing a code.

| code                         | micropay answers            | then                                   |
|------------------------------|-----------------------------|----------------------------------------|
| ``FACE_OK…`` or 18 digits 10–15… | SUCCESS                 | paid                                   |
| ``FACE_PAYING_<n>…``         | USERPAYING                  | the n-th order query finds it paid     |
| ``FACE_PAYING_FOREVER…``     | USERPAYING                  | never, until reversed or /_control/pay |
| ``…_RECALL`` (suffix)        | as above                    | the first reverse answers recall=Y     |
| ``FACE_NOTENOUGH…``          | NOTENOUGH (余额不足)          | PAYERROR                               |
| ``FACE_DECLINED…``           | TRADE_ERROR (risk control)  | PAYERROR                               |
| ``FACE_EXPIRED…``            | AUTHCODEEXPIRE              | no order                               |
| ``FACE_SYSERR_PAID…``        | SYSTEMERROR                 | paid all the same (a lost answer)      |
| ``FACE_SYSERR_UNPAID…``      | SYSTEMERROR                 | no order                               |
| anything else                | AUTH_CODE_INVALID           | no order                               |

The ``…`` lets tests make each code unique.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PAYING = re.compile(r"^FACE_PAYING_(\d+)")
_PAYMENT_CODE = re.compile(r"^1[0-5]\d{16}$")


@dataclass(frozen=True)
class Outcome:
    """What a face code makes happen."""

    answer: str  # SUCCESS or the err_code micropay answers
    state: str | None  # the order's trade_state afterwards; None: no order is kept
    polls: int | None = 0  # USERPAYING: order queries before it is paid; None: never
    recall: bool = False


_FIXED = {
    "FACE_PAYING_FOREVER": Outcome("USERPAYING", "USERPAYING", polls=None),
    "FACE_NOTENOUGH": Outcome("NOTENOUGH", "PAYERROR"),
    "FACE_DECLINED": Outcome("TRADE_ERROR", "PAYERROR"),
    "FACE_EXPIRED": Outcome("AUTHCODEEXPIRE", None),
    "FACE_SYSERR_PAID": Outcome("SYSTEMERROR", "SUCCESS"),
    "FACE_SYSERR_UNPAID": Outcome("SYSTEMERROR", None),
    "FACE_OK": Outcome("SUCCESS", "SUCCESS"),
}


def outcome(code: str) -> Outcome:
    """The outcome a face code stands for."""
    recall = code.endswith("_RECALL")
    for prefix, result in _FIXED.items():
        if code.startswith(prefix):
            return Outcome(result.answer, result.state, result.polls, recall)
    paying = _PAYING.match(code)
    if paying:
        return Outcome("USERPAYING", "USERPAYING", polls=int(paying.group(1)), recall=recall)
    if _PAYMENT_CODE.match(code):
        return Outcome("SUCCESS", "SUCCESS")
    return Outcome("AUTH_CODE_INVALID", None)
