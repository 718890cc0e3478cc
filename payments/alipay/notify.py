"""Alipay asynchronous notifications (``trade_status_sync``): verified before anything in them is believed.

The SDK has no helper for them. As Alipay specifies: drop ``sign`` and ``sign_type``, sort the rest
into ``k=v&…`` leaving out empty values (``keys.sign_content``), verify the RSA2 signature with
Alipay's public key;
then the notification must be for our app_id and our seller_id, and its amounts must be exact yuan.
A refund shows up as a notification carrying ``out_biz_no`` (our out_refund_no) and ``refund_fee``,
the trade's refunded total so far (``RefundStatus.trade_refunded``), not this refund's amount.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from payments.alipay.keys import sign_content, verify_rsa2
from payments.alipay.money import parse_time, yuan_to_fen
from payments.alipay.trades import trade_status
from payments.interface import (
    Notification,
    NotificationInvalid,
    NotificationKind,
    RefundState,
    RefundStatus,
)

log = logging.getLogger(__name__)
CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "gbk": "gbk", "gb2312": "gbk"}
MAX_BODY = 64 * 1024


def _form(body: bytes) -> tuple[dict[str, str], str]:
    """The form fields, decoded with the charset the notification names; duplicates are refused."""
    if len(body) > MAX_BODY:
        raise NotificationInvalid("通知过长", "BODY_TOO_LARGE")
    try:
        text = body.decode("ascii")
        charset_fields = [v for k, v in parse_qsl(text, keep_blank_values=True, encoding="latin-1") if k == "charset"]
        charset = CHARSETS.get((charset_fields or ["utf-8"])[0].lower())
        if charset is None:
            raise NotificationInvalid("通知字符集不支持", "CHARSET")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, encoding=charset, errors="strict")
    except (UnicodeError, ValueError) as exc:
        raise NotificationInvalid("通知格式错误", "FORM_MALFORMED") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise NotificationInvalid("通知字段重复", "FORM_DUPLICATE")
    return fields, charset


def verified_fields(body: bytes, public_key: RSAPublicKey) -> dict[str, str]:
    """The form fields of a notification whose RSA2 signature is Alipay's; NotificationInvalid otherwise."""
    fields, charset = _form(body)
    sign, sign_type = fields.pop("sign", ""), fields.pop("sign_type", "")
    if sign_type != "RSA2" or not sign:
        raise NotificationInvalid("通知签名类型错误", "SIGN_TYPE")
    if not verify_rsa2(public_key, sign_content(fields), sign, charset):
        raise NotificationInvalid("通知签名无效", "SIGN_INVALID")
    return fields


def _refund(fields: Mapping[str, str]) -> RefundStatus:
    # Alipay's refund_fee is the trade's refunded total so far, not this one refund's amount: said as
    # trade_refunded, so a second partial refund is not taken for one of the total.
    refunded = yuan_to_fen(fields["refund_fee"])
    return RefundStatus(out_refund_no=fields["out_biz_no"], out_trade_no=fields["out_trade_no"],
                        state=RefundState.SUCCEEDED, amount=refunded,
                        gateway_state=fields.get("trade_status", ""), refund_id=None,
                        succeeded_at=parse_time(fields.get("gmt_refund")), trade_refunded=refunded)


def parse(headers: Mapping[str, str], body: bytes, *, public_key: RSAPublicKey, app_id: str, seller_id: str,
          gateway: str = "alipay") -> Notification:
    """A verified Notification; NotificationInvalid for a bad signature, another app or seller, odd amounts."""
    fields = verified_fields(body, public_key)
    if fields.get("app_id") != app_id:
        log.warning("alipay notification for another app refused")
        raise NotificationInvalid("通知不属于本应用", "APP_ID_MISMATCH")
    if fields.get("seller_id") != seller_id:
        log.warning("alipay notification for another seller refused")
        raise NotificationInvalid("通知不属于本商户", "SELLER_ID_MISMATCH")
    if fields.get("notify_type") != "trade_status_sync" or not fields.get("notify_id"):
        raise NotificationInvalid("通知类型不支持", "NOTIFY_TYPE")
    try:
        trade = trade_status(fields, seller_id, app_id)
        refund = _refund(fields) if fields.get("out_biz_no") and fields.get("refund_fee") else None
    except (KeyError, ValueError) as exc:
        raise NotificationInvalid("通知内容不完整或金额格式错误", "FIELDS_MALFORMED") from exc
    raw = dict(fields)
    if "passback_params" in raw:
        raw["passback_params"] = unquote(raw["passback_params"])
    return Notification(kind=NotificationKind.REFUND if refund else NotificationKind.PAYMENT, gateway=gateway,
                        notification_id=fields["notify_id"], merchant_id=seller_id, app_id=app_id,
                        trade=trade, refund=refund, raw=raw)
