"""Alipay trade and refund answers (query, pay, notification fields) as our dataclasses."""
from __future__ import annotations

from collections.abc import Mapping

from payments.alipay.money import parse_time, yuan_to_fen
from payments.interface import RefundState, RefundStatus, TradeState, TradeStatus

PAID_STATES = {"TRADE_SUCCESS", "TRADE_FINISHED"}


def trade_state(trade_status: str, paid: bool) -> TradeState:
    """Our state for Alipay's trade_status; a closed trade that had been paid was fully refunded."""
    if trade_status in PAID_STATES:
        return TradeState.PAID
    if trade_status == "WAIT_BUYER_PAY":
        return TradeState.PENDING
    if trade_status == "TRADE_CLOSED":
        return TradeState.REFUNDED if paid else TradeState.CLOSED
    raise ValueError(f"unknown Alipay trade_status {trade_status!r}")


def _optional_fen(fields: Mapping, name: str) -> int | None:
    value = fields.get(name)
    return yuan_to_fen(str(value)) if value not in (None, "") else None


def trade_status(fields: Mapping, merchant_id: str, app_id: str, trade_status_text: str | None = None) -> TradeStatus:
    """A TradeStatus from query / pay answers or notification fields; ValueError when they are malformed."""
    status_text = trade_status_text or str(fields.get("trade_status") or "")
    paid_at = parse_time(fields.get("send_pay_date") or fields.get("gmt_payment"))
    state = trade_state(status_text, paid=paid_at is not None)
    paid_amount = None
    if state in (TradeState.PAID, TradeState.REFUNDED):
        paid_amount = _optional_fen(fields, "buyer_pay_amount")
        if paid_amount is None:
            paid_amount = _optional_fen(fields, "receipt_amount")
    payer = fields.get("buyer_user_id") or fields.get("buyer_id") or fields.get("buyer_open_id") or None
    return TradeStatus(
        out_trade_no=str(fields["out_trade_no"]), state=state, amount=yuan_to_fen(str(fields["total_amount"])),
        gateway_state=status_text, transaction_id=fields.get("trade_no") or None, paid_amount=paid_amount,
        paid_at=paid_at, payer_id=payer, merchant_id=merchant_id, app_id=app_id)


def refund_from_query(fields: Mapping, out_refund_no: str, out_trade_no: str) -> RefundStatus:
    """A RefundStatus from ``alipay.trade.fastpay.refund.query``: a status that is empty or REFUND_SUCCESS is done."""
    status_text = str(fields.get("refund_status") or "")
    state = RefundState.SUCCEEDED if status_text in ("", "REFUND_SUCCESS") else RefundState.PROCESSING
    succeeded_at = parse_time(fields.get("gmt_refund_pay")) if state is RefundState.SUCCEEDED else None
    return RefundStatus(
        out_refund_no=out_refund_no, out_trade_no=out_trade_no, state=state,
        amount=yuan_to_fen(str(fields["refund_amount"])), gateway_state=status_text or "REFUND_SUCCESS",
        refund_id=None, succeeded_at=succeeded_at)
