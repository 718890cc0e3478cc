"""The simulated merchant account: trades and refunds, and the rules WeChat Pay applies to them.

One store serves both API versions (a merchant's order numbers are one namespace whether v2 or
v3 created them). Everything runs under one lock: requests, control calls and the notifier's
refund completions come from different threads. A refusal is a :class:`BizError` carrying the
v2 ``err_code`` and the v3 (code, HTTP status), so each API answers it in its own words.
"""
from __future__ import annotations

import datetime as dt
import itertools
import secrets
import threading
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sandbox.wechatpay import facecodes

TZ = ZoneInfo("Asia/Shanghai")
PAID_STATES = ("SUCCESS", "REFUND")


class BizError(Exception):
    """A business refusal: v2 err_code, v3 code and HTTP status, and the Chinese message."""

    def __init__(self, v2: str, v3: str, status: int, message: str):
        super().__init__(message)
        self.v2, self.v3, self.status, self.message = v2, v3, status, message


# What POST /_control/refund_refusal can make every new refund answer, as v2 err_code / v3 code, HTTP
# status and message (申请退款 errors: https://pay.weixin.qq.com/doc/v3/merchant/4012552567).
REFUND_REFUSALS = {
    "NOT_ENOUGH": ("NOTENOUGH", "NOT_ENOUGH", 403, "基本账户余额不足，请充值后重新发起"),
    "USER_ACCOUNT_ABNORMAL": ("USER_ACCOUNT_ABNORMAL", "USER_ACCOUNT_ABNORMAL", 403, "退款请求失败，用户帐号已注销"),
    "TRADE_OVERDUE": ("TRADE_OVERDUE", "INVALID_REQUEST", 400, "订单已超过退款期限"),
    "FREQUENCY_LIMITED": ("FREQUENCY_LIMITED", "FREQUENCY_LIMITED", 429, "频率限制，请降低申请频率再重试"),
}


def not_found() -> BizError:
    return BizError("ORDERNOTEXIST", "ORDER_NOT_EXIST", 404, "订单不存在")


@dataclass
class Refund:
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    amount: int
    reason: str
    notify_url: str
    created_at: dt.datetime
    state: str = "PROCESSING"  # SUCCESS, ABNORMAL, CLOSED
    success_at: dt.datetime | None = None
    source: str = "refund"  # or "reverse"


@dataclass
class Trade:
    out_trade_no: str
    api: str  # "v3" or "v2"
    trade_type: str  # JSAPI or MICROPAY
    appid: str
    mchid: str
    description: str
    amount: int
    notify_url: str
    openid: str
    attach: str
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    sign_type: str = "MD5"  # v2: how notifications are signed
    prepay_id: str = ""
    state: str = "NOTPAY"
    state_desc: str = "订单未支付"
    transaction_id: str = ""
    paid_at: dt.datetime | None = None
    device_info: str = ""
    polls_left: int | None = 0
    recalls_left: int = 0
    refunds: dict[str, Refund] = field(default_factory=dict)

    def refundable(self) -> int:
        """Fen not yet refunded (closed or abnormal refunds give theirs back)."""
        return self.amount - sum(r.amount for r in self.refunds.values() if r.state in ("PROCESSING", "SUCCESS"))


class Trades:
    """The merchant's trades, thread-safe."""

    def __init__(self, clock=None):
        self.lock = threading.RLock()
        self.clock = clock or (lambda: dt.datetime.now(TZ))
        self._seq = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        """Forget every trade."""
        with self.lock:
            self.trades: dict[str, Trade] = {}
            self.refund_refusal: str | None = None  # a REFUND_REFUSALS key: every new refund is refused so

    def _number(self, prefix: str) -> str:
        return f"{prefix}{self.clock():%Y%m%d}{next(self._seq):010d}{secrets.randbelow(10**6):06d}"

    def get(self, out_trade_no: str) -> Trade:
        """A trade, closing it first if it expired unpaid."""
        with self.lock:
            trade = self.trades.get(out_trade_no)
            if trade is None:
                raise not_found()
            if trade.state == "NOTPAY" and trade.expires_at and self.clock() >= trade.expires_at:
                trade.state, trade.state_desc = "CLOSED", "订单已过期关闭"
            return trade

    def by_prepay_id(self, prepay_id: str) -> Trade:
        """The trade a prepay_id belongs to."""
        with self.lock:
            for trade in self.trades.values():
                if trade.prepay_id == prepay_id:
                    return self.get(trade.out_trade_no)
        raise not_found()

    def by_transaction_id(self, transaction_id: str) -> Trade:
        """The trade WeChat Pay numbered transaction_id."""
        with self.lock:
            for trade in self.trades.values():
                if transaction_id and trade.transaction_id == transaction_id:
                    return self.get(trade.out_trade_no)
        raise not_found()

    def create_jsapi(self, trade: Trade) -> Trade:
        """unifiedorder / jsapi prepay: the same order again answers the same prepay_id."""
        with self.lock:
            old = self.trades.get(trade.out_trade_no)
            if old is not None:
                return self._repeat(old, trade)
            trade.prepay_id = "wx" + self.clock().strftime("%d%H%M%S") + secrets.token_hex(12)
            self.trades[trade.out_trade_no] = trade
            return trade

    def _repeat(self, old: Trade, new: Trade) -> Trade:
        old = self.get(old.out_trade_no)
        if old.state in PAID_STATES:
            raise BizError("ORDERPAID", "ORDERPAID", 400, "该订单已支付")
        if old.state == "CLOSED":
            raise BizError("ORDERCLOSED", "ORDER_CLOSED", 400, "订单已关闭")
        same = (old.amount, old.description, old.openid, old.trade_type) == \
               (new.amount, new.description, new.openid, new.trade_type)
        if not same:
            raise BizError("OUT_TRADE_NO_USED", "OUT_TRADE_NO_USED", 403, "商户订单号重复")
        return old

    def pay(self, out_trade_no: str, success: bool, openid: str = "") -> Trade:
        """The payer confirms (or fails) a pending payment."""
        with self.lock:
            trade = self.get(out_trade_no)
            if trade.state not in ("NOTPAY", "USERPAYING"):
                raise BizError("TRADE_STATE_ERROR", "TRADE_STATE_ERROR", 409, f"订单状态为 {trade.state}")
            if success:
                self._mark_paid(trade, openid)
            elif trade.trade_type == "MICROPAY":
                trade.state, trade.state_desc = "PAYERROR", "支付失败"
            else:
                trade.state_desc = "用户取消支付"  # JSAPI: the order stays payable, WeChat sends nothing
            return trade

    def _mark_paid(self, trade: Trade, openid: str = "") -> None:
        trade.state, trade.state_desc = "SUCCESS", "支付成功"
        trade.transaction_id = self._number("42")
        trade.paid_at = self.clock()
        trade.openid = openid or trade.openid or "sandbox-payer-" + secrets.token_hex(4)

    def micropay(self, trade: Trade, auth_code: str) -> tuple[Trade | None, str]:
        """Charge a face code: the trade (or None) and the answer (SUCCESS or an err_code)."""
        with self.lock:
            old = self.trades.get(trade.out_trade_no)
            if old is not None:
                return old, {"SUCCESS": "ORDERPAID", "REFUND": "ORDERPAID", "REVOKED": "ORDERREVERSED",
                             "USERPAYING": "USERPAYING"}.get(old.state, "ORDERCLOSED")
            result = facecodes.outcome(auth_code)
            if result.state is None:
                return None, result.answer
            trade.trade_type, trade.polls_left, trade.recalls_left = "MICROPAY", result.polls, int(result.recall)
            self.trades[trade.out_trade_no] = trade
            if result.state == "SUCCESS":
                self._mark_paid(trade)
            else:
                trade.state = result.state
                trade.state_desc = "需要用户输入支付密码" if result.state == "USERPAYING" else "支付失败"
            return trade, result.answer

    def query(self, out_trade_no: str) -> Trade:
        """orderquery: a USERPAYING face payment gets one poll closer to paid."""
        with self.lock:
            trade = self.get(out_trade_no)
            if trade.state == "USERPAYING" and trade.polls_left is not None:
                trade.polls_left -= 1
                if trade.polls_left <= 0:
                    self._mark_paid(trade)
            return trade

    def close(self, out_trade_no: str) -> Trade:
        """closeorder: paid orders refuse; closing twice is a no-op (v2 still says ORDERCLOSED)."""
        with self.lock:
            trade = self.get(out_trade_no)
            if trade.state in PAID_STATES:
                raise BizError("ORDERPAID", "ORDERPAID", 400, "订单已支付")
            was_closed = trade.state == "CLOSED"
            trade.state, trade.state_desc = "CLOSED", "订单已关闭"
            if was_closed and trade.api == "v2":
                raise BizError("ORDERCLOSED", "ORDER_CLOSED", 400, "订单已关闭")
            return trade

    def reverse(self, out_trade_no: str) -> tuple[Trade, bool, Refund | None]:
        """Reverse a face payment: (trade, recall, refund made if it was paid)."""
        with self.lock:
            trade = self.get(out_trade_no)
            if trade.recalls_left > 0:
                trade.recalls_left -= 1
                return trade, True, None
            refund = None
            if trade.state in PAID_STATES and trade.refundable() > 0:
                refund = self._new_refund(trade, "R" + out_trade_no[-20:], trade.refundable(), "撤销", "", "reverse")
                refund.state, refund.success_at = "SUCCESS", self.clock()
            trade.state, trade.state_desc = "REVOKED", "已撤销"
            return trade, False, refund

    def _new_refund(self, trade: Trade, out_refund_no: str, amount: int, reason: str, notify_url: str,
                    source: str = "refund") -> Refund:
        refund = Refund(out_refund_no, self._number("50"), trade.out_trade_no, amount, reason, notify_url,
                        self.clock(), source=source)
        trade.refunds[out_refund_no] = refund
        return refund

    def refund(self, out_trade_no: str, out_refund_no: str, amount: int, total: int, reason: str,
               notify_url: str) -> tuple[Refund, bool]:
        """Apply for a refund: (refund, whether it is new); the same out_refund_no answers the same refund."""
        with self.lock:
            trade = self.get(out_trade_no)
            old = self.find_refund(out_refund_no, missing_ok=True)
            if old is not None:
                if (old.out_trade_no, old.amount) != (out_trade_no, amount):
                    raise BizError("PARAM_ERROR", "PARAM_ERROR", 400, "退款单号已用于另一笔退款")
                return old, False
            if self.refund_refusal:
                raise BizError(*REFUND_REFUSALS[self.refund_refusal])
            if trade.state not in PAID_STATES:
                raise BizError("TRADE_STATE_ERROR", "INVALID_REQUEST", 400, "订单未支付或已撤销")
            if total != trade.amount:
                raise BizError("INVALID_REQUEST", "PARAM_ERROR", 400, "订单金额与原订单不一致")
            if amount <= 0 or amount > trade.refundable():
                raise BizError("ERROR", "INVALID_REQUEST", 400, "申请退款金额超过订单可退金额")
            trade.state, trade.state_desc = "REFUND", "转入退款"
            return self._new_refund(trade, out_refund_no, amount, reason, notify_url or trade.notify_url), True

    def find_refund(self, out_refund_no: str, missing_ok: bool = False) -> Refund | None:
        """A refund by our number."""
        with self.lock:
            for trade in self.trades.values():
                if out_refund_no in trade.refunds:
                    return trade.refunds[out_refund_no]
        if missing_ok:
            return None
        raise BizError("REFUNDNOTEXIST", "RESOURCE_NOT_EXISTS", 404, "退款单不存在")

    def finish_refund(self, out_refund_no: str, result: str = "SUCCESS") -> Refund | None:
        """A PROCESSING refund becomes SUCCESS, ABNORMAL or CLOSED; None when it was already final."""
        with self.lock:
            refund = self.find_refund(out_refund_no)
            if refund.state != "PROCESSING":
                return None
            refund.state = result
            if result == "SUCCESS":
                refund.success_at = self.clock()
            return refund

    def of_day(self, day: dt.date) -> tuple[list[Trade], list[tuple[Trade, Refund]]]:
        """Trades paid and refunds succeeded on a day (Asia/Shanghai), oldest first, plus reversed unpaid."""
        with self.lock:
            paid = [t for t in self.trades.values() if _on(t.paid_at, day) or
                    (t.state == "REVOKED" and t.paid_at is None and _on(t.created_at, day))]
            refunds = [(t, r) for t in self.trades.values() for r in t.refunds.values() if _on(r.success_at, day)]
        paid.sort(key=lambda t: t.paid_at or t.created_at)
        refunds.sort(key=lambda pair: pair[1].success_at)
        return paid, refunds


def _on(moment: dt.datetime | None, day: dt.date) -> bool:
    return moment is not None and moment.astimezone(TZ).date() == day
