"""What every payment gateway speaks: dataclasses in fen, one abstract gateway, our own errors.

The BFF only ever sees these types. A gateway package (``payments.wechatpay``,
``payments.alipay``) turns them into its SDK's calls and its answers back into them; no SDK
type or exception crosses this boundary.

Times are timezone-aware. Money is integer fen. ``out_trade_no`` / ``out_refund_no`` are ours
(unique per merchant, at most 32 characters of [A-Za-z0-9_-]); ``transaction_id`` /
``refund_id`` are the gateway's own numbers.
"""
from __future__ import annotations

import abc
import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class TradeState(enum.StrEnum):
    """Where a payment stands at the gateway."""

    PENDING = "pending"  # created, not paid yet (WeChat NOTPAY, Alipay WAIT_BUYER_PAY)
    PAYING = "paying"  # the payer is entering a password or confirming (USERPAYING)
    PAID = "paid"  # money captured (SUCCESS, TRADE_SUCCESS / TRADE_FINISHED)
    CLOSED = "closed"  # closed or reversed before payment (CLOSED, REVOKED, TRADE_CLOSED unpaid)
    REFUNDED = "refunded"  # paid, then (partly) refunded (REFUND; Alipay closes fully refunded trades)
    FAILED = "failed"  # the payment attempt failed (PAYERROR)


class RefundState(enum.StrEnum):
    """Where a refund stands at the gateway."""

    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # ABNORMAL / CHANGE: needs a person (card closed …)
    CLOSED = "closed"


class NotificationKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True)
class PaymentRequest:
    """What we ask a gateway to collect."""

    out_trade_no: str
    amount: int  # fen, > 0
    description: str  # shown to the payer, e.g. "挂号费-心血管内科"
    notify_url: str
    client_ip: str = "127.0.0.1"
    payer_id: str | None = None  # WeChat openid (JSAPI/mini-program) or Alipay buyer_id
    expires_at: dt.datetime | None = None  # the gateway closes the trade unpaid after this
    attach: str = ""  # returned untouched in the notification


@dataclass(frozen=True)
class Prepay:
    """A trade created at the gateway, waiting for the payer."""

    out_trade_no: str
    gateway_ref: str  # prepay_id (WeChat) or trade_no (Alipay)
    pay_params: Mapping[str, str]  # exactly what wx.requestPayment / my.tradePay need


@dataclass(frozen=True)
class TradeStatus:
    """A trade as the gateway reports it (query, face-pay result, notification)."""

    out_trade_no: str
    state: TradeState
    amount: int  # fen the trade was created for
    gateway_state: str  # the gateway's own word, for logs and support
    transaction_id: str | None = None
    paid_amount: int | None = None  # fen actually captured (payer_total / buyer_pay_amount)
    paid_at: dt.datetime | None = None
    payer_id: str | None = None
    merchant_id: str = ""
    app_id: str = ""


@dataclass(frozen=True)
class RefundRequest:
    out_trade_no: str
    out_refund_no: str
    amount: int  # fen to refund
    total_amount: int  # fen of the original trade
    reason: str = ""
    notify_url: str = ""


@dataclass(frozen=True)
class RefundStatus:
    out_refund_no: str
    out_trade_no: str
    state: RefundState
    amount: int  # fen of this refund; at most that when trade_refunded is given
    gateway_state: str
    refund_id: str | None = None
    succeeded_at: dt.datetime | None = None
    # The trade's refunded total so far, when that is what the gateway said instead of this refund's
    # amount (Alipay's refund notification: refund_fee); amount is then that total too.
    trade_refunded: int | None = None


@dataclass(frozen=True)
class Notification:
    """A verified (and decrypted) notification: nothing in it is believed before verification."""

    kind: NotificationKind
    gateway: str  # the gateway's name, e.g. "wechatpay_v3"
    notification_id: str  # the gateway's id of this notification (or of its trade when it has none)
    merchant_id: str
    app_id: str
    trade: TradeStatus | None = None  # kind == PAYMENT
    refund: RefundStatus | None = None  # kind == REFUND
    raw: Mapping[str, object] = field(default_factory=dict)  # the decrypted resource, for the record


@dataclass(frozen=True)
class Ack:
    """What to answer the gateway's notification request."""

    status: int
    body: bytes
    content_type: str = "application/json"


class BillKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True)
class BillLine:
    """One line of a gateway's daily bill (对账单)."""

    gateway: str
    kind: BillKind
    at: dt.datetime
    out_trade_no: str
    transaction_id: str
    amount: int  # fen: paid for PAYMENT lines, refunded for REFUND lines
    out_refund_no: str = ""
    refund_id: str = ""
    state: str = ""
    fee: int = 0  # the gateway's service fee in fen, when the bill says


@dataclass(frozen=True)
class FacePayRequest:
    """A kiosk payment by face: the face code / ftoken from the device, and what it pays."""

    payment: PaymentRequest
    auth_code: str  # WeChat face_code (micropay auth_code) or Alipay ftoken (trade.pay security_code)
    device_id: str = ""


@dataclass(frozen=True)
class FaceAuthInfo:
    """What a WeChat face-pay device's SDK needs to start (getWxpayfaceCode)."""

    authinfo: str
    expires_in: int  # seconds


# -- errors: the only exceptions a gateway raises -------------------------------------------------


class PaymentError(Exception):
    """Base of our payment errors; ``code`` is stable, ``gateway_code`` is the gateway's own."""

    code = "PAYMENT_ERROR"

    def __init__(self, message: str = "", gateway_code: str | None = None):
        super().__init__(message or self.code)
        self.message = message
        self.gateway_code = gateway_code


class PaymentDeclined(PaymentError):
    """The gateway or bank refused the payment (card frozen, risk control, wrong code …)."""

    code = "PAYMENT_DECLINED"


class InsufficientFunds(PaymentDeclined):
    code = "INSUFFICIENT_FUNDS"


class AuthCodeInvalid(PaymentDeclined):
    """A face code / payment code that is expired, used or unknown."""

    code = "AUTH_CODE_INVALID"


class PaymentOutcomeUnknown(PaymentError):
    """No clear answer (timeout, 5xx, SYSTEMERROR): query the trade before deciding anything."""

    code = "PAYMENT_UNKNOWN"


class ReversalUnconfirmed(PaymentOutcomeUnknown):
    """A reverse (cancel) of a face-pay trade was sent and not confirmed.

    The trade will end reversed (refunded by the gateway if it had been paid): a query that says
    paid in the meantime must not be believed; send the reverse again until it is confirmed.
    """

    code = "REVERSAL_UNCONFIRMED"


class GatewayUnavailable(PaymentOutcomeUnknown):
    """The gateway could not be reached at all."""

    code = "GATEWAY_UNAVAILABLE"


class GatewayBusy(GatewayUnavailable):
    """The gateway asks us to slow down (WeChat Pay FREQUENCY_LIMITED): nothing was done, ask again later."""

    code = "GATEWAY_BUSY"


class GatewayRejected(PaymentError):
    """The gateway refused the request itself (bad parameters, signature, duplicate number …)."""

    code = "GATEWAY_REJECTED"


class TradeNotFound(GatewayRejected):
    code = "TRADE_NOT_FOUND"


class TradeAlreadyPaid(GatewayRejected):
    """Closing or reversing a trade the payer has already paid."""

    code = "TRADE_ALREADY_PAID"


class RefundRefusal(enum.StrEnum):
    """Why a gateway refused a refund for good; each needs a person (top up, pay back another way …)."""

    MERCHANT_BALANCE = "merchant_balance"  # the merchant account is short: top it up, then reissue
    TRADE_TOO_OLD = "trade_too_old"  # past the gateway's refund period (WeChat Pay: a year)
    ACCOUNT_ABNORMAL = "account_abnormal"  # the payer's account is closed or frozen
    TRADE_CLOSED = "trade_closed"  # the trade is closed, finished or frozen at the gateway
    AMOUNT = "amount"  # the amount is refused (more than is left, not the whole of it …)
    OTHER = "other"  # any other refusal (parameters, permission …)


class RefundRejected(GatewayRejected):
    """The gateway refused the refund outright: asking again as it is will not help, a person must act.

    Transient answers (network, SYSTEMERROR, frequency limits) are never this: they raise
    PaymentOutcomeUnknown / GatewayUnavailable and the same out_refund_no is asked again.
    """

    code = "REFUND_REJECTED"

    def __init__(self, message: str = "", gateway_code: str | None = None,
                 refusal: RefundRefusal = RefundRefusal.OTHER):
        super().__init__(message, gateway_code)
        self.refusal = RefundRefusal(refusal)


class NotificationInvalid(PaymentError):
    """A notification that fails verification (signature, decryption, merchant, app): believe nothing."""

    code = "NOTIFICATION_INVALID"


# -- the gateway ----------------------------------------------------------------------------------


class PaymentGateway(abc.ABC):
    """One payment channel. Every call has a timeout and raises only the errors above."""

    name = "abstract"
    merchant_id = ""
    app_id = ""

    @abc.abstractmethod
    def create(self, request: PaymentRequest) -> Prepay:
        """Create the trade for an in-app payment; the Prepay carries the client's pay params."""

    @abc.abstractmethod
    def query(self, out_trade_no: str) -> TradeStatus:
        """The trade as the gateway sees it now; TradeNotFound when it does not know it."""

    @abc.abstractmethod
    def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade (a no-op when already closed); TradeAlreadyPaid if it was paid."""

    @abc.abstractmethod
    def refund(self, request: RefundRequest) -> RefundStatus:
        """Ask for a refund; the same out_refund_no again answers the same refund."""

    @abc.abstractmethod
    def query_refund(self, out_refund_no: str, out_trade_no: str) -> RefundStatus:
        """The refund as the gateway sees it now."""

    @abc.abstractmethod
    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify (signature, merchant, app) and decode a notification; NotificationInvalid if anything is off."""

    @abc.abstractmethod
    def ack(self, accepted: bool) -> Ack:
        """The answer that tells the gateway we took the notification (or should be sent it again)."""

    @abc.abstractmethod
    def download_bill(self, date: dt.date) -> list[BillLine]:
        """The gateway's bill of payments and refunds for one day (Asia/Shanghai)."""


class FacePayGateway(abc.ABC):
    """Kiosk payment by face (WeChat 刷脸 micropay, Alipay smile-to-pay)."""

    @abc.abstractmethod
    def pay_by_face(self, request: FacePayRequest) -> TradeStatus:
        """Charge the face code; while the payer is still confirming, poll, and reverse when it never ends.

        Answers a PAID status, or raises PaymentDeclined (and subclasses) when it certainly did not
        go through, ReversalUnconfirmed when a reverse was sent but not confirmed, and
        PaymentOutcomeUnknown when nobody can tell yet (the charge may still land: ask again later).
        """

    @abc.abstractmethod
    def reverse(self, out_trade_no: str) -> None:
        """Cancel a face-pay trade whatever its state (refunds it if it was paid)."""
