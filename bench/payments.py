"""Table 3, payments: the chaos run, notification handling latency, and the cost of Alipay request signing.

`BENCH_ONLY=payments python -m bench` runs it alone. Knobs (environment):

* BENCH_PAY_COUNT (500): payments in the chaos run; BENCH_PAY_SEED: its seed (random, printed, when
  unset: give it to replay the same plan and fault windows); BENCH_PAY_CONCURRENCY (32): patients
  and kiosks paying at once; BENCH_PAY_SETTLE_S (180): the longest wait for the BFF to be quiet
  once the faults are off.
* BENCH_PAY_NOTIFY_N (600, at least 500): notifications fired at 32 connections.

See `bench.chaos`, `bench.notify_latency` and `bench.alipay_cost` for what each part does.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench import alipay_cost, chaos, notify_latency
from bench.chaos import ChaosResult
from bench.common import fmt, table, verdict
from bench.payclient import TRANSIENT_409
from bench.payments_render import chaos_notes, chaos_rows


@dataclass
class PaymentsResult:
    """The three parts."""

    chaos: ChaosResult
    notify: notify_latency.NotifyResult
    signing: alipay_cost.SigningCost


def run(workdir: str) -> PaymentsResult:
    """All three parts, one after the other."""
    return PaymentsResult(chaos.run(workdir), notify_latency.run(workdir), alipay_cost.run(workdir))


def _load_row(label: str, load: notify_latency.Load, target: str = "") -> list[object]:
    return [label, f"p50 {load.p50_ms:.0f} / p99 {load.p99_ms:.0f} ms, {load.rps:,.0f}/s "
                   f"(in the app: {fmt(load.app_p50_ms, 0)} / {fmt(load.app_p99_ms, 0)} ms), not 2xx {load.not_ok}",
            target]


def notify_rows(r: notify_latency.NotifyResult) -> list[list[object]]:
    """Part 2's rows."""
    rec = r.recorded
    return [
        _load_row(f"2. {r.n} first-time v3 notifications, {notify_latency.CONNECTIONS} conns", r.first,
                  f"p99 < {notify_latency.TARGET_P99_MS:.0f} ms: "
                  f"{verdict(r.first.p99_ms < notify_latency.TARGET_P99_MS)}"),
        _load_row("   baseline: the same, seen before (outbox idle)", r.duplicates),
        _load_row("   baseline: GET /healthz", r.healthz),
        ["   acknowledged, recorded exactly once",
         f"{rec['one notification record']}/{r.n} one notification record, {rec['one ledger capture']}/{r.n} one "
         f"capture, {rec['paid']} paid; outbox drained {r.drain_s:.0f}s after",
         verdict(notify_latency.exactly_once(r))],
    ]


def signing_rows(s: alipay_cost.SigningCost) -> list[list[object]]:
    """Part 3's rows."""
    needed = "yes" if s.faster_needed else "no"
    return [
        ["3. Alipay RSA2 sign: SDK signer / cryptography", f"{s.sdk_sign_ms:.1f} / {s.fast_sign_ms:.2f} ms median, "
         f"{s.sdk_sign_ms / s.fast_sign_ms:.0f}x; same bytes: {s.identical}", ""],
        ["   gateway query round trip, each signer", f"{s.sdk_query_ms:.1f} / {s.fast_query_ms:.1f} ms median", ""],
        ["   faster signer needed? BFF uses", f"{needed}; ALIPAY_SIGNER={s.bff_signer}",
         f"fast signer in use: {verdict(s.ok)}"],
    ]


def render(result: PaymentsResult) -> str:
    """The payments table."""
    rows = chaos_rows(result.chaos) + notify_rows(result.notify) + signing_rows(result.signing)
    notes = chaos_notes(result.chaos) + [
        "2: 'in the app' = the BFF's own access-log time of the same requests; the rest of the latency is waiting for "
        "one of the 16 gunicorn threads (2 workers x 8); the BFF's outbox settles the orders in the HIS meanwhile",
        f"3: the SDK signer holds the GIL for its whole signature: more than {alipay_cost.NEEDED_ABOVE_MS:.0f} ms per "
        "Alipay call is CPU a worker cannot give to anything else",
        f"client retries: 503 and 429 after Retry-After (at most {chaos_client_wait()} s), 409 "
        f"{'/'.join(sorted(TRANSIENT_409))}, no answer (same Idempotency-Key); kiosks never charge a face twice",
    ]
    return table("3. payments", ["measure", "measured", "target / verdict"], rows, notes, left=True)


def chaos_client_wait() -> str:
    """The longest Retry-After the bench client honours."""
    from bench.payclient import MAX_WAIT_S

    return f"{MAX_WAIT_S:.0f}"


def targets(result: PaymentsResult) -> list[list[object]]:
    """Summary rows: (target, measured, verdict)."""
    c, n, s = result.chaos, result.notify, result.signing
    rec = c.reconciliation
    unexpected = len(c.tally.anomalies)
    return [
        ["payments: money invariant after the chaos run",
         f"{c.money.fen('captured')} {'=' if c.money.holds else '≠'} {c.money.fen('confirmed')} + "
         f"{c.money.fen('refunded')} fen",
         verdict(c.money.holds)],
        ["payments: reconcile after the chaos run: 0 differences, exit 0",
         f"{rec.differences} differences, exit {rec.exit_code}", verdict(rec.differences == 0 and rec.exit_code == 0)],
        ["payments: a planted difference makes reconcile exit non-zero", f"exit {c.planted.exit_code}",
         verdict(c.planted.exit_code != 0 and "YQ-PLANTED" in c.planted.output)],
        ["payments: nothing stuck once faults are off", f"{sum(c.left.values())} left after {c.waited_s:.0f}s",
         verdict(not any(c.left.values()))],
        ["payments: no unexpected answer (5xx without Retry-After)", str(unexpected), verdict(unexpected == 0)],
        ["payments: forged notifications never acknowledged", str(sum(c.notifications["forged acknowledged"].values())),
         verdict(not c.notifications["forged acknowledged"])],
        ["payments: notification p99 < 100 ms at 32 concurrent", f"{n.first.p99_ms:.0f} ms",
         verdict(n.first.p99_ms < notify_latency.TARGET_P99_MS)],
        ["payments: notifications acknowledged and recorded exactly once", f"{n.recorded['one ledger capture']}/{n.n}",
         verdict(notify_latency.exactly_once(n))],
        ["payments: Alipay signing uses the fast signer when needed",
         f"SDK {s.sdk_sign_ms:.0f} ms, fast {s.fast_sign_ms:.2f} ms, BFF {s.bff_signer}", verdict(s.ok)],
    ]
