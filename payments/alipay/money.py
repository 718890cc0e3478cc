"""Alipay's units: amounts in yuan as decimal strings, times as Asia/Shanghai wall-clock text.

Money is converted exactly (``Decimal``, never float): an amount with more than two decimals, a
sign, an exponent or anything that is not a plain number is refused, since a notification or an
answer carrying one is not something to round and believe.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from payments.interface import GatewayRejected

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Alipay writes some times (gmt_refund in a refund notification) with milliseconds: "…15:45:57.320".
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?")
_YUAN = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")


def fen_to_yuan(fen: int) -> str:
    """Integer fen as Alipay's yuan text: 2500 → "25.00"."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError(f"an amount in fen must be a non-negative int, not {fen!r}")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_of(fen: int) -> str:
    """Our fen as Alipay's yuan text; GatewayRejected for an amount Alipay cannot take (not a positive int)."""
    try:
        if fen <= 0:
            raise ValueError("not positive")
        return fen_to_yuan(fen)
    except (TypeError, ValueError) as exc:
        raise GatewayRejected("金额无效", "AMOUNT_INVALID") from exc


def yuan_to_fen(text: str) -> int:
    """Alipay's yuan text as integer fen, exactly: "25.00" → 2500; ValueError for anything inexact or odd."""
    if not isinstance(text, str) or not _YUAN.fullmatch(text.strip()):
        raise ValueError(f"not an Alipay amount in yuan: {text!r}")
    fen = Decimal(text.strip()) * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"not an exact amount in fen: {text!r}")
    return int(fen)


def shanghai_now() -> dt.datetime:
    """Now in Asia/Shanghai, whatever the server's local time zone is."""
    return dt.datetime.now(SHANGHAI)


def format_time(moment: dt.datetime) -> str:
    """An aware time as Alipay's Asia/Shanghai text."""
    if moment.tzinfo is None:
        raise ValueError("Alipay times must be timezone-aware")
    return moment.astimezone(SHANGHAI).strftime(TIME_FORMAT)


def parse_time(text: str | None) -> dt.datetime | None:
    """Alipay's "yyyy-MM-dd HH:mm:ss[.SSS]" (Asia/Shanghai) as an aware datetime; None when absent."""
    if not text:
        return None
    text = text.strip()
    if not _TIME.fullmatch(text):
        raise ValueError(f"not an Alipay time: {text!r}")
    fmt = TIME_FORMAT + ".%f" if "." in text else TIME_FORMAT
    return dt.datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI)
