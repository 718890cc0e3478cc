"""``/_control/`` API of the Alipay simulator: act as the payer, steer notifications, read the ledger.

* ``POST /pay {"out_trade_no", "result": "success|decline", "buyer_id"?, "delay_ms"?}`` — the payer
  pays (or gives up on) a waiting trade; the notification follows (after delay_ms).
* ``POST /notify {"out_trade_no", "times", "delay_ms"?}`` — the trade's last notification again, times times.
* ``POST /delay {"out_trade_no", "delay_ms"}`` — the trade's next notification waits delay_ms.
* ``POST /hold {"on": true}`` keeps notifications back; ``POST /release {"order": "fifo|reverse"}``
  sends the held ones now in that order (out of order: ``reverse``).
* ``GET /notifications?out_trade_no=`` — deliveries and every attempt with the answer received.
* ``GET /trades?date=YYYY-MM-DD`` — the day's trades and refunds (Asia/Shanghai; default today).
* ``GET /bill?date=`` — the day's bill zip, as the download link serves it.
* ``POST /refund_refusal {"code": "ACQ.SELLER_BALANCE_NOT_ENOUGH|ACQ.TRADE_HAS_CLOSE|…"|null}`` — every new
  refund is refused with that sub_code (``null``: the seller's balance was topped up).
* ``POST /faults``, ``POST /reset`` — as every simulator.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.alipay.methods import notify
from sandbox.alipay.protocol import SHANGHAI
from sandbox.alipay.store import REFUND_REFUSALS, BizError, Trade

blueprint = Blueprint("alipay_control", __name__, url_prefix="/_control")


def _box():
    return current_app.extensions["sandbox_alipay"]


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _bad(message: str, status: int = 400):
    return jsonify({"error": message}), status


def _day(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else _box().clock().astimezone(SHANGHAI).date()


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def trade_view(trade: Trade) -> dict:
    """A trade as the control API shows it (money in fen)."""
    return {"out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no, "status": trade.status,
            "amount": trade.total, "refunded": trade.refunded, "scene": trade.scene, "buyer_id": trade.buyer_id,
            "subject": trade.subject, "created_at": _iso(trade.created_at), "paid_at": _iso(trade.paid_at),
            "closed_at": _iso(trade.closed_at)}


@blueprint.post("/pay")
def pay():
    """Complete or decline a waiting payment as the payer would."""
    body = _body()
    result = body.get("result", "success")
    if result not in ("success", "decline") or not body.get("out_trade_no"):
        return _bad("need out_trade_no and result success|decline")
    box = _box()
    try:
        trade = box.store.settle(str(body["out_trade_no"]), result == "success", str(body.get("buyer_id") or ""))
    except BizError as exc:
        return _bad(exc.sub_msg, 404 if exc.sub_code == "ACQ.TRADE_NOT_EXIST" else 409)
    notify(box, trade, delay=float(body.get("delay_ms", 0)) / 1000)
    return jsonify(trade_view(trade))


@blueprint.post("/notify")
def resend():
    """Send the trade's last notification again, times times."""
    body = _body()
    try:
        times = int(body.get("times", 1))
        delay = float(body.get("delay_ms", 0)) / 1000
    except (TypeError, ValueError):
        return _bad("times and delay_ms must be numbers")
    sent = _box().notifier.resend(str(body.get("out_trade_no", "")), max(0, min(times, 100)), delay)
    if not sent:
        return _bad("no notification sent for this trade yet", 404)
    return jsonify({"sent": len(sent)})


@blueprint.post("/delay")
def delay():
    """Delay the trade's next notification."""
    body = _body()
    if not body.get("out_trade_no"):
        return _bad("need out_trade_no")
    _box().delay_next(str(body["out_trade_no"]), float(body.get("delay_ms", 0)) / 1000)
    return jsonify({"ok": True})


@blueprint.post("/hold")
def hold():
    """Keep notifications back (on) or send new ones again at once (off)."""
    _box().notifier.hold(bool(_body().get("on", True)))
    return jsonify({"holding": _box().notifier.holding})


@blueprint.post("/release")
def release():
    """Send the held notifications now, fifo or reverse."""
    order = _body().get("order", "fifo")
    if order not in ("fifo", "reverse"):
        return _bad("order must be fifo or reverse")
    return jsonify({"released": _box().notifier.release(order)})


@blueprint.get("/notifications")
def notifications():
    """Deliveries with their attempts."""
    return jsonify({"items": _box().notifier.views(request.args.get("out_trade_no") or None)})


@blueprint.get("/trades")
def trades():
    """The day's trades (created that day) and refunds (made that day)."""
    try:
        day = _day(request.args.get("date"))
    except ValueError:
        return _bad("date must be YYYY-MM-DD")
    box = _box()
    with box.store.lock:
        listed = [t for t in box.store.snapshot() if t.created_at.astimezone(SHANGHAI).date() == day]
        refunds = [{"out_trade_no": t.out_trade_no, "trade_no": t.trade_no, "out_request_no": r.out_request_no,
                    "amount": r.amount, "at": _iso(r.at)}
                   for t in box.store.snapshot() for r in t.refunds.values()
                   if r.at.astimezone(SHANGHAI).date() == day]
        return jsonify({"date": day.isoformat(), "trades": [trade_view(t) for t in listed], "refunds": refunds})


@blueprint.get("/bill")
def bill():
    """The day's bill zip."""
    try:
        day = _day(request.args.get("date"))
    except ValueError:
        return _bad("date must be YYYY-MM-DD")
    return Response(_box().bill(day), content_type="application/zip")


@blueprint.post("/refund_refusal")
def refund_refusal():
    """Refuse every new refund with a sub_code (the seller's balance, a closed trade …), or stop refusing."""
    code = _body().get("code")
    if code is not None and code not in REFUND_REFUSALS:
        return _bad("code must be one of " + ", ".join(REFUND_REFUSALS) + " or null")
    store = _box().store
    with store.lock:
        store.refund_refusal = code
    return jsonify({"code": code})


@blueprint.post("/faults")
def faults():
    """Set latency_ms, error_rate, down; ``{}`` answers the current settings."""
    return jsonify(_box().faults.update(_body()))


@blueprint.post("/reset")
def reset():
    """Empty ledger, no queued notifications, faults off."""
    _box().reset()
    return jsonify({"ok": True})
