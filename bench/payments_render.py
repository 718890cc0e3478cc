"""The chaos run's rows and notes in table 3: what was attempted, injected, captured, and what reconciled."""
from __future__ import annotations

from collections import Counter

from bench.chaos import ChaosResult
from bench.chaos_plan import KINDS
from bench.common import verdict

KIND_NAMES = {"wx_booking": "WeChat app booking", "ali_booking": "Alipay app booking", "wx_bills": "WeChat app bills",
              "ali_bills": "Alipay app bills", "face_wx": "WeChat face", "face_ali": "Alipay smile"}
CONFIRM_OPERATIONS = ("his 2004", "his 4002")  # confirm a paid registration, settle bills


def yuan(fen: int) -> str:
    """¥1,234.56"""
    return f"¥{fen / 100:,.2f}"


def _compact(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"


def _faults(c: ChaosResult, system: str, only: tuple[str, ...] = ()) -> tuple[int, int, int]:
    """(calls, failed, slowed) injected by a simulator, optionally for some operations only."""
    ops = {op: n for op, n in c.injected_by_sims.get(system, {}).items() if not only or op in only}
    failed = sum(n.get("errors", 0) + n.get("down", 0) for n in ops.values())
    return sum(n.get("calls", 0) for n in ops.values()), failed, sum(n.get("delayed", 0) for n in ops.values())


def _windows(c: ChaosResult, system: str) -> str:
    made = {label: n for (s, label), n in c.windows.items() if s == system and label != "off"}
    return _compact(made)


def _his_row(c: ChaosResult) -> list[object]:
    """The HIS's own view: no hold may outlive its booking, one registration per confirmed booking."""
    confirmed = sum(n for status, n in c.money.states.get("bookings", {}).items()
                    if status in ("confirmed", "checked_in", "completed"))
    locks, registrations = c.his.get("locks"), c.his.get("registrations")
    return ["   HIS: live holds left / registrations (BFF confirmed)", f"{locks} / {registrations} ({confirmed})",
            verdict(locks == 0 and registrations == confirmed)]


def _fault_rows(c: ChaosResult) -> list[list[object]]:
    rows = []
    for system, name in (("wechatpay", "WeChat Pay API"), ("alipay", "Alipay API"), ("his", "HIS")):
        calls, failed, slowed = _faults(c, system)
        rows.append([f"   faults: {name} calls failed / slowed",
                     f"{failed} / {slowed} of {calls} calls (windows: {_windows(c, system)})", ""])
    calls, failed, slowed = _faults(c, "his", CONFIRM_OPERATIONS)
    rows.append(["   ... of which HIS confirm + settle", f"{failed} / {slowed} of {calls} calls", ""])
    return rows


def _ended(c: ChaosResult, label: str) -> dict:
    return c.fates.get(label, {})


def _story_rows(c: ChaosResult) -> list[list[object]]:
    i, n = c.ctx.injected, c.notifications
    lost, lapsed = _ended(c, "lost notification"), _ended(c, "HIS hold lapsed")
    lost_found = sum(v for k, v in lost.items() if k in ("paid", "refunding", "refunded"))
    lapse_kept = lapsed.get("paid", 0)  # payment statuses: kept means its booking was confirmed (money invariant)
    lapse_back = lapsed.get("refunded", 0)
    forged = sum(v for k, v in i.items() if k.startswith("forged"))
    acked = n["forged acknowledged"]
    return [
        ["   notifications: extra copies asked / forged / all lost",
         f"{i['duplicate notifications']} / {forged} / {i['lost notifications (held for good)']} trades", ""],
        ["   forged notifications acknowledged (deliveries, by forgery)",
         f"{sum(acked.values())} of {sum(n['forged sent'].values())} ({_compact(dict(acked))})",
         verdict(not acked)],
        ["   lost notifications found by the stuck-payment query", f"{lost_found} of {sum(lost.values())} captured "
         f"({_compact(lost)})", verdict(lost_found == sum(lost.values()))],
        ["   HIS hold lapsed before payment: taken again / refunded", f"{lapse_kept} / {lapse_back} of "
         f"{sum(lapsed.values())} ({_compact(lapsed)})", verdict(lapse_kept + lapse_back == sum(lapsed.values()))],
        ["   cancellations after confirmation / right after paying / before",
         f"{i['cancel after confirmation']} / {i['cancel right after paying']} / {i['cancel before paying']} "
         f"(+{i['cancel after a failed payment']} after a failed payment)", ""],
        ["   kiosk face-pay: paid / declined / unknown", _face(c), ""],
    ]


def _face(c: ChaosResult) -> str:
    o = c.ctx.outcomes
    paid = sum(v for k, v in o.items() if k.startswith("face paid") or k == "face: unknown, then paid")
    declined = sum(v for k, v in o.items() if k.startswith("face declined"))
    unknown = sum(v for k, v in o.items() if k.startswith("face") and "unknown" in k and not k.endswith("paid"))
    return f"{paid} / {declined} / {unknown}"


def _money_rows(c: ChaosResult) -> list[list[object]]:
    m = c.money
    twice = m.figures["captured twice for one order"][0]
    neither = m.figures["captured, neither confirmed nor refunded"]
    return [
        ["   captured (ledger)", f"{m.figures['captured'][0]} payments, {yuan(m.fen('captured'))}", ""],
        ["   confirmed in the HIS (bookings, bills)", f"{m.figures['confirmed'][0]}, {yuan(m.fen('confirmed'))}", ""],
        ["   refunded", f"{m.figures['refunded'][0]}, {yuan(m.fen('refunded'))}", ""],
        ["   money: captured = confirmed + refunded",
         f"{yuan(m.fen('captured'))} {'=' if m.fen('captured') == m.fen('confirmed') + m.fen('refunded') else '≠'} "
         f"{yuan(m.fen('confirmed'))} + {yuan(m.fen('refunded'))}; unsettled "
         f"{neither[0]} ({yuan(neither[1])}), paid twice {twice}", verdict(m.holds)],
    ]


def chaos_rows(c: ChaosResult) -> list[list[object]]:
    """Part 1's rows."""
    k, rec, planted = c.knobs, c.reconciliation, c.planted
    kinds = Counter(s.kind for s in c.scenarios)
    retries = c.tally.retries
    errors, _ = c.log_errors
    return [
        ["1. chaos: payments attempted", f"{len(c.scenarios)} (seed {k['seed']}, {k['concurrency']} at a time, "
         f"{c.seconds.get('payments under faults', 0):.0f}s under faults)", ""],
        ["   by kind", ", ".join(f"{KIND_NAMES[name]} {kinds[name]}" for name, _ in KINDS), ""],
        *_money_rows(c),
        ["   left in flight once faults were off", f"{sum(c.left.values())} after {c.waited_s:.0f}s "
         f"({_compact({n: v for n, v in c.left.items() if v})})", verdict(not any(c.left.values()))],
        _his_row(c),
        *_fault_rows(c),
        *_story_rows(c),
        ["   client retries", _compact(dict(retries)), ""],
        ["   unexpected answers (5xx without Retry-After)", str(len(c.tally.anomalies)),
         verdict(not c.tally.anomalies)],
        ["   no answer at all (then retried, same Idempotency-Key)", f"{len(c.tally.no_answer)}, of which the BFF "
         f"logged {len(c.reached_bff)}", ""],
        ["   BFF log: ERROR lines", str(errors), ""],
        ["   final: bookings", _compact(c.money.states.get("bookings", {})), ""],
        ["   final: bill orders", _compact(c.money.states.get("bill orders", {})), ""],
        ["   flask payments reconcile --date today", f"exit {rec.exit_code}, {rec.rows} rows, {rec.differences} "
         f"differences", verdict(rec.exit_code == 0 and rec.differences == 0)],
        ["   ... again after planting a difference", f"exit {planted.exit_code}, {planted.differences} differences "
         f"(YQ-PLANTED named: {'YQ-PLANTED' in planted.output})",
         verdict(planted.exit_code != 0 and "YQ-PLANTED" in planted.output)],
    ]


def chaos_notes(c: ChaosResult) -> list[str]:
    """What the lead needs to find a chaos failure: differences explained, errors logged, odd outcomes."""
    notes = [f"1: BFF settings: PAYMENT_MODE=online, 2 gunicorn workers x 8 threads, jobs in-process every 2 s, "
             f"stuck-payment query after 8 s, refund check after 5 s, holds 3 min, pending bookings recovered after "
             f"45 s, HIS and gateway timeouts 3 s ('timeouts' windows: 3.5 s); "
             f"set-up {c.seconds.get('set-up', 0):.0f}s, settling {c.waited_s:.0f}s, reconciling "
             f"{c.seconds.get('reconciling (twice)', 0):.0f}s"]
    lasted = {k.split(": ", 1)[1]: v for k, v in c.seconds.items() if k.startswith("in flight: ")}
    if lasted:
        notes.append("1: once faults were off, still in flight until: " +
                     ", ".join(f"{name} {at:.0f}s" for name, at in sorted(lasted.items(), key=lambda kv: -kv[1])))
    notes += [f"1: difference: {line}" for line in c.reconciliation.difference_lines[:8]]
    notes += [f"1: explained: {line}" for line in c.explained]
    notes += [f"1: BFF logged {n}x {message}" for message, n in c.log_errors[1]]
    notes += [f"1: unexpected answer at {t}: {m} {route} -> {status} {code} (X-Request-Id {rid})"
              for t, m, route, status, code, rid in c.tally.anomalies[:6]]
    notes += [f"1: no answer at {t}: {m} {route}: {error} (X-Request-Id {rid}, "
              f"{'logged' if rid in c.reached_bff else 'never reached'} by the BFF)"
              for t, m, route, error, rid in c.tally.no_answer[:4]]
    odd = {k: v for k, v in c.ctx.outcomes.items() if not k.startswith(("paid in app", "face paid", "face declined"))}
    if odd:
        notes.append(f"1: other client outcomes: {_compact(odd)}")
    return notes
