"""The open-platform methods the simulator serves, each answering Alipay's fields for its biz_content.

A handler takes the sandbox and the request (its common parameters and parsed biz_content) and
answers the inner object of ``<method>_response``; a ``BizError`` becomes 40004 (or 20000).
Money moving (paid, refunded, cancelled with refund) queues the asynchronous notification.
"""
from __future__ import annotations

import datetime as dt
import secrets

from sandbox.alipay.protocol import fen, format_time, format_time_ms, parse_time, yuan
from sandbox.alipay.store import BizError, Trade, trade_fields

OK = {"code": "10000", "msg": "Success"}


def _amount(biz: dict, key: str) -> int:
    value = biz.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = f"{value:.2f}"
    try:
        return fen(value)
    except ValueError:
        raise BizError("ACQ.INVALID_PARAMETER", f"参数无效: {key}") from None


def _required(biz: dict, *keys: str) -> None:
    missing = [k for k in keys if not biz.get(k)]
    if missing:
        raise BizError("ACQ.INVALID_PARAMETER", "缺少参数: " + ",".join(missing))


def notify(box, trade: Trade, extra: dict | None = None, delay: float = 0.0) -> None:
    """Queue the trade_status_sync notification of trade (when it has a notify_url)."""
    if not trade.notify_url:
        return
    moment = box.clock()
    fields = {**trade_fields(trade), "notify_time": format_time(moment), "notify_type": "trade_status_sync",
              "notify_id": secrets.token_hex(16), "app_id": trade.app_id, "auth_app_id": trade.app_id,
              "charset": "utf-8", "version": "1.0", "seller_id": trade.seller_id, "buyer_id": trade.buyer_id,
              "gmt_create": format_time(trade.created_at)}
    fields.pop("buyer_user_id")
    fields.pop("send_pay_date", None)
    if trade.paid_at:
        fields["gmt_payment"] = format_time(trade.paid_at)
        fields["fund_bill_list"] = '[{"amount":"%s","fundChannel":"ALIPAYACCOUNT"}]' % yuan(trade.total)  # noqa: UP031
    if trade.closed_at:
        fields["gmt_close"] = format_time(trade.closed_at)
    if trade.passback_params:
        fields["passback_params"] = trade.passback_params
    fields.update(extra or {})
    box.notifier.send(trade.out_trade_no, trade.notify_url, box.signer.sign_notification(fields),
                      delay=box.take_delay(trade.out_trade_no) + delay)


def _trade_args(box, biz: dict, params: dict) -> dict:
    _required(biz, "out_trade_no", "total_amount", "subject")
    total = _amount(biz, "total_amount")
    if not 1 <= total <= 100_000_000_00:  # Alipay takes 0.01 to 100,000,000.00 yuan
        raise BizError("ACQ.INVALID_PARAMETER", "参数无效: total_amount")
    return {"out_trade_no": str(biz["out_trade_no"]), "total": total,
            "subject": str(biz["subject"]), "app_id": params["app_id"], "seller_id": box.seller_id,
            "notify_url": params.get("notify_url", ""), "passback_params": str(biz.get("passback_params") or "")}


def trade_create(box, biz: dict, params: dict) -> dict:
    """alipay.trade.create (mini-program, JSAPI_PAY): needs the buyer."""
    buyer = biz.get("buyer_id") or biz.get("buyer_open_id")
    if not buyer:
        raise BizError("ACQ.INVALID_PARAMETER", "buyer_id 和 buyer_open_id 不能同时为空")
    args = _trade_args(box, biz, params)
    if biz.get("time_expire"):
        try:
            args["time_expire"] = parse_time(str(biz["time_expire"]))
        except ValueError:
            raise BizError("ACQ.INVALID_PARAMETER", "参数无效: time_expire") from None
    trade = box.store.create(buyer_id=str(buyer), **args)
    return {**OK, "out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no}


def trade_pay(box, biz: dict, params: dict) -> dict:
    """alipay.trade.pay: smile-to-pay (scene security_code) with a magic ftoken."""
    _required(biz, "auth_code", "scene")
    if biz["scene"] not in ("security_code", "bar_code"):
        raise BizError("ACQ.INVALID_PARAMETER", "参数无效: scene")
    trade, outcome = box.store.pay_by_code(str(biz["auth_code"]), **_trade_args(box, biz, params))
    if outcome == "unknown":
        if trade is not None:
            notify(box, trade)
        raise BizError("ACQ.SYSTEM_ERROR", "系统错误", code="20000")
    fields = trade_fields(trade)
    if outcome == "paying":
        return {"code": "10003", "msg": "等待用户付款", **{k: fields[k] for k in
                ("trade_no", "out_trade_no", "buyer_logon_id", "total_amount", "buyer_user_id")}}
    notify(box, trade)
    return {**OK, **{k: v for k, v in fields.items() if k not in ("trade_status", "send_pay_date", "subject")},
            "gmt_payment": format_time(trade.paid_at)}


def trade_query(box, biz: dict, params: dict) -> dict:
    """alipay.trade.query."""
    _required(biz, "out_trade_no")
    trade, just_paid = box.store.query(str(biz["out_trade_no"]))
    if just_paid:
        notify(box, trade)
    return {**OK, **trade_fields(trade)}


def trade_close(box, biz: dict, params: dict) -> dict:
    """alipay.trade.close."""
    _required(biz, "out_trade_no")
    trade = box.store.close(str(biz["out_trade_no"]))
    return {**OK, "out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no}


def trade_cancel(box, biz: dict, params: dict) -> dict:
    """alipay.trade.cancel: close, or refund in full when paid."""
    _required(biz, "out_trade_no")
    was_paid = box.store.trade(str(biz["out_trade_no"])).status == "TRADE_SUCCESS"
    trade, action = box.store.cancel(str(biz["out_trade_no"]))
    answer = {**OK, "out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no, "retry_flag": "N",
              "action": action}
    if was_paid:
        answer["gmt_refund_pay"] = format_time(trade.closed_at)
        notify(box, trade, {"refund_fee": yuan(trade.refunded), "gmt_refund": format_time_ms(trade.closed_at),
                            "out_biz_no": trade.out_trade_no})
    return answer


def trade_refund(box, biz: dict, params: dict) -> dict:
    """alipay.trade.refund, idempotent on out_request_no (which defaults to out_trade_no)."""
    _required(biz, "out_trade_no", "refund_amount")
    out_request_no = str(biz.get("out_request_no") or biz["out_trade_no"])
    trade, refund, moved = box.store.refund(str(biz["out_trade_no"]), out_request_no,
                                            _amount(biz, "refund_amount"), str(biz.get("refund_reason") or ""))
    if moved:
        notify(box, trade, {"out_biz_no": out_request_no, "refund_fee": yuan(trade.refunded),
                            "gmt_refund": format_time_ms(refund.at), "send_back_fee": yuan(refund.amount)})
    return {**OK, "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "138****" + trade.buyer_id[-4:], "buyer_user_id": trade.buyer_id,
            "fund_change": "Y" if moved else "N", "refund_fee": yuan(trade.refunded),
            "send_back_fee": yuan(refund.amount), "gmt_refund_pay": format_time(refund.at)}


def refund_query(box, biz: dict, params: dict) -> dict:
    """alipay.trade.fastpay.refund.query: 10000 without refund fields when there is no such refund."""
    _required(biz, "out_trade_no", "out_request_no")
    trade = box.store.trade(str(biz["out_trade_no"]))
    refund = trade.refunds.get(str(biz["out_request_no"]))
    answer = {**OK, "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}
    if refund is not None:
        answer.update(out_request_no=refund.out_request_no, total_amount=yuan(trade.total),
                      refund_amount=yuan(refund.amount), refund_status="REFUND_SUCCESS",
                      refund_reason=refund.reason, gmt_refund_pay=format_time(refund.at))
    return answer


def bill_url(box, biz: dict, params: dict) -> dict:
    """alipay.data.dataservice.bill.downloadurl.query (bill_type trade): a URL valid 30 seconds."""
    _required(biz, "bill_type", "bill_date")
    if biz["bill_type"] != "trade":
        raise BizError("isp.bill_not_exist", "账单不存在")
    try:
        day = dt.date.fromisoformat(str(biz["bill_date"]))
    except ValueError:
        raise BizError("ACQ.INVALID_PARAMETER", "参数无效: bill_date") from None
    if day > box.clock().date():
        raise BizError("isp.bill_not_exist", "账单不存在")
    return {**OK, "bill_download_url": box.bill_link(day)}


METHODS = {
    "alipay.trade.create": trade_create,
    "alipay.trade.pay": trade_pay,
    "alipay.trade.query": trade_query,
    "alipay.trade.close": trade_close,
    "alipay.trade.cancel": trade_cancel,
    "alipay.trade.refund": trade_refund,
    "alipay.trade.fastpay.refund.query": refund_query,
    "alipay.data.dataservice.bill.downloadurl.query": bill_url,
}
