"""One chaos scenario played end to end: a patient orders, pays (or a kiosk charges a face), faults happen.

Everything goes through the BFF's public API as the mini-program or a kiosk sends it; the payer's
side (paying in WeChat or Alipay, the gateway's notifications) through the simulators' control
APIs; the HIS letting a hold go through the HIS's own interface. Each step ends in an outcome
string tallied by the run; the BFF's database is judged afterwards, not here.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.chaos_plan import Scenario
from bench.common import BenchError
from bench.pay_world import Patient
from bench.payclient import Api, Control

PAID = ("paid", "refunding", "refunded")
WAIT_CONFIRMED_S = 60.0
POLL_S = 1.0
MINI_PROGRAM_POLL_S = 15.0  # miniprogram/utils/pay-flow.js POLL_TIMEOUT_MS
KIOSK_POLL_S = 20.0


@dataclass
class Ctx:
    """What every scenario shares."""

    api: Api
    ctl: Control
    users: list[Patient]  # one per scenario, by index
    slots: dict[int, tuple[str, str]]  # scenario index -> (schedule id, slot id) it books
    kiosk: tuple[str, str]
    his: object  # an XmlWsHis adapter: the HIS's own interface
    request_id_of: object  # appointment id -> its HIS request id (from the BFF's database)
    outcomes: Counter = field(default_factory=Counter)
    injected: Counter = field(default_factory=Counter)
    tracked: dict = field(default_factory=dict)  # what happened to a payment -> its out_trade_nos
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, outcome: str, injected: str | None = None, n: int = 1) -> None:
        """Tally an outcome (or, with injected, a fault made happen n times)."""
        with self._lock:
            if injected:
                self.injected[injected] += n
            else:
                self.outcomes[outcome] += 1

    def track(self, label: str, out_trade_no: str) -> None:
        """Remember a payment something was done to, to see afterwards how it ended."""
        with self._lock:
            self.tracked.setdefault(label, []).append(out_trade_no)


def play(ctx: Ctx, s: Scenario) -> None:
    """Run one scenario; any bench failure is an outcome too (the run goes on)."""
    try:
        order = _book(ctx, s) if s.order_type == "appointment" else _bills_order(ctx, s)
        if order is None:
            return
        if s.fate == "lapse":
            _lapse(ctx, order["id"])
        paid = _pay_face(ctx, s, order) if s.method == "face" else _pay_app(ctx, s, order)
        if s.order_type == "appointment":
            _after(ctx, s, order, paid)
    except BenchError as error:
        ctx.note(f"bench error: {str(error)[:60]}")


# -- orders ------------------------------------------------------------------------------------


def _book(ctx: Ctx, s: Scenario) -> dict | None:
    user = ctx.users[s.index]
    schedule_id, slot_id = ctx.slots[s.index]
    answer = ctx.api.call("POST", "/api/v1/appointments", user.token, {
        "patient_id": user.patient_id, "schedule_id": schedule_id, "slot_id": slot_id}, key=f"book-{s.index}")
    if answer.status != 201:
        ctx.note(f"booking refused: {answer.status} {answer.code}")
        return None
    return {"id": answer.body["id"], "amount": answer.body["fee"]}


def _bills_order(ctx: Ctx, s: Scenario) -> dict | None:
    user = ctx.users[s.index]
    amount = 500 + (s.index * 7919) % 19500  # ¥5.00 – ¥200.00, varied
    bill = ctx.ctl("his", "_control/bills", {"his_patient_id": user.his_patient_id, "title": "处方（西药）",
                                             "amount": amount})["bill_id"]
    listed = ctx.api.call("GET", f"/api/v1/bills?patient_id={user.patient_id}", user.token)
    if listed.status != 200 or bill not in {b["id"] for b in listed.body["items"]}:
        ctx.note(f"bills list: {listed.status} {listed.code}")
        return None
    answer = ctx.api.call("POST", "/api/v1/bills/settlements", user.token,
                          {"patient_id": user.patient_id, "bill_ids": [bill]}, key=f"settle-{s.index}")
    if answer.status != 201:
        ctx.note(f"settlement refused: {answer.status} {answer.code}")
        return None
    return {"id": answer.body["id"], "amount": answer.body["amount"]}


def _lapse(ctx: Ctx, appointment_id: str) -> None:
    """The HIS lets the hold go on its own (its timer, a clerk): once paid, the BFF takes the place
    again if it is still free, else refunds."""
    request_id = ctx.request_id_of(appointment_id)
    for _ in range(20):
        try:
            ctx.his.unlock_slot(request_id)
            ctx.note("", "HIS hold lapsed before payment")
            return
        except Exception:  # the HIS is faulted too at times: the hold lapses a moment later
            time.sleep(0.3)
    ctx.note("lapse: HIS never answered the unlock")


# -- paying in the mini-program ----------------------------------------------------------------


def _create_payment(ctx: Ctx, s: Scenario, order: dict) -> dict | None:
    user = ctx.users[s.index]
    body = {"order_type": s.order_type, "order_id": order["id"], "channel": s.channel}
    if s.channel == "alipay":
        body["payer_id"] = user.payer_id
    for tap in range(3):  # 502 PAYMENT_REJECTED: the patient taps "pay" again
        answer = ctx.api.call("POST", "/api/v1/payments", user.token, body, key=f"pay-{s.index}-{tap}")
        if answer.status == 201:
            return answer.body
        if answer.code != "PAYMENT_REJECTED":
            break
        time.sleep(1.0)
    ctx.note(f"payment not created: {answer.status} {answer.code}")
    return None


def _pay_at_gateway(ctx: Ctx, s: Scenario, payment: dict) -> bool:
    """The payer pays in WeChat / Alipay; then the gateway's notifications are duplicated or forged."""
    if s.channel == "wechat":
        status, body = ctx.ctl.request("wechatpay", "_control/pay", {
            "pay_params": payment["pay_params"], "result": "success", "hold": s.lost})
    else:
        status, body = ctx.ctl.request("alipay", "_control/pay", {
            "out_trade_no": payment["out_trade_no"], "result": "success", "buyer_id": ctx.users[s.index].payer_id})
    if status != 200:
        ctx.note(f"payer could not pay: {status} {str(body)[:40]}")
        return False
    for label, applies in (("lost notification", s.lost), ("forged notification", bool(s.forge)),
                           ("HIS hold lapsed", s.fate == "lapse"), ("duplicated notification", bool(s.dupes))):
        if applies:
            ctx.track(label, payment["out_trade_no"])
    if s.lost:
        ctx.note("", "lost notifications (held for good)")
    if s.forge:
        ctx.ctl.request("wechatpay", "_control/notify", {"out_trade_no": payment["out_trade_no"], "forge": s.forge})
        ctx.note("", f"forged notification ({s.forge})")
    if s.dupes:
        _duplicate(ctx, s, payment["out_trade_no"])
    return True


def _duplicate(ctx: Ctx, s: Scenario, out_trade_no: str) -> None:
    system = "wechatpay" if s.channel == "wechat" else "alipay"
    for _ in range(20):  # Alipay resends only a notification it has sent once
        status, _ = ctx.ctl.request(system, "_control/notify", {"out_trade_no": out_trade_no, "times": s.dupes})
        if status == 200:
            ctx.note("", "duplicate notifications", s.dupes)
            return
        time.sleep(0.2)


def _pay_app(ctx: Ctx, s: Scenario, order: dict) -> bool:
    payment = _create_payment(ctx, s, order)
    if payment is None:
        return False
    if s.fate == "cancel_before":
        ctx.track("cancelled before paying", payment["out_trade_no"])
        return False
    if not _pay_at_gateway(ctx, s, payment):
        return False
    if s.poll:
        _poll(ctx, f"/api/v1/payments/{payment['id']}", ctx.users[s.index].token, MINI_PROGRAM_POLL_S,
              lambda p: p["status"] in PAID)
    ctx.note(f"paid in app ({s.channel})")
    return True


def _poll(ctx: Ctx, path: str, token: str | None, seconds: float, done, kiosk=None) -> dict | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = ctx.api.call("GET", path, token, kiosk=kiosk)
        if answer.status == 200 and done(answer.body):
            return answer.body
        time.sleep(POLL_S)  # a kiosk too: each poll carries a fresh nonce
    return None


# -- paying by face at a kiosk -----------------------------------------------------------------


def _pay_face(ctx: Ctx, s: Scenario, order: dict) -> bool:
    """A kiosk charges the face code; a lost answer is polled for, never charged twice."""
    code = s.face_code
    for scan in range(4):
        answer = ctx.api.call("POST", "/api/v1/kiosk/facepay", body={
            "channel": s.channel, "auth_code": code, "order_type": s.order_type, "order_id": order["id"]},
            kiosk=ctx.kiosk, retries=False)
        if answer.status == 201:
            ctx.note(f"face paid ({s.channel})")
            return True
        if answer.status == 402:
            ctx.note(f"face declined: {answer.code}")
            return False
        if answer.code == "PAYMENT_UNKNOWN":
            return _face_unknown(ctx, s, answer.body["error"]["details"]["payment_id"])
        if answer.code == "ORDER_ALREADY_PAID":
            ctx.note("face: order already paid (an earlier scan went through)")
            return True
        if answer.status not in (0, 503):
            ctx.note(f"face refused: {answer.status} {answer.code}")
            return False
        time.sleep(2.0)
        code = f"{s.face_code}R{scan}"  # the patient looks at the camera again: a new face code
    ctx.note("face: kiosk gave up")
    return False


def _face_unknown(ctx: Ctx, s: Scenario, payment_id: int) -> bool:
    seen = _poll(ctx, f"/api/v1/kiosk/payments/{payment_id}", None, KIOSK_POLL_S,
                 lambda p: p["status"] != "pending", kiosk=ctx.kiosk)
    if seen is None:
        ctx.note("face: outcome unknown, still pending at the kiosk")
        return False
    ctx.note(f"face: unknown, then {seen['status']}")
    return seen["status"] in PAID


# -- after paying ------------------------------------------------------------------------------


def _after(ctx: Ctx, s: Scenario, order: dict, paid: bool) -> None:
    """Cancellations: after confirmation, right after paying, before paying, or when payment failed."""
    user = ctx.users[s.index]
    path = f"/api/v1/appointments/{order['id']}"
    if paid and s.fate == "cancel_after":
        confirmed = _poll(ctx, path, user.token, WAIT_CONFIRMED_S, lambda a: a["status"] != "awaiting_payment"
                          and a["status"] != "paid")
        if confirmed is None or confirmed["status"] != "confirmed":
            ctx.note(f"cancel skipped: {confirmed['status'] if confirmed else 'not confirmed in time'}")
            return
    elif not (s.fate in ("cancel_racing", "cancel_before") or not paid):
        return
    answer = ctx.api.call("POST", f"{path}/cancel", user.token, {})
    label = {"cancel_after": "cancel after confirmation", "cancel_racing": "cancel right after paying",
             "cancel_before": "cancel before paying"}.get(s.fate, "cancel after a failed payment")
    if answer.status == 200:
        ctx.note("", label)
    else:
        ctx.note(f"{label}: {answer.status} {answer.code}")
