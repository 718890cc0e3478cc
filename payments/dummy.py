"""An in-memory gateway for unit and API tests: a real PaymentGateway whose faults are chosen by hand.

Trades live in this object. The payer is played by :meth:`DummyGateway.pay`; notifications
are JSON signed with HMAC-SHA256 under the gateway's secret, so a test can forge, replay or
tamper with one and see verification refuse it. Face codes are magic (Saleor's dummy-gateway
idea): ``face-ok``, ``face-paying-<n>`` (confirming for n polls), ``face-paying-forever``,
``face-nomoney``, ``face-declined``, ``face-expired``, ``face-unknown`` (the answer is lost: nobody can
tell yet), ``face-reverse-lost`` (the payer never confirms and the reverse's answer is lost).
``refuse_refunds`` plays a gateway refusing refunds (``NOT_ENOUGH``, ``TRADE_OVERDUE``,
``USER_ACCOUNT_ABNORMAL`` for good; ``FREQUENCY_LIMITED`` for now); ``None`` again is the top-up.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from payments.interface import (
    Ack,
    AuthCodeInvalid,
    BillKind,
    BillLine,
    FaceAuthInfo,
    FacePayGateway,
    FacePayRequest,
    GatewayBusy,
    GatewayRejected,
    GatewayUnavailable,
    InsufficientFunds,
    Notification,
    NotificationInvalid,
    NotificationKind,
    PaymentDeclined,
    PaymentGateway,
    PaymentOutcomeUnknown,
    PaymentRequest,
    Prepay,
    RefundRefusal,
    RefundRejected,
    RefundRequest,
    RefundState,
    RefundStatus,
    ReversalUnconfirmed,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeState,
    TradeStatus,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# The refusals refuse_refunds can play, named as WeChat Pay names them.
REFUSALS = {"NOT_ENOUGH": RefundRefusal.MERCHANT_BALANCE, "TRADE_OVERDUE": RefundRefusal.TRADE_TOO_OLD,
            "USER_ACCOUNT_ABNORMAL": RefundRefusal.ACCOUNT_ABNORMAL}


@dataclass
class _Trade:
    request: PaymentRequest
    state: TradeState = TradeState.PENDING
    transaction_id: str = ""
    paid_at: dt.datetime | None = None
    polls_left: int = 0
    refunds: dict[str, RefundStatus] = field(default_factory=dict)


class DummyGateway(PaymentGateway, FacePayGateway):
    """Trades in a dict; the test plays payer and network."""

    def __init__(self, name: str = "dummy", merchant_id: str = "M-DUMMY", app_id: str = "APP-DUMMY",
                 secret: str = "dummy-secret", clock=None):  # noqa: S107 -- a test gateway
        self.name, self.merchant_id, self.app_id = name, merchant_id, app_id
        self._secret = secret.encode()
        self._clock = clock or (lambda: dt.datetime.now(SHANGHAI))
        self._lock = threading.RLock()
        self._trades: dict[str, _Trade] = {}
        self._seq = itertools.count(1 + sum(map(ord, name)) * 100_000)  # numbers unlike another dummy's
        self.down = False  # every call raises GatewayUnavailable
        self.fail_next: list[Exception] = []  # raised by the next calls, in order
        self.calls: list[str] = []
        # While set, every new refund is refused for good with this code (the merchant's balance is
        # short, the trade is too old …); clearing it is the top-up.
        self.refuse_refunds: str | None = None

    # -- the test's side --------------------------------------------------------------------

    def pay(self, out_trade_no: str) -> bytes:
        """The payer pays: the trade is paid; answers the notification the gateway would send."""
        with self._lock:
            trade = self._trade(out_trade_no)
            if trade.state not in (TradeState.PENDING, TradeState.PAYING):
                raise GatewayRejected(f"trade {out_trade_no} is {trade.state}")
            self._mark_paid(trade)
            return self.payment_notification(out_trade_no)

    def settle_late(self, out_trade_no: str) -> bytes:
        """The payer's payment went through just as the trade was closed (the race real gateways leave)."""
        with self._lock:
            trade = self._trade(out_trade_no)
            self._mark_paid(trade)
            return self.payment_notification(out_trade_no)

    def payment_notification(self, out_trade_no: str, **overrides) -> bytes:
        """The signed notification of a paid trade (overrides change fields before signing)."""
        trade = self._trade(out_trade_no)
        body = {"kind": "payment", "id": f"N-{trade.transaction_id}", "mchid": self.merchant_id,
                "appid": self.app_id, "out_trade_no": out_trade_no, "transaction_id": trade.transaction_id,
                "amount": trade.request.amount, "state": trade.state.value,
                "paid_at": trade.paid_at.isoformat() if trade.paid_at else None, **overrides}
        return self.sign(body)

    def refund_notification(self, out_refund_no: str, **overrides) -> bytes:
        """The signed notification of a refund."""
        refund = next(r for t in self._trades.values() for n, r in t.refunds.items() if n == out_refund_no)
        body = {"kind": "refund", "id": f"N-{refund.refund_id}", "mchid": self.merchant_id, "appid": self.app_id,
                "out_trade_no": refund.out_trade_no, "out_refund_no": out_refund_no, "refund_id": refund.refund_id,
                "amount": refund.amount, "state": refund.state.value, **overrides}
        return self.sign(body)

    def sign(self, body: dict) -> bytes:
        """A notification body with its signature, as the gateway sends it."""
        payload = json.dumps(body, sort_keys=True, ensure_ascii=False)
        signature = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()
        return json.dumps({"payload": payload, "signature": signature}).encode()

    def settle_refunds(self, state: RefundState = RefundState.SUCCEEDED) -> list[str]:
        """The bank finishes every processing refund; answers their out_refund_no."""
        done = []
        with self._lock:
            for trade in self._trades.values():
                for no, refund in trade.refunds.items():
                    if refund.state == RefundState.PROCESSING:
                        trade.refunds[no] = replace(refund, state=state, succeeded_at=self._clock())
                        done.append(no)
        return done

    def trade_state(self, out_trade_no: str) -> TradeState:
        """Where a trade stands, as the test sees it."""
        return self._trade(out_trade_no).state

    # -- PaymentGateway -----------------------------------------------------------------------

    def create(self, request: PaymentRequest) -> Prepay:
        """Record a pending trade."""
        self._enter("create")
        with self._lock:
            if request.out_trade_no in self._trades:
                raise GatewayRejected("duplicate out_trade_no", "OUT_TRADE_NO_USED")
            self._trades[request.out_trade_no] = _Trade(request)
        return Prepay(request.out_trade_no, f"prepay-{request.out_trade_no}",
                      {"package": f"prepay_id=prepay-{request.out_trade_no}", "signType": "DUMMY"})

    def query(self, out_trade_no: str) -> TradeStatus:
        """The trade now; one poll less for a payer still confirming."""
        self._enter("query")
        with self._lock:
            trade = self._trade(out_trade_no)
            if trade.state == TradeState.PAYING:
                trade.polls_left -= 1
                if trade.polls_left == 0:
                    self._mark_paid(trade)
            return self._status(out_trade_no, trade)

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade."""
        self._enter("close")
        with self._lock:
            trade = self._trade(out_trade_no)
            if trade.state in (TradeState.PAID, TradeState.REFUNDED):
                raise TradeAlreadyPaid("trade paid", "ORDERPAID")
            trade.state = TradeState.CLOSED

    def refund(self, request: RefundRequest) -> RefundStatus:
        """Accept a refund of a paid trade (processing until settle_refunds)."""
        self._enter("refund")
        with self._lock:
            trade = self._trade(request.out_trade_no)
            if request.out_refund_no in trade.refunds:
                return trade.refunds[request.out_refund_no]
            if self.refuse_refunds == "FREQUENCY_LIMITED":  # transient: the same refund later goes through
                raise GatewayBusy("frequency limited", "FREQUENCY_LIMITED")
            if self.refuse_refunds:
                code = self.refuse_refunds
                raise RefundRejected(f"refund refused: {code}", code, REFUSALS.get(code, RefundRefusal.OTHER))
            if trade.state not in (TradeState.PAID, TradeState.REFUNDED):
                raise RefundRejected("trade not paid", "TRADE_NOT_PAID", RefundRefusal.TRADE_CLOSED)
            refunded = sum(r.amount for r in trade.refunds.values()  # a closed refund gives its amount back
                           if r.state not in (RefundState.CLOSED, RefundState.FAILED))
            if refunded + request.amount > trade.request.amount:
                raise RefundRejected("refund exceeds the payment", "REFUND_AMOUNT_EXCEEDED", RefundRefusal.AMOUNT)
            status = RefundStatus(request.out_refund_no, request.out_trade_no, RefundState.PROCESSING,
                                  request.amount, "PROCESSING", f"R{next(self._seq):08d}")
            trade.refunds[request.out_refund_no] = status
            trade.state = TradeState.REFUNDED
            return status

    def query_refund(self, out_refund_no: str, out_trade_no: str) -> RefundStatus:
        """The refund now."""
        self._enter("query_refund")
        with self._lock:
            refund = self._trade(out_trade_no).refunds.get(out_refund_no)
            if refund is None:
                raise TradeNotFound("refund not found", "RESOURCE_NOT_EXISTS")
            return refund

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify the HMAC and the merchant, then decode."""
        try:
            outer = json.loads(body)
            payload, signature = outer["payload"], outer["signature"]
            expected = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, signature):
                raise NotificationInvalid("bad signature")
            data = json.loads(payload)
        except (ValueError, KeyError, TypeError) as error:
            raise NotificationInvalid(f"malformed notification: {error}") from error
        if data.get("mchid") != self.merchant_id or data.get("appid") != self.app_id:
            raise NotificationInvalid("notification for another merchant or app")
        return self._notification(data)

    def ack(self, accepted: bool) -> Ack:
        """204 when taken, 500 so the gateway sends it again."""
        return Ack(204, b"") if accepted else Ack(500, b'{"code":"FAIL"}')

    def download_bill(self, date: dt.date) -> list[BillLine]:
        """Paid trades and succeeded refunds of the day."""
        self._enter("download_bill")
        lines = []
        with self._lock:
            for no, trade in self._trades.items():
                if trade.paid_at and trade.paid_at.astimezone(SHANGHAI).date() == date:
                    lines.append(BillLine(self.name, BillKind.PAYMENT, trade.paid_at, no, trade.transaction_id,
                                          trade.request.amount, state="SUCCESS"))
                for refund in trade.refunds.values():
                    at = refund.succeeded_at
                    if refund.state == RefundState.SUCCEEDED and at and at.astimezone(SHANGHAI).date() == date:
                        lines.append(BillLine(self.name, BillKind.REFUND, at, no, trade.transaction_id,
                                              refund.amount, refund.out_refund_no, refund.refund_id or "", "SUCCESS"))
        return lines

    # -- FacePayGateway -----------------------------------------------------------------------

    def pay_by_face(self, request: FacePayRequest) -> TradeStatus:
        """Charge a magic face code; poll a payer still confirming, reverse one that never ends."""
        self._enter("pay_by_face")
        code, no = request.auth_code, request.payment.out_trade_no
        refusals = {"face-nomoney": InsufficientFunds("余额不足", "NOTENOUGH"),
                    "face-declined": PaymentDeclined("交易被拒绝", "TRADE_ERROR"),
                    "face-expired": AuthCodeInvalid("刷脸凭证已过期", "AUTH_CODE_INVALID")}
        with self._lock:
            self._trades[no] = trade = _Trade(request.payment)
            if code in refusals:
                trade.state = TradeState.FAILED
                raise refusals[code]
            if code == "face-unknown":
                raise PaymentOutcomeUnknown("刷脸支付结果未知", "SYSTEMERROR")
            if code == "face-reverse-lost":
                trade.state = TradeState.PAYING
                raise ReversalUnconfirmed("撤销结果未知", "REVERSE_TIMEOUT")
            if code.startswith("face-paying-"):
                trade.state = TradeState.PAYING
                trade.polls_left = -1 if code.endswith("forever") else int(code.rsplit("-", 1)[1])
            elif code == "face-ok":
                self._mark_paid(trade)
            else:
                raise AuthCodeInvalid("未知的刷脸凭证", "AUTH_CODE_INVALID")
        for _ in range(5):
            status = self.query(no)
            if status.state == TradeState.PAID:
                return status
        self.reverse(no)
        raise PaymentDeclined("用户未完成支付，交易已撤销", "USERPAYING")

    def get_facepay_authinfo(self, rawdata: str, store_id: str = "", store_name: str = "", device_id: str = ""):
        """WeChat face-pay's authinfo for a device's rawdata (as the v2 gateway answers it)."""
        self._enter("face_authinfo")
        if not rawdata:
            raise GatewayRejected("rawdata required", "PARAM_ERROR")
        digest = hmac.new(self._secret, f"{rawdata}|{device_id}".encode(), hashlib.sha256).hexdigest()
        return FaceAuthInfo(f"AUTH-{digest[:32]}", 3600)

    def reverse(self, out_trade_no: str) -> None:
        """Cancel the trade, refunding it if it was paid."""
        self._enter("reverse")
        with self._lock:
            self._trade(out_trade_no).state = TradeState.CLOSED

    # -- inside ---------------------------------------------------------------------------------

    def _enter(self, operation: str) -> None:
        self.calls.append(operation)
        if self.down:
            raise GatewayUnavailable("dummy gateway down")
        if self.fail_next:
            raise self.fail_next.pop(0)

    def _trade(self, out_trade_no: str) -> _Trade:
        trade = self._trades.get(out_trade_no)
        if trade is None:
            raise TradeNotFound(f"no trade {out_trade_no}", "ORDERNOTEXIST")
        return trade

    def _mark_paid(self, trade: _Trade) -> None:
        trade.state, trade.paid_at = TradeState.PAID, self._clock()
        trade.transaction_id = trade.transaction_id or f"T{next(self._seq):010d}"

    def _status(self, no: str, trade: _Trade) -> TradeStatus:
        return TradeStatus(no, trade.state, trade.request.amount, trade.state.name, trade.transaction_id or None,
                           trade.request.amount if trade.paid_at else None, trade.paid_at,
                           trade.request.payer_id, self.merchant_id, self.app_id)

    def _notification(self, data: dict) -> Notification:
        if data.get("kind") == "refund":
            total = data.get("trade_refunded")  # a gateway telling the trade's refunded total, as Alipay does
            refund = RefundStatus(data["out_refund_no"], data["out_trade_no"], RefundState(data["state"]),
                                  int(data["amount"]), data["state"], data.get("refund_id"),
                                  trade_refunded=None if total is None else int(total))
            return Notification(NotificationKind.REFUND, self.name, data["id"], data["mchid"], data["appid"],
                                refund=refund, raw=data)
        paid_at = dt.datetime.fromisoformat(data["paid_at"]) if data.get("paid_at") else None
        trade = TradeStatus(data["out_trade_no"], TradeState(data["state"]), int(data["amount"]), data["state"],
                            data.get("transaction_id"), int(data["amount"]), paid_at, None, data["mchid"],
                            data["appid"])
        return Notification(NotificationKind.PAYMENT, self.name, data["id"], data["mchid"], data["appid"],
                            trade=trade, raw=data)

