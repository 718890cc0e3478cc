"""WeChat Pay answers and transport failures turned into our own errors (payments.interface).

v3 answers an HTTP status and ``{"code", "message"}``; v2 answers ``err_code`` inside a
``result_code=FAIL`` reply. The same word can mean different things by operation: NOTENOUGH on
a payment is the payer's balance, on a refund the merchant's; so refunds map on their own.
"""
from __future__ import annotations

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from payments.interface import (
    AuthCodeInvalid,
    GatewayBusy,
    GatewayRejected,
    GatewayUnavailable,
    InsufficientFunds,
    PaymentDeclined,
    PaymentError,
    PaymentOutcomeUnknown,
    RefundRefusal,
    RefundRejected,
    TradeAlreadyPaid,
    TradeNotFound,
)

NOT_SENT = "NOT_SENT"  # the request never left: nothing can have happened
# Words that leave the outcome open: query before deciding anything.
UNKNOWN_CODES = {"SYSTEMERROR", "SYSTEM_ERROR", "BANKERROR", "BANK_ERROR", "BIZERR_NEED_RETRY", "USERPAYING"}
NOT_FOUND_CODES = {"ORDERNOTEXIST", "ORDER_NOT_EXIST", "RESOURCE_NOT_EXISTS", "REFUNDNOTEXIST", "NOT_FOUND"}
# "Slow down": nothing was done; the same request later is safe (the refund API's 6 qps for failing
# calls, and "频率限制，1个月之前的订单请降低申请频率再重试": https://pay.weixin.qq.com/doc/v3/merchant/4012552567).
BUSY_CODES = {"FREQUENCY_LIMITED", "FREQUENCY_LIMIT", "INVALID_REQ_TOO_MUCH"}
# Refund refusals a person must act on (申请退款 error codes, v3 https://pay.weixin.qq.com/doc/v3/merchant/4012552567
# and v2 secapi/pay/refund): the merchant's balance (v3 NOT_ENOUGH, v2 NOTENOUGH "基本账户余额不足，请充值后重新发起"),
# the payer's account closed (USER_ACCOUNT_ABNORMAL "退款请求失败"), a trade past the one-year refund period
# (v2 TRADE_OVERDUE; v3 says INVALID_REQUEST "订单已超过退款期限", classified by its message).
REFUND_REFUSALS = {
    "NOT_ENOUGH": RefundRefusal.MERCHANT_BALANCE, "NOTENOUGH": RefundRefusal.MERCHANT_BALANCE,
    "USER_ACCOUNT_ABNORMAL": RefundRefusal.ACCOUNT_ABNORMAL, "TRADE_OVERDUE": RefundRefusal.TRADE_TOO_OLD,
    "ORDERCLOSED": RefundRefusal.TRADE_CLOSED, "ORDER_CLOSED": RefundRefusal.TRADE_CLOSED,
    "TRADE_STATE_ERROR": RefundRefusal.TRADE_CLOSED,
}
_TOO_OLD_WORDS = ("超过退款期限", "超过一年", "退款期限")
PAYMENT_CODES: dict[str, type[PaymentError]] = {
    "NOTENOUGH": InsufficientFunds,
    "NOT_ENOUGH": InsufficientFunds,
    "AUTHCODEEXPIRE": AuthCodeInvalid,
    "AUTH_CODE_ERROR": AuthCodeInvalid,
    "AUTH_CODE_INVALID": AuthCodeInvalid,
    "TRADE_ERROR": PaymentDeclined,
    "BUYER_MISMATCH": PaymentDeclined,
    "NOTSUPORTCARD": PaymentDeclined,
    "ORDERREVERSED": PaymentDeclined,
    "ORDERCLOSED": PaymentDeclined,
    "ORDER_CLOSED": PaymentDeclined,
    "PAYERROR": PaymentDeclined,
    "ORDERPAID": TradeAlreadyPaid,
}


def for_code(code: str | None, message: str = "", *, refund: bool = False) -> PaymentError:
    """Our error for a gateway error code (v2 err_code or v3 code)."""
    code = code or "UNKNOWN"
    message = message or code
    if code in UNKNOWN_CODES:
        return PaymentOutcomeUnknown(message, gateway_code=code)
    if code in BUSY_CODES:
        return GatewayBusy(message, gateway_code=code)
    if code in NOT_FOUND_CODES:
        return TradeNotFound(message, gateway_code=code)
    if refund:
        return RefundRejected(message, gateway_code=code, refusal=refund_refusal(code, message))
    return PAYMENT_CODES.get(code, GatewayRejected)(message, gateway_code=code)


def refund_refusal(code: str, message: str) -> RefundRefusal:
    """Why WeChat Pay refused a refund, from its code (and, where the code is generic, its message)."""
    if code in REFUND_REFUSALS:
        return REFUND_REFUSALS[code]
    if any(word in message for word in _TOO_OLD_WORDS):
        return RefundRefusal.TRADE_TOO_OLD
    if "金额" in message:  # "申请退款金额超过订单可退金额" …
        return RefundRefusal.AMOUNT
    return RefundRefusal.OTHER


def for_http(status: int, code: str | None, message: str, *, refund: bool = False) -> PaymentError:
    """Our error for a v3 (or v2 HTTP-level) failure answer."""
    if status == 429 or code in BUSY_CODES:
        return GatewayBusy(message or f"HTTP {status}", gateway_code=code or f"HTTP_{status}")
    if status in (502, 503, 504):
        return GatewayUnavailable(message or f"HTTP {status}", gateway_code=code or f"HTTP_{status}")
    if status >= 500 and code not in NOT_FOUND_CODES:
        return PaymentOutcomeUnknown(message or f"HTTP {status}", gateway_code=code or f"HTTP_{status}")
    if status == 404 and not code:
        return TradeNotFound(message or "not found", gateway_code="NOT_FOUND")
    return for_code(code or f"HTTP_{status}", message, refund=refund)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the gateway (no connection, no TLS session)."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the real reason
    return isinstance(reason, NewConnectionError | NameResolutionError)


def for_transport(exc: requests.RequestException) -> PaymentError:
    """A request that got no answer: unavailable when it was never sent, unknown once it may have arrived."""
    if _never_sent(exc):
        return GatewayUnavailable(f"{type(exc).__name__}: not sent", gateway_code=NOT_SENT)
    if isinstance(exc, requests.Timeout):
        return PaymentOutcomeUnknown("timed out waiting for the answer", gateway_code="TIMEOUT")
    return PaymentOutcomeUnknown(f"{type(exc).__name__} after sending", gateway_code="CONNECTION_LOST")


def reply_unreadable(what: str) -> PaymentOutcomeUnknown:
    """An answer we cannot read or must not believe (bad signature, not JSON/XML, missing fields)."""
    return PaymentOutcomeUnknown(f"unusable gateway reply: {what}", gateway_code="REPLY_INVALID")
