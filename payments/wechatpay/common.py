"""What the WeChat Pay v2 and v3 gateways share: time zone, number checks, money and bill parsing.

The daily trade bill is the same CSV for v2 (``downloadbill``) and v3 (``tradebill`` file): a
header line of Chinese column names, one line per payment or refund with every field prefixed
by a backtick (so a comma inside a product name cannot split it), then a summary.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from payments.interface import BillKind, BillLine, GatewayRejected, Notification, NotificationInvalid, TradeState

SHANGHAI = ZoneInfo("Asia/Shanghai")
# trade_state, the same words in API v2 and v3 (refund states differ: each version keeps its own)
TRADE_STATES = {
    "SUCCESS": TradeState.PAID, "REFUND": TradeState.REFUNDED, "NOTPAY": TradeState.PENDING,
    "CLOSED": TradeState.CLOSED, "REVOKED": TradeState.CLOSED, "USERPAYING": TradeState.PAYING,
    "PAYERROR": TradeState.FAILED,
}
_OUR_NUMBER = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# Column names vary between bill generations (总金额 before 2017, 订单金额 after): first match wins.
_COLUMNS = {
    "at": ("交易时间",),
    "transaction_id": ("微信订单号",),
    "out_trade_no": ("商户订单号",),
    "state": ("交易状态",),
    "amount": ("订单金额", "应结订单金额", "总金额"),
    "refund_id": ("微信退款单号",),
    "out_refund_no": ("商户退款单号",),
    "refund_amount": ("退款金额", "申请退款金额"),
    "refund_state": ("退款状态",),
    "fee": ("手续费",),
}


def check_number(value: str, what: str = "out_trade_no") -> str:
    """Our trade / refund numbers go into URL paths: refuse anything but [A-Za-z0-9_-]{1,32}."""
    if not isinstance(value, str) or not _OUR_NUMBER.fullmatch(value):
        raise GatewayRejected(f"{what} must be 1-32 characters of [A-Za-z0-9_-]", gateway_code="PARAM_ERROR")
    return value


def yuan_to_fen(text: str) -> int:
    """'12.34' → 1234, rounding fractions of a fen (service fees have five decimals) half up."""
    try:
        return int((Decimal(text.strip()) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (InvalidOperation, AttributeError) as exc:
        raise ValueError(f"not an amount in yuan: {text!r}") from exc


def expect_amount(notification: Notification, amount: int) -> Notification:
    """Refuse a (verified) notification whose trade or refund amount is not the one we asked for."""
    seen = notification.trade.amount if notification.trade else notification.refund.amount
    if seen != amount:
        raise NotificationInvalid(f"amount {seen} fen, expected {amount}", gateway_code="AMOUNT_MISMATCH")
    return notification


def _column_index(header: list[str]) -> dict[str, int]:
    index = {}
    for key, names in _COLUMNS.items():
        for name in names:
            if name in header:
                index[key] = header.index(name)
                break
    missing = {"at", "out_trade_no", "transaction_id", "state", "amount"} - index.keys()
    if missing:
        raise ValueError(f"bill header lacks {sorted(missing)}")
    return index


def _bill_line(gateway: str, row: list[str], col: dict[str, int]) -> BillLine | None:
    def cell(key: str) -> str:
        return row[col[key]].strip() if key in col and col[key] < len(row) else ""

    at = dt.datetime.strptime(cell("at"), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    common = {"gateway": gateway, "at": at, "out_trade_no": cell("out_trade_no"),
              "transaction_id": cell("transaction_id"), "fee": yuan_to_fen(cell("fee") or "0")}
    state = cell("state")
    if state == "SUCCESS":
        return BillLine(kind=BillKind.PAYMENT, amount=yuan_to_fen(cell("amount")), state=state, **common)
    if state == "REFUND":
        return BillLine(kind=BillKind.REFUND, amount=yuan_to_fen(cell("refund_amount")),
                        out_refund_no=cell("out_refund_no"), refund_id=cell("refund_id"),
                        state=cell("refund_state") or state, **common)
    # REVOKED lines are reversed face-pay trades that never captured money (a paid one that was
    # reversed appears as SUCCESS plus REFUND), so they move nothing to reconcile.
    return None


def parse_trade_bill(gateway: str, text: str) -> list[BillLine]:
    """The payment and refund lines of a WeChat Pay trade bill (ALL), amounts in fen."""
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines:
        return []
    col = _column_index([name.strip().lstrip("\ufeff") for name in lines[0].split(",")])
    result = []
    for line in lines[1:]:
        if not line.startswith("`"):
            break  # the summary header (总交易单数,…) ends the detail lines
        line_ = _bill_line(gateway, line[1:].split(",`"), col)
        if line_ is not None:
            result.append(line_)
    return result


def shanghai(moment: dt.datetime) -> dt.datetime:
    """A timezone-aware moment in Asia/Shanghai (naive ones are refused: they hide bugs)."""
    if moment.tzinfo is None:
        raise GatewayRejected("naive datetime: give a timezone", gateway_code="PARAM_ERROR")
    return moment.astimezone(SHANGHAI)
