"""The merchant's daily trade bill (交易账单, type ALL), written as WeChat Pay writes it.

Header of Chinese column names; one line per payment (交易状态 SUCCESS, on the day it was paid),
per refund (REFUND, on the day it succeeded) and per reversed unpaid face payment (REVOKED);
every field prefixed with a backtick; amounts in yuan; then the summary header and line.
The same text serves v2 ``downloadbill`` and the v3 bill file.
"""
from __future__ import annotations

import datetime as dt

from sandbox.wechatpay.trades import Refund, Trade, Trades

COLUMNS = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
           "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
           "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
RATE = 0.006  # the common 0.6% service fee


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _fee(fen: int) -> float:
    return round(fen * RATE / 100, 5)


def _text(value: str) -> str:
    return value.replace("\n", " ").replace("\r", " ").replace("`", "'")


def _line(cells: list[str]) -> str:
    return ",".join("`" + cell for cell in cells)


def _payment(trade: Trade) -> list[str]:
    moment = trade.paid_at or trade.created_at
    state = "SUCCESS" if trade.paid_at else "REVOKED"
    settled = trade.amount if trade.paid_at else 0
    return [f"{moment:%Y-%m-%d %H:%M:%S}", trade.appid, trade.mchid, "0", trade.device_info, trade.transaction_id,
            trade.out_trade_no, trade.openid, trade.trade_type, state, "OTHERS", "CNY", _yuan(settled), "0.00", "0",
            "0", "0.00", "0.00", "", "", _text(trade.description), _text(trade.attach), f"{_fee(settled):.5f}",
            "0.60%", _yuan(trade.amount), "0.00", ""]


def _refund(trade: Trade, refund: Refund) -> list[str]:
    return [f"{refund.success_at:%Y-%m-%d %H:%M:%S}", trade.appid, trade.mchid, "0", trade.device_info,
            trade.transaction_id, trade.out_trade_no, trade.openid, trade.trade_type, "REFUND", "OTHERS", "CNY",
            "0.00", "0.00", refund.refund_id, refund.out_refund_no, _yuan(refund.amount), "0.00", "ORIGINAL",
            "SUCCESS", _text(trade.description), _text(trade.attach), f"{-_fee(refund.amount):.5f}", "0.60%", "0.00",
            _yuan(refund.amount), ""]


def bill_text(trades: Trades, day: dt.date) -> str | None:
    """The day's bill, or None when nothing happened that day (WeChat Pay then has no bill)."""
    paid, refunds = trades.of_day(day)
    if not paid and not refunds:
        return None
    rows = [_payment(t) for t in paid] + [_refund(t, r) for t, r in refunds]
    settled = sum(t.amount for t in paid if t.paid_at)
    refunded = sum(r.amount for _, r in refunds)
    fees = sum(_fee(t.amount) for t in paid if t.paid_at) - sum(_fee(r.amount) for _, r in refunds)
    summary = [str(len(rows)), _yuan(settled), _yuan(refunded), "0.00", f"{fees:.5f}",
               _yuan(sum(t.amount for t in paid)), _yuan(refunded)]
    return "\r\n".join([COLUMNS, *(_line(r) for r in rows), SUMMARY, _line(summary)]) + "\r\n"
