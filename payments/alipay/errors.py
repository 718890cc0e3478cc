"""Alipay answer codes → our errors: ``code`` says what kind of failure, ``sub_code`` which one.

10000 is success, 10003 "waiting for the payer" (trade.pay only), 20000 "service unavailable"
(the outcome is unknown: query before deciding), 20001 / 40001 / 40002 / 40006 the request itself
is refused (token, missing or invalid parameter, permission), 40004 a business failure named by
its ``sub_code``.
"""
from __future__ import annotations

from collections.abc import Mapping

from payments.interface import (
    AuthCodeInvalid,
    GatewayRejected,
    InsufficientFunds,
    PaymentDeclined,
    PaymentError,
    PaymentOutcomeUnknown,
    RefundRefusal,
    RefundRejected,
    TradeAlreadyPaid,
    TradeNotFound,
)

SUCCESS = "10000"
WAITING_FOR_PAYER = "10003"
SERVICE_UNAVAILABLE = "20000"
BUSINESS_FAILED = "40004"

_DECLINES = (
    "ACQ.PAYMENT_FAIL", "ACQ.BUYER_ENABLE_STATUS_FORBID", "ACQ.PAYMENT_REQUEST_HAS_RISK",
    "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR", "ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR",
    "ACQ.ERROR_BUYER_CERTIFY_LEVEL_LIMIT", "ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE",
    "ACQ.USER_FACE_PAYMENT_SWITCH_OFF", "ACQ.BEYOND_PAY_RESTRICTION", "ACQ.BEYOND_PER_RECEIPT_RESTRICTION",
    "ACQ.BUYER_SELLER_EQUAL", "ACQ.TRADE_BUYER_NOT_MATCH", "ACQ.BUYER_UNSUPPORT_ADVANCE",
)
SUB_CODE_ERRORS: dict[str, type[PaymentError]] = {
    "ACQ.TRADE_NOT_EXIST": TradeNotFound,
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": InsufficientFunds,
    "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH": InsufficientFunds,
    "ACQ.PAYMENT_AUTH_CODE_INVALID": AuthCodeInvalid,
    "ACQ.TRADE_HAS_SUCCESS": TradeAlreadyPaid,
    "ACQ.SYSTEM_ERROR": PaymentOutcomeUnknown,
    "aop.ACQ.SYSTEM_ERROR": PaymentOutcomeUnknown,
    **{sub_code: PaymentDeclined for sub_code in _DECLINES},
}
# What a refund's failures mean (alipay.trade.refund 业务错误码): the refund itself is refused, whatever the
# sub_code says elsewhere, and why, for the person who must act. ACQ.SELLER_BALANCE_NOT_ENOUGH is the
# merchant's Alipay balance ("请保障账户余额足够再发起请求": top up, then ask again); a trade past the refund
# period agreed at signing (交易超过约定时间) is ACQ.TRADE_NOT_ALLOW_REFUND / ACQ.TRADE_OVERDUE; ACQ.SYSTEM_ERROR
# stays an unknown outcome (asked again under the same out_request_no).
REFUND_REFUSALS: dict[str, RefundRefusal] = {
    "ACQ.SELLER_BALANCE_NOT_ENOUGH": RefundRefusal.MERCHANT_BALANCE,
    "ACQ.TRADE_HAS_CLOSE": RefundRefusal.TRADE_CLOSED, "ACQ.TRADE_HAS_FINISHED": RefundRefusal.TRADE_CLOSED,
    "ACQ.TRADE_STATUS_ERROR": RefundRefusal.TRADE_CLOSED, "ACQ.REASON_TRADE_BEEN_FREEZEN": RefundRefusal.TRADE_CLOSED,
    "ACQ.TRADE_NOT_ALLOW_REFUND": RefundRefusal.TRADE_TOO_OLD, "ACQ.TRADE_OVERDUE": RefundRefusal.TRADE_TOO_OLD,
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": RefundRefusal.AMOUNT, "ACQ.REFUND_FEE_ERROR": RefundRefusal.AMOUNT,
    "ACQ.REASON_TRADE_REFUND_FEE_ERR": RefundRefusal.AMOUNT, "ACQ.REFUND_CHARGE_ERROR": RefundRefusal.AMOUNT,
    "ACQ.BUYER_ERROR": RefundRefusal.ACCOUNT_ABNORMAL, "ACQ.DISCORDANT_REPEAT_REQUEST": RefundRefusal.OTHER,
}
REFUND_ERRORS: dict[str, type[PaymentError]] = {sub_code: RefundRejected for sub_code in REFUND_REFUSALS}
_REFUSED_CODES = {"20001", "40001", "40002", "40006"}


def error_for(answer: Mapping, overrides: Mapping[str, type[PaymentError]] | None = None) -> PaymentError:
    """Our error for a non-success answer (``code``, ``msg``, ``sub_code``, ``sub_msg``)."""
    code = str(answer.get("code") or "")
    sub_code = str(answer.get("sub_code") or "")
    message = str(answer.get("sub_msg") or answer.get("msg") or f"支付宝返回 {code}")
    gateway_code = sub_code or code
    if code == SERVICE_UNAVAILABLE:
        return PaymentOutcomeUnknown(message, gateway_code)
    if code in _REFUSED_CODES:
        return GatewayRejected(message, gateway_code)
    if code == BUSINESS_FAILED:
        kind = (overrides or {}).get(sub_code) or SUB_CODE_ERRORS.get(sub_code, GatewayRejected)
        if kind is RefundRejected:
            return RefundRejected(message, gateway_code, REFUND_REFUSALS.get(sub_code, RefundRefusal.OTHER))
        return kind(message, gateway_code)
    # A code Alipay does not document: we cannot say it failed, nor that it worked.
    return PaymentOutcomeUnknown(message, gateway_code)
