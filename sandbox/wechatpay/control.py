"""``/_control/`` API of the WeChat Pay simulator: act as the payer, steer notifications, look inside.

* ``POST /pay`` ``{"out_trade_no" | "pay_params", "result": "success|decline", "openid"?, "delay_ms"?,
  "hold"?}``: the payer pays (or fails); with ``pay_params`` (what wx.requestPayment got) their
  paySign is checked as the WeChat client checks it. The notification follows (JSAPI only),
  after ``delay_ms``; with ``hold`` every notification of the trade waits for ``/release``.
* ``POST /notify`` ``{"out_trade_no", "times"?, "kind"?, "out_refund_no"?, "delay_ms"?, "forge"?}``:
  send the trade's latest notification (of that kind / refund) again, ``times`` times at once.
  ``forge`` (signature|serial|timestamp|ciphertext|mchid|appid|amount) sends a wrong variant.
* ``POST /release`` ``{"out_trade_no", "order": "oldest_first|newest_first"}``: stop holding and
  deliver what was held; ``newest_first`` makes a refund's notification arrive before its payment's.
* ``POST /refunds/finish`` ``{"out_refund_no", "result": "success|abnormal|closed"}``: finish a refund
  (when the simulator was built with ``refund_delay=None``).
* ``POST /refund_refusal`` ``{"code": "NOT_ENOUGH|USER_ACCOUNT_ABNORMAL|TRADE_OVERDUE|FREQUENCY_LIMITED"|null}``:
  every new refund is refused so (``null``: the merchant account was topped up, refunds go through).
* ``GET /trades?date=``, ``GET /bill?date=``, ``GET /notifications?out_trade_no=``,
  ``POST /faults``, ``POST /reset``.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.wechatpay import crypto, messages
from sandbox.wechatpay.bill import bill_text
from sandbox.wechatpay.trades import REFUND_REFUSALS, TZ, BizError, Trade

bp = Blueprint("wechatpay_control", __name__, url_prefix="/_control")


def _box():
    return current_app.extensions["sandbox_wechatpay"]


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _bad(message: str, status: int = 400):
    return jsonify({"error": message}), status


@bp.errorhandler(BizError)
def _biz(exc: BizError):
    return _bad(exc.message, 404 if exc.status == 404 else 409)


def _pay_sign_ok(trade: Trade, params: dict) -> bool:
    """What the WeChat client checks before it lets the payer pay."""
    box = _box()
    if params.get("package") != f"prepay_id={trade.prepay_id}":
        return False
    if params.get("signType") == "RSA":
        text = f"{box.appid}\n{params.get('timeStamp')}\n{params.get('nonceStr')}\n{params.get('package')}\n"
        return crypto.rsa_verify(box.merchant_public, text, str(params.get("paySign", "")))
    fields = {"appId": box.appid, **{k: params.get(k) for k in ("timeStamp", "nonceStr", "package", "signType")},
              "sign": params.get("paySign", "")}
    return params.get("signType") in ("MD5", "HMAC-SHA256") and crypto.v2_sign_ok(fields, box.apiv2_key,
                                                                                     params["signType"])


def _delay(body: dict) -> float:
    return max(0, int(body.get("delay_ms") or 0)) / 1000


@bp.post("/pay")
def pay():
    """Complete or decline a pending payment as the payer would."""
    box, body = _box(), _body()
    params = body.get("pay_params")
    trade = box.trades.by_prepay_id(str(params.get("package", "")).removeprefix("prepay_id=")) \
        if isinstance(params, dict) else box.trades.get(str(body.get("out_trade_no", "")))
    if params is not None and not _pay_sign_ok(trade, params):
        return _bad("支付验证签名失败 (paySign)")
    if body.get("result", "success") not in ("success", "decline"):
        return _bad("result must be success or decline")
    if body.get("hold"):
        box.hold(trade.out_trade_no)
    trade = box.trades.pay(trade.out_trade_no, body.get("result", "success") == "success", body.get("openid", ""))
    box.paid(trade, _delay(body))
    return jsonify({"out_trade_no": trade.out_trade_no, "trade_state": trade.state,
                    "transaction_id": trade.transaction_id})


@bp.post("/notify")
def notify():
    """Send a trade's latest notification again, N times, optionally forged or delayed."""
    box, body = _box(), _body()
    forge = body.get("forge")
    if forge is not None and forge not in messages.FORGERIES:
        return _bad(f"forge must be one of {messages.FORGERIES}")
    notice = box.latest_notice(str(body.get("out_trade_no", "")), body.get("kind"), body.get("out_refund_no", ""))
    if notice is None:
        return _bad("no notification for that trade yet", 404)
    times = max(1, min(100, int(body.get("times") or 1)))
    deliveries = [box.notifier.send(messages.render(notice, box, forge), delay=_delay(body), forge=forge)
                  for _ in range(times)]
    return jsonify({"notification_id": notice.id, "deliveries": [d.id for d in deliveries]})


@bp.post("/release")
def release():
    """Stop holding a trade's notifications and deliver the held ones in the order asked."""
    box, body = _box(), _body()
    out_trade_no = str(body.get("out_trade_no", ""))
    box.hold(out_trade_no, held=False)
    released = box.notifier.release(out_trade_no, newest_first=body.get("order") == "newest_first",
                                    delay=_delay(body))
    return jsonify({"released": [d.view() for d in released]})


@bp.post("/refunds/finish")
def finish_refund():
    """Finish a PROCESSING refund."""
    body = _body()
    result = {"success": "SUCCESS", "abnormal": "ABNORMAL", "closed": "CLOSED"}.get(body.get("result", "success"))
    if result is None:
        return _bad("result must be success, abnormal or closed")
    refund = _box().finish_refund(str(body.get("out_refund_no", "")), result)
    if refund is None:
        return _bad("refund is not processing", 409)
    return jsonify({"out_refund_no": refund.out_refund_no, "state": refund.state})


@bp.post("/refund_refusal")
def refund_refusal():
    """Refuse every new refund with a code (the merchant's balance, a trade too old …), or stop refusing."""
    code = _body().get("code")
    if code is not None and code not in REFUND_REFUSALS:
        return _bad("code must be one of " + ", ".join(REFUND_REFUSALS) + " or null")
    box = _box()
    with box.trades.lock:
        box.trades.refund_refusal = code
    return jsonify({"code": code})


def _day():
    try:
        return dt.date.fromisoformat(request.args["date"]) if request.args.get("date") else dt.datetime.now(TZ).date()
    except ValueError:
        return None


def _trade_view(trade: Trade) -> dict:
    return {"out_trade_no": trade.out_trade_no, "api": trade.api, "trade_type": trade.trade_type,
            "amount": trade.amount, "state": trade.state, "transaction_id": trade.transaction_id,
            "created_at": messages.v3_time(trade.created_at), "paid_at": messages.v3_time(trade.paid_at),
            "refunds": [{"out_refund_no": r.out_refund_no, "refund_id": r.refund_id, "amount": r.amount,
                         "state": r.state, "source": r.source, "created_at": messages.v3_time(r.created_at),
                         "success_at": messages.v3_time(r.success_at)} for r in trade.refunds.values()]}


@bp.get("/trades")
def trades():
    """The gateway's own trades (created or paid that day) with their refunds."""
    day = _day()
    if day is None:
        return _bad("date must be YYYY-MM-DD")
    box = _box()
    with box.trades.lock:
        items = [_trade_view(t) for t in box.trades.trades.values()
                 if day in {m.astimezone(TZ).date() for m in (t.created_at, t.paid_at) if m}]
    return jsonify({"date": day.isoformat(), "items": items})


@bp.get("/bill")
def bill():
    """The day's trade bill exactly as the bill download gives it (404 when there is none)."""
    day = _day()
    text = bill_text(_box().trades, day) if day else None
    if text is None:
        return _bad("No Bill Exist", 404)
    return Response(text, content_type="text/csv; charset=utf-8")


@bp.get("/notifications")
def notifications():
    """Every delivery (of one trade): attempts, answers, status."""
    return jsonify({"items": _box().notifier.views(request.args.get("out_trade_no"))})


@bp.post("/faults")
def faults():
    """Set latency_ms, error_rate, down; ``{}`` answers the current settings."""
    return jsonify(_box().faults.update(_body()))


@bp.post("/reset")
def reset():
    """Back to an empty merchant account (trades, notifications, faults)."""
    _box().reset()
    return jsonify({"ok": True})
