"""The simulator's own ledger: trades and refunds as Alipay keeps them, behind one lock.

Every operation takes the lock, applies Alipay's rules and answers plain dicts (copies), plus the
notification fields to send when money moved. A failed rule raises ``BizError`` with Alipay's
``sub_code``. Smile-to-pay ftokens are magic (see ``FACE_CODES``) so tests can choose the outcome.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.alipay.protocol import format_time, now, yuan


class BizError(Exception):
    """A business failure (code 40004, or 20000 for ``ACQ.SYSTEM_ERROR``) with Alipay's sub_code."""

    def __init__(self, sub_code: str, sub_msg: str, code: str = "40004"):
        super().__init__(sub_code)
        self.code, self.sub_code, self.sub_msg = code, sub_code, sub_msg


# What POST /_control/refund_refusal can make every new refund answer (alipay.trade.refund 业务错误码).
REFUND_REFUSALS = {
    "ACQ.SELLER_BALANCE_NOT_ENOUGH": "卖家余额不足",
    "ACQ.TRADE_HAS_CLOSE": "交易已经关闭",
    "ACQ.TRADE_NOT_ALLOW_REFUND": "当前交易不允许退款（已超过可退款时间）",
    "ACQ.SYSTEM_ERROR": "系统错误",
}


# ftoken prefix → (outcome, argument). Anything else pays at once. A used ftoken is invalid afterwards.
FACE_CODES = (
    (re.compile(r"^fp_paying_forever", re.I), "paying", None),
    (re.compile(r"^fp_paying_(\d+)", re.I), "paying", "polls"),
    (re.compile(r"^fp_insufficient", re.I), "fail", ("ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足")),
    (re.compile(r"^fp_declined", re.I), "fail", ("ACQ.PAYMENT_FAIL", "支付失败")),
    (re.compile(r"^fp_invalid", re.I), "fail", ("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付授权码无效")),
    (re.compile(r"^fp_unknown_paid", re.I), "unknown", True),
    (re.compile(r"^fp_unknown_unpaid", re.I), "unknown", False),
)
NOT_EXIST = ("ACQ.TRADE_NOT_EXIST", "交易不存在")


@dataclass
class Refund:
    out_request_no: str
    amount: int
    at: dt.datetime
    reason: str = ""


@dataclass
class Trade:
    out_trade_no: str
    trade_no: str
    app_id: str
    seller_id: str
    total: int
    subject: str
    buyer_id: str
    notify_url: str
    scene: str  # "mini_program" or "face"
    created_at: dt.datetime
    status: str = "WAIT_BUYER_PAY"
    paid_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    time_expire: dt.datetime | None = None
    passback_params: str = ""
    polls_left: int | None = None  # face trades still paying: queries before the payer confirms; None = never
    refunds: dict[str, Refund] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds.values())


def _trade_no(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d") + "2200" + "".join(secrets.choice("0123456789") for _ in range(16))


def _buyer_id() -> str:
    return "2088" + "".join(secrets.choice("0123456789") for _ in range(12))


def face_outcome(auth_code: str) -> tuple[str, object]:
    """What a smile-to-pay ftoken does: ("paid"|"paying"|"fail"|"unknown", argument)."""
    for pattern, outcome, argument in FACE_CODES:
        match = pattern.match(auth_code)
        if match:
            return outcome, int(match.group(1)) if argument == "polls" else argument
    return "paid", None


class Store:
    """Trades by out_trade_no (one app, one seller), thread-safe."""

    def __init__(self, clock: Callable[[], dt.datetime] = now):
        self.clock = clock
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every trade."""
        with self.lock:
            self.trades: dict[str, Trade] = {}
            self.used_codes: set[str] = set()
            self.refund_refusal: str | None = None  # a REFUND_REFUSALS sub_code: every new refund is refused so

    # -- reading ----------------------------------------------------------------------------------

    def _get(self, out_trade_no: str) -> Trade:
        trade = self.trades.get(out_trade_no)
        if trade is None:
            raise BizError(*NOT_EXIST)
        if trade.status == "WAIT_BUYER_PAY" and trade.time_expire and self.clock() >= trade.time_expire:
            trade.status, trade.closed_at = "TRADE_CLOSED", trade.time_expire
        return trade

    def trade(self, out_trade_no: str) -> Trade:
        """The trade (expiry applied); BizError ACQ.TRADE_NOT_EXIST."""
        with self.lock:
            return self._get(out_trade_no)

    def snapshot(self) -> list[Trade]:
        """Every trade, for bills and listings (read under the lock by the caller)."""
        with self.lock:
            return list(self.trades.values())

    # -- creating and paying ----------------------------------------------------------------------

    def create(self, **fields) -> Trade:
        """``alipay.trade.create``: a trade waiting for the buyer; the same request again answers it again."""
        with self.lock:
            existing = self.trades.get(fields["out_trade_no"])
            if existing is not None:
                return self._repeat_create(existing, fields["total"])
            moment = self.clock()
            trade = Trade(trade_no=_trade_no(moment), created_at=moment, scene="mini_program", **fields)
            self.trades[trade.out_trade_no] = trade
            return trade

    def _repeat_create(self, trade: Trade, total: int) -> Trade:
        self._get(trade.out_trade_no)
        if trade.status == "TRADE_SUCCESS":
            raise BizError("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
        if trade.status != "WAIT_BUYER_PAY":
            raise BizError("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        if trade.total != total:
            raise BizError("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
        return trade

    def pay_by_code(self, auth_code: str, **fields) -> tuple[Trade | None, str]:
        """``alipay.trade.pay`` with a face ftoken: the trade (None if none made) and "paid"|"paying"|"unknown"."""
        with self.lock:
            existing = self.trades.get(fields["out_trade_no"])
            if existing is not None:
                self._repeat_create(existing, fields["total"])
                return existing, "paying"
            if auth_code in self.used_codes:
                raise BizError("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付授权码无效")
            outcome, argument = face_outcome(auth_code)
            if outcome == "fail":
                raise BizError(*argument)
            self.used_codes.add(auth_code)
            if outcome == "unknown" and not argument:
                return None, "unknown"
            moment = self.clock()
            trade = Trade(trade_no=_trade_no(moment), created_at=moment, scene="face", buyer_id=_buyer_id(), **fields)
            self.trades[trade.out_trade_no] = trade
            if outcome == "paying":
                trade.polls_left = argument
                return trade, "paying"
            self._mark_paid(trade)
            return trade, "unknown" if outcome == "unknown" else "paid"

    def _mark_paid(self, trade: Trade) -> None:
        trade.status, trade.paid_at, trade.polls_left = "TRADE_SUCCESS", self.clock(), None

    def query(self, out_trade_no: str) -> tuple[Trade, bool]:
        """The trade; a face payer still confirming confirms after their polls. True when it just got paid."""
        with self.lock:
            trade = self._get(out_trade_no)
            if trade.status == "WAIT_BUYER_PAY" and trade.polls_left is not None:
                trade.polls_left -= 1
                if trade.polls_left <= 0:
                    self._mark_paid(trade)
                    return trade, True
            return trade, False

    def settle(self, out_trade_no: str, success: bool, buyer_id: str = "") -> Trade:
        """The payer pays (or gives up on) a waiting trade, as ``/_control/pay`` asks."""
        with self.lock:
            trade = self._get(out_trade_no)
            if trade.status != "WAIT_BUYER_PAY":
                raise BizError("ACQ.TRADE_STATUS_ERROR", f"交易状态为 {trade.status}")
            if buyer_id:
                trade.buyer_id = buyer_id
            if success:
                self._mark_paid(trade)
            else:
                trade.status, trade.closed_at, trade.polls_left = "TRADE_CLOSED", self.clock(), None
            return trade

    # -- closing, cancelling, refunding -----------------------------------------------------------

    def close(self, out_trade_no: str) -> Trade:
        """``alipay.trade.close``: only a trade waiting for the buyer."""
        with self.lock:
            trade = self._get(out_trade_no)
            if trade.status != "WAIT_BUYER_PAY":
                raise BizError("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            trade.status, trade.closed_at = "TRADE_CLOSED", self.clock()
            return trade

    def cancel(self, out_trade_no: str) -> tuple[Trade, str]:
        """``alipay.trade.cancel``: closes a waiting trade, refunds a paid one in full; the action taken."""
        with self.lock:
            trade = self._get(out_trade_no)
            if trade.status == "WAIT_BUYER_PAY":
                trade.status, trade.closed_at, trade.polls_left = "TRADE_CLOSED", self.clock(), None
                return trade, "close"
            if trade.status == "TRADE_SUCCESS":
                left = trade.total - trade.refunded
                if left:
                    trade.refunds[trade.out_trade_no] = Refund(trade.out_trade_no, left, self.clock(), "撤销")
                trade.status, trade.closed_at = "TRADE_CLOSED", self.clock()
                return trade, "refund"
            return trade, "refund" if trade.paid_at else "close"

    def refund(self, out_trade_no: str, out_request_no: str, amount: int, reason: str) -> tuple[Trade, Refund, bool]:
        """``alipay.trade.refund``: the trade, the refund, and whether money moved now (False for a repeat)."""
        with self.lock:
            trade = self._get(out_trade_no)
            done = trade.refunds.get(out_request_no)
            if done is not None:
                if done.amount != amount:
                    raise BizError("ACQ.DISCORDANT_REPEAT_REQUEST", "退款请求号重复但金额不一致")
                return trade, done, False
            if self.refund_refusal:
                code = self.refund_refusal
                raise BizError(code, REFUND_REFUSALS[code], "20000" if code == "ACQ.SYSTEM_ERROR" else "40004")
            if trade.status != "TRADE_SUCCESS":
                raise BizError("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if amount <= 0 or amount > trade.total - trade.refunded:
                raise BizError("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            refund = trade.refunds[out_request_no] = Refund(out_request_no, amount, self.clock(), reason)
            if trade.refunded == trade.total:
                trade.status, trade.closed_at = "TRADE_CLOSED", refund.at  # Alipay closes a fully refunded trade
            return trade, refund, True


def trade_fields(trade: Trade) -> dict:
    """The trade as query answers and notifications describe it."""
    fields = {
        "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no, "trade_status": trade.status,
        "total_amount": yuan(trade.total), "buyer_user_id": trade.buyer_id,
        "buyer_logon_id": "138****" + trade.buyer_id[-4:], "subject": trade.subject,
    }
    if trade.paid_at:
        fields.update(buyer_pay_amount=yuan(trade.total), receipt_amount=yuan(trade.total),
                      invoice_amount=yuan(trade.total), point_amount="0.00",
                      send_pay_date=format_time(trade.paid_at))
    return fields
