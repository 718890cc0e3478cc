"""The reconciliation rules on plain records: one story, or the differences named."""
import datetime as dt

from payments.interface import BillKind, BillLine
from payments.reconcile import CapturedPayment, HisRecord, LedgerMovement, reconcile

AT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DAY = AT.date()


def line(kind, no, amount, refund_no=""):
    return BillLine("wechatpay_v3", kind, AT, no, "T" + no, amount, refund_no)


def test_a_whole_day_matches():
    bill = [line(BillKind.PAYMENT, "YQ1", 2500), line(BillKind.PAYMENT, "YQ2", 5000),
            line(BillKind.REFUND, "YQ2", 5000, "YR2")]
    ledger = [LedgerMovement(BillKind.PAYMENT, "wechatpay_v3", "YQ1", 2500, AT),
              LedgerMovement(BillKind.PAYMENT, "wechatpay_v3", "YQ2", 5000, AT),
              LedgerMovement(BillKind.REFUND, "wechatpay_v3", "YQ2", 5000, AT, "YR2")]
    his = [HisRecord("YQ1", 2500, "registration", "GH1", AT)]
    captured = [CapturedPayment("YQ1", 2500, True, 0, 0), CapturedPayment("YQ2", 5000, False, 5000, 5000)]
    report = reconcile(DAY, bill, ledger, his, captured)
    assert report.ok and len(report.rows) == 4


def test_each_kind_of_difference_is_named():
    bill = [line(BillKind.PAYMENT, "YQ1", 2500), line(BillKind.PAYMENT, "YQ3", 100)]
    ledger = [LedgerMovement(BillKind.PAYMENT, "wechatpay_v3", "YQ1", 2400, AT),
              LedgerMovement(BillKind.PAYMENT, "wechatpay_v3", "YQ4", 700, AT)]
    his = [HisRecord("YQ9", 300, "bills", "JS9", AT)]
    captured = [CapturedPayment("YQ1", 2400, False, 0, 0), CapturedPayment("YQ4", 700, True, 0, 0),
                CapturedPayment("YQ6", 900, False, 900, 0)]
    statuses = sorted(r.status for r in reconcile(DAY, bill, ledger, his, captured).differences)
    assert statuses == ["amount_mismatch", "his_unknown_trade", "missing_at_gateway", "missing_in_ledger",
                        "refund_pending", "unsettled"]


def test_a_face_trade_reversed_at_the_gateway_is_a_matched_pair_only_when_we_know_it_reversed():
    bill = [line(BillKind.PAYMENT, "YQ5", 1850), line(BillKind.REFUND, "YQ5", 1850, "REV5")]
    known = reconcile(DAY, bill, [], [], [], reversed_trades={"YQ5"})
    assert known.ok and {r.note for r in known.rows} == {"reversed at the gateway (撤销)"}
    unknown = reconcile(DAY, bill, [], [], [])
    assert [r.status for r in unknown.differences] == ["missing_in_ledger", "missing_in_ledger"]
    half = reconcile(DAY, bill[:1], [], [], [], reversed_trades={"YQ5"})  # taken, not given back: a difference
    assert [r.status for r in half.differences] == ["missing_in_ledger"]


def test_a_booking_made_and_cancelled_the_same_day_must_have_its_money_back():
    his = [HisRecord("YQ7", 2500, "registration", "GH7", AT), HisRecord("YQ7", -2500, "registration", "GH7", AT)]
    ledger = [LedgerMovement(BillKind.PAYMENT, "wechatpay_v3", "YQ7", 2500, AT)]
    bill = [line(BillKind.PAYMENT, "YQ7", 2500)]

    def statuses(refund_asked, refunded):
        report = reconcile(DAY, bill, ledger, his, [CapturedPayment("YQ7", 2500, False, refund_asked, refunded)])
        return [r.status for r in report.differences]

    assert statuses(0, 0) == ["his_refund_not_asked", "unsettled"]  # the HIS gave it back, we never did
    assert statuses(2500, 0) == ["refund_pending"]  # asked, not yet back with the payer


def test_two_partial_refunds_of_one_trade_match_each_for_its_own_amount():
    bill = [line(BillKind.PAYMENT, "YQ8", 5000), line(BillKind.REFUND, "YQ8", 1000, "YR8a"),
            line(BillKind.REFUND, "YQ8", 1500, "YR8b")]
    his = [HisRecord("YQ8", 5000, "bills", "JS8", AT)]
    captured = [CapturedPayment("YQ8", 5000, True, 2500, 2500)]

    def ledger(second: int):
        return [LedgerMovement(BillKind.PAYMENT, "alipay", "YQ8", 5000, AT),
                LedgerMovement(BillKind.REFUND, "alipay", "YQ8", 1000, AT, "YR8a"),
                LedgerMovement(BillKind.REFUND, "alipay", "YQ8", second, AT, "YR8b")]

    report = reconcile(DAY, bill, ledger(1500), his, captured)
    assert report.ok and report.totals["gateway_refunded"] == report.totals["ledger_refunded"] == 2500
    # the second refund recorded at Alipay's refund_fee (the trade's total so far) would be a difference
    wrong = reconcile(DAY, bill, ledger(2500), his, captured)
    assert [(r.status, r.out_refund_no, r.gateway_amount, r.ledger_amount) for r in wrong.differences] == [
        ("amount_mismatch", "YR8b", 1500, 2500)]


def test_a_refund_refused_for_good_needs_a_person_and_one_paid_back_offline_is_money_back():
    bill = [line(BillKind.PAYMENT, "YQ8", 3000)]
    captured = [LedgerMovement(BillKind.PAYMENT, "wechatpay_v3", "YQ8", 3000, AT)]
    refused = reconcile(DAY, bill, captured, [], [CapturedPayment("YQ8", 3000, False, 3000, 0, refund_failed=3000)])
    assert [r.status for r in refused.differences] == ["refund_failed"]

    offline = LedgerMovement(BillKind.REFUND, "wechatpay_v3", "YQ8", 3000, AT, "YR8", offline=True)
    settled = reconcile(DAY, bill, captured + [offline], [], [CapturedPayment("YQ8", 3000, False, 3000, 3000)])
    assert settled.ok  # not missing at the gateway: the gateway never refunded it
    assert [(r.kind, r.ledger_amount) for r in settled.rows if r.out_refund_no == "YR8"] == [("refunded_offline", 3000)]
    assert settled.totals["ledger_refunded"] == 0 and settled.totals["ledger_refunded_offline"] == 3000
