"""The payments bench's own parts: its plan, its client's retry rules, its fault counters, its verdicts.

A benchmark that plans the wrong faults, retries what no client would, or misreads the BFF's
database reports figures nobody should trust; these pin down the pieces that decide its verdicts.
"""
from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from bench import chaos_checks, chaos_plan
from bench.chaos_checks import Money, Reconciliation
from bench.pay_sandbox import CountingFaults
from bench.payclient import MAX_WAIT_S, TRANSIENT_PAUSE_S, TRANSPORT_PAUSE_S, retry_after, route_of, unexpected
from sandbox.alipay.store import FACE_CODES as ALIPAY_FACE_CODES
from sandbox.wechatpay import facecodes


def test_the_same_seed_plans_the_same_run_and_another_seed_another():
    assert chaos_plan.plan(300, 42) == chaos_plan.plan(300, 42)
    assert chaos_plan.plan(300, 42) != chaos_plan.plan(300, 43)


def test_a_large_plan_reaches_every_kind_fate_and_fault():
    scenarios = chaos_plan.plan(2000, 7)
    assert {s.kind for s in scenarios} == {name for name, _ in chaos_plan.KINDS}
    assert {s.fate for s in scenarios if s.method == "app"} == {name for name, _ in chaos_plan.APP_FATES}
    assert {s.forge for s in scenarios if s.forge} == set(chaos_plan.FORGERIES)
    assert any(s.lost for s in scenarios) and any(s.dupes for s in scenarios) and any(s.poll for s in scenarios)


def test_faults_that_need_wechat_pay_or_a_payment_are_only_planned_where_they_can_happen():
    for s in chaos_plan.plan(2000, 11):
        if s.lost or s.forge:
            assert s.channel == "wechat" and s.method == "app"
        if s.lost:
            assert s.dupes == 0 and not s.poll  # held notifications cannot be duplicated; nobody polls
        if s.fate == "cancel_before":
            assert not (s.lost or s.forge or s.dupes or s.poll)
        if s.order_type == "bills":
            assert s.fate == "normal"  # bills cannot be cancelled


@pytest.mark.parametrize(("outcome", "answer", "polls"), [("ok", "SUCCESS", 0), ("paying", "USERPAYING", 2),
                                                          ("declined", "NOTENOUGH", 0)])
def test_wechat_face_codes_make_the_wechat_simulator_do_what_the_plan_says(outcome, answer, polls):
    code = chaos_plan.FACE_CODES["wechat"][outcome] + "0042"
    result = facecodes.outcome(code)
    assert (result.answer, result.polls) == (answer, polls)


@pytest.mark.parametrize(("outcome", "expected"), [("ok", None), ("paying", ("paying", "2")),
                                                   ("declined", ("fail", "ACQ.BUYER_BALANCE_NOT_ENOUGH"))])
def test_alipay_face_codes_make_the_alipay_simulator_do_what_the_plan_says(outcome, expected):
    code = chaos_plan.FACE_CODES["alipay"][outcome] + "0042"
    matched = next(((kind, m, arg) for pattern, kind, arg in ALIPAY_FACE_CODES if (m := pattern.match(code))), None)
    if expected is None:
        assert matched is None  # "anything else pays at once"
    elif expected[0] == "paying":
        assert matched[0] == "paying" and matched[1].group(1) == expected[1]
    else:
        assert matched[0] == "fail" and matched[2][0] == expected[1]


def test_fault_windows_are_healthy_failing_slow_or_slower_than_the_bff_waits():
    rng = random.Random(3)
    labels = Counter()
    for _ in range(1000):
        label, body = chaos_plan.fault_setting(rng, 3000)
        labels[label] += 1
        if label == "off":
            assert body == {"error_rate": 0.0, "latency_ms": 0}
        elif label == "timeouts":
            assert body["latency_ms"] > 3000
        elif label == "errors":
            assert 0 < body["error_rate"] < 1 and body["latency_ms"] == 0
        else:
            assert 0 < body["latency_ms"] < 3000
    assert set(labels) == {"off", "errors", "slow", "timeouts"} and labels["off"] > labels["timeouts"]
    seconds, chosen = chaos_plan.fault_window(rng, 3000)
    assert 2.0 <= seconds <= 4.0 and set(chosen) == set(chaos_plan.SYSTEMS)


def test_the_client_retries_what_a_real_client_retries_and_nothing_else():
    assert retry_after(503, "HIS_UNAVAILABLE", {"Retry-After": "5"}) == 5.0
    assert retry_after(429, "RATE_LIMITED", {"Retry-After": "60"}) == MAX_WAIT_S
    assert retry_after(409, "CONFIRMING", {}) == TRANSIENT_PAUSE_S
    assert retry_after(0, None, {}) == TRANSPORT_PAUSE_S  # no answer: the same Idempotency-Key again
    assert retry_after(409, "SLOT_FULL", {}) is None
    assert retry_after(503, "X", {}) is None  # a 503 that does not say when to come back
    assert retry_after(500, "INTERNAL_ERROR", {}) is None
    assert retry_after(402, "INSUFFICIENT_FUNDS", {}) is None


def test_only_5xx_without_retry_after_count_as_unexpected():
    assert unexpected(500, {}) and unexpected(502, {}) and unexpected(503, {})
    assert not unexpected(503, {"Retry-After": "5"}) and not unexpected(409, {})


def test_routes_are_tallied_without_their_ids():
    assert route_of("/api/v1/appointments/0123456789abcdef0123456789abcdef/cancel") == \
        "/api/v1/appointments/{id}/cancel"
    assert route_of("/api/v1/payments/15") == "/api/v1/payments/{id}"
    assert route_of("/api/v1/bills?patient_id=3") == "/api/v1/bills"


def test_counting_faults_count_what_they_inject_per_operation():
    faults = CountingFaults(lambda: "op")
    assert faults.verdict() is None
    faults.update({"error_rate": 1.0, "latency_ms": 1})
    assert faults.verdict() == "error"
    faults.update({"down": True})
    assert faults.verdict() == "down"
    assert faults.snapshot() == {"op": {"calls": 3, "delayed": 1, "errors": 1, "down": 1}}


def _money(**fen) -> Money:
    figures = {"captured": 10000, "confirmed": 7000, "refunded": 3000, "payments paid_at set": 10000,
               "payments refunded column": 3000, "captured, neither confirmed nor refunded": 0,
               "captured twice for one order": 0}
    figures.update(fen)
    return Money({name: (1 if value else 0, value) for name, value in figures.items()})


def test_the_money_invariant_holds_only_to_the_fen():
    assert _money().holds
    assert not _money(confirmed=6999).holds
    assert not _money(**{"captured, neither confirmed nor refunded": 1}).holds
    assert not _money(**{"payments paid_at set": 10001}).holds  # orders and ledger disagree
    twice = _money()
    twice.figures["captured twice for one order"] = (1, 5000)
    assert not twice.holds


def test_the_bff_log_is_summed_by_message_with_numbers_masked(tmp_path):
    path = tmp_path / "bff.log"
    lines = [{"level": "ERROR", "logger": "bff.outbox", "message": "outbox send_refund refund:12 failed (attempt 1)"},
             {"level": "ERROR", "logger": "bff.outbox", "message": "outbox send_refund refund:13 failed (attempt 2)"},
             {"level": "INFO", "logger": "bff.access", "message": "POST /notify/wechatpay 200"}]
    path.write_text("\n".join(json.dumps(line, separators=(",", ":")) for line in lines) + "\nnot json\n")
    total, top = chaos_checks.log_errors(str(path))
    assert total == 2 and top == [("bff.outbox: outbox send_refund refund:# failed (attempt #)", 2)]


def test_a_reconciliation_reports_its_differences_and_their_trades(tmp_path):
    report = tmp_path / "reconciliation.csv"
    report.write_text("status,kind,gateway,out_trade_no,out_refund_no\nmatched,payment,wechatpay_v3,YQ1,\n"
                      "missing_in_ledger,payment,wechatpay_v3,YQ2,\nunsettled,payment,,YQ3,\n", encoding="utf-8-sig")
    output = (f"对账日期 2026-12-02: 发现 2 处差异\n  差异 missing_in_ledger: payment YQ2 渠道=100 账本= HIS=\n"
              f"report: {report}, {tmp_path}/summary.txt\n")
    rec = Reconciliation(1, 2, 3, output)
    assert rec.different_trades() == ["YQ2", "YQ3"]
    assert rec.difference_lines == ["差异 missing_in_ledger: payment YQ2 渠道=100 账本= HIS="]
