"""What the chaos run will do, drawn from one seeded random generator: the payments and the fault windows.

A scenario is one payment a patient (or a kiosk) sets out to make, with what happens to it:
which order (a booking or outpatient bills), how it is paid (WeChat Pay v3 or Alipay in the
mini-program, WeChat face-pay or Alipay smile-to-pay at a kiosk), what the gateway's
notifications do (duplicated, forged, lost) and how the story ends (normal; the HIS hold
lapses before the money lands; the patient cancels after confirmation, right after paying, or
before paying). Fault windows switch the simulators' `/_control/faults` knobs every few seconds.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.wechatpay.messages import FORGERIES

# (kind, weight): how payments are made
KINDS = (("wx_booking", 34), ("ali_booking", 12), ("wx_bills", 10), ("ali_bills", 10),
         ("face_wx", 17), ("face_ali", 17))
# (fate, weight) of a booking paid in the app; a bill has no fate but "normal"
APP_FATES = (("normal", 62), ("cancel_after", 14), ("lapse", 8), ("cancel_before", 8), ("cancel_racing", 8))
FACE_OUTCOMES = (("ok", 62), ("paying", 23), ("declined", 15))
FACE_CODES = {"wechat": {"ok": "FACE_OK_", "paying": "FACE_PAYING_2_", "declined": "FACE_NOTENOUGH_"},
              "alipay": {"ok": "fp_ok_", "paying": "fp_paying_2_", "declined": "fp_insufficient_"}}
SYSTEMS = ("wechatpay", "alipay", "his")


@dataclass(frozen=True)
class Scenario:
    """One payment to attempt and what happens to it."""

    index: int
    kind: str
    channel: str  # wechat / alipay
    method: str  # app / face
    order_type: str  # appointment / bills
    fate: str = "normal"  # normal / cancel_after / lapse / cancel_before / cancel_racing
    dupes: int = 0  # extra copies of the payment notification asked of the gateway
    forge: str | None = None  # a forged notification sent as well (WeChat Pay)
    lost: bool = False  # every notification of the trade held back: only a query can learn it was paid
    poll: bool = False  # the mini-program polls the payment after paying (which queries the gateway)
    face_code: str = ""  # kiosk: the face code (its prefix decides what the payer does)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


def scenario(rng: random.Random, index: int) -> Scenario:
    """Draw one scenario."""
    kind = _pick(rng, KINDS)
    channel = "alipay" if "ali" in kind else "wechat"
    if kind.startswith("face"):
        outcome = _pick(rng, FACE_OUTCOMES)
        order_type = rng.choice(("appointment", "bills"))
        fate = "cancel_after" if order_type == "appointment" and outcome != "declined" and rng.random() < 0.15 \
            else "normal"
        return Scenario(index, kind, channel, "face", order_type, fate,
                        face_code=f"{FACE_CODES[channel][outcome]}{index:04d}")
    order_type = "bills" if kind.endswith("bills") else "appointment"
    fate = _pick(rng, APP_FATES) if order_type == "appointment" else "normal"
    paid = fate != "cancel_before"
    lost = paid and channel == "wechat" and rng.random() < 0.12
    return Scenario(index, kind, channel, "app", order_type, fate,
                    dupes=rng.choice((2, 3, 5)) if paid and not lost and rng.random() < 0.18 else 0,
                    forge=rng.choice(FORGERIES) if paid and channel == "wechat" and rng.random() < 0.12 else None,
                    lost=lost, poll=paid and not lost and rng.random() < 0.5)


def plan(count: int, seed: int) -> list[Scenario]:
    """The run's scenarios, the same for the same seed."""
    rng = random.Random(seed)
    return [scenario(rng, i) for i in range(count)]


def fault_setting(rng: random.Random, timeout_ms: int) -> tuple[str, dict]:
    """One window's setting for one simulator: (label, /_control/faults body).

    Mostly healthy; otherwise failing calls, slow calls, or (rarely) calls slower than the
    BFF's timeout, whose answers are lost after the simulator has done the work.
    """
    draw = rng.random()
    if draw < 0.45:
        return "off", {"error_rate": 0.0, "latency_ms": 0}
    if draw < 0.72:
        return "errors", {"error_rate": rng.choice((0.1, 0.2, 0.3)), "latency_ms": 0}
    if draw < 0.94:
        return "slow", {"error_rate": 0.0, "latency_ms": rng.choice((150, 400, 900))}
    return "timeouts", {"error_rate": 0.0, "latency_ms": timeout_ms + 500}


def fault_window(rng: random.Random, timeout_ms: int) -> tuple[float, dict[str, tuple[str, dict]]]:
    """The next window: (seconds it lasts, setting per simulator)."""
    return rng.uniform(2.0, 4.0), {system: fault_setting(rng, timeout_ms) for system in SYSTEMS}
