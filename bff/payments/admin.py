"""Money that needs a person: refunds the gateway refused for good, reissued or paid back offline by an admin.

Every decision is written to the staff audit log in the transaction that makes it.
"""
from __future__ import annotations

import logging

from bff import audit, clock, outbox
from bff.errors import AppError
from bff.extensions import db
from bff.payments import records, refunds
from bff.payments.models import Refund, new_trade_no
from payments.interface import PaymentError, RefundState, TradeNotFound

log = logging.getLogger("bff.payments")

REFUSAL_TEXT = {
    "merchant_balance": "商户账户余额不足，请充值后重新发起",
    "trade_too_old": "订单已超过退款期限，请线下退款",
    "account_abnormal": "用户账户异常（已注销或冻结），请线下退款",
    "trade_closed": "交易状态不允许退款",
    "amount": "退款金额被拒绝",
    "other": "渠道拒绝退款",
}


def list_refunds(status: str | None, limit: int = 200) -> list[Refund]:
    """Refunds, newest first, of one status if given."""
    query = db.select(Refund).order_by(Refund.id.desc()).limit(limit)
    if status:
        query = query.where(Refund.status == status)
    return list(db.session.execute(query).scalars())


def present(refund: Refund) -> dict:
    """A refund as an admin sees it: what it is for, how it stands, why it failed."""
    payment = refund.payment
    return {"id": refund.id, "payment_id": refund.payment_id, "order_type": payment.order_type,
            "order_id": payment.order_id, "channel": payment.channel, "out_trade_no": payment.out_trade_no,
            "out_refund_no": refund.out_refund_no, "amount": refund.amount, "status": refund.status,
            "reason": refund.reason, "attempts": refund.attempts, "refusal": refund.refusal,
            "failure_reason": REFUSAL_TEXT.get(refund.refusal or "", "") if refund.status == "refund_failed" else "",
            "last_error": refund.last_error, "settled_note": refund.settled_note, "settled_by": refund.settled_by,
            "settled_at": refund.settled_at, "created_at": refund.created_at, "succeeded_at": refund.succeeded_at}


def _failed(refund_id: int) -> Refund:
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        raise AppError("REFUND_NOT_FOUND")
    if refund.status != "refund_failed":
        raise AppError("REFUND_NOT_FAILED", details={"status": refund.status})
    return refund


def _not_paid_at_the_gateway(refund: Refund) -> None:
    """Before a person pays it again: ask the gateway whether the refund went through after all.

    A refund the gateway accepted (or an earlier ask whose answer was lost) may still pay out, e.g.
    an ABNORMAL one handled in the merchant platform; paying it again, or in cash, would pay twice.
    """
    if not refund.refund_id and refund.attempts <= 1:
        return  # refused outright at the only ask: nothing can be under way
    try:
        status = records.gateways().by_name(refund.payment.gateway).query_refund(
            refund.out_refund_no, refund.payment.out_trade_no)
    except TradeNotFound:
        return  # the gateway holds no such refund
    except PaymentError as error:
        raise AppError("PAYMENT_UNAVAILABLE", "支付平台暂时无法确认该退款的状态，请稍后再处理",
                       headers={"Retry-After": "30"}) from error
    if status.state == RefundState.SUCCEEDED:
        refunds.record_refund(refund, status)
        db.session.commit()
        raise AppError("REFUND_NOT_FAILED", "该退款已由支付平台退回，无需再处理", details={"status": refund.status})
    if status.state == RefundState.PROCESSING:
        raise AppError("REFUND_NOT_FAILED", "该退款仍在支付平台处理中，请稍后再看", details={"status": "processing"})


def reissue(refund_id: int, staff, ip: str) -> Refund:
    """Ask the gateway again (after the merchant account is topped up …); audited, commits.

    A refund the gateway never accepted is asked again under its own number (WeChat Pay asks for the
    same out_refund_no after a failed request); one it accepted and ended is asked under a new one.
    """
    refund = _failed(refund_id)
    _not_paid_at_the_gateway(refund)
    payment = records.locked(refund.payment_id)
    earlier = refund.out_refund_no
    number = new_trade_no("YR") if refund.refund_id else refund.out_refund_no
    try:
        records.move_refund(refund, "pending", out_refund_no=number, refund_id=None, refusal=None)
    except records.StatusChanged:
        raise AppError("REFUND_NOT_FAILED") from None
    if payment.status == "paid":
        records.move(payment, "refunding")
    outbox.enqueue("send_refund", f"refund:{refund.id}:reissue:{refund.attempts}", {"refund_id": refund.id})
    audit.record(staff, "refund_reissue", ip, detail=f"refund {refund.id} {earlier} -> {refund.out_refund_no} "
                                                             f"{refund.amount} fen")
    db.session.commit()
    outbox.kick()
    log.warning("refund reissued by staff %s", staff.id,
                extra={"payment_id": payment.id, "out_refund_no": refund.out_refund_no})
    return refund


def settle_offline(refund_id: int, staff, note: str, ip: str) -> Refund:
    """The money was paid back another way (cash at the window, bank transfer): the ledger learns it; audited."""
    refund = _failed(refund_id)
    _not_paid_at_the_gateway(refund)
    payment = records.locked(refund.payment_id)
    now = clock.now()
    try:
        records.move_refund(refund, "refunded_offline", settled_note=note[:255], settled_by=staff.id,
                            settled_at=now, succeeded_at=now)
    except records.StatusChanged:
        raise AppError("REFUND_NOT_FAILED") from None
    refunds.money_back(payment, refund, "offline")
    audit.record(staff, "refund_offline", ip, detail=f"refund {refund.id} {refund.out_refund_no} "
                                                             f"{refund.amount} fen: {note}")
    db.session.commit()
    log.warning("refund settled offline by staff %s", staff.id,
                extra={"payment_id": payment.id, "out_refund_no": refund.out_refund_no})
    return refund
