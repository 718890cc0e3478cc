"""Reconciliation logic (对账): the gateways' bills, our ledger and the HIS's records must tell one story.

Pure functions over plain records, so the rules are testable without any server:

* every payment and refund in a gateway's bill is in our ledger with the same amount, and the
  other way round (``missing_in_ledger``, ``missing_at_gateway``, ``amount_mismatch``);
* every trade the HIS says it took is a payment we captured, for the same amount
  (``his_unknown_trade``, ``his_amount_mismatch``), and every refund the HIS recorded is one we
  asked for (``his_refund_not_asked``);
* every payment we captured ended as a HIS record or a refund (``unsettled``): the money
  invariant, captured = confirmed + refunded; a refund decided but not yet confirmed back by
  the time of the report is named too (``refund_pending``), and one the gateway refused for
  good, waiting for a person, is a difference of its own (``refund_failed``).

Money an admin paid back outside the gateway (cash at the window, a transfer) is a ledger
movement the gateway never saw: it is matched as ``refunded_offline`` rather than listed as
missing at the gateway, and counts as money back.

A face-pay trade the gateway took and gave back in full (a reverse, 撤销, after the payer
confirmed at the last moment) is a pair of lines that nets to zero: when we never captured that
trade and know it as reversed, the pair is matched (``reversed``), not two differences.

Amounts are fen. A day is a day in Asia/Shanghai.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from payments.interface import BillKind, BillLine


@dataclass(frozen=True)
class LedgerMovement:
    """A money movement we recorded (positive fen), keyed like the gateway's bill."""

    kind: BillKind
    gateway: str
    out_trade_no: str
    amount: int
    at: dt.datetime
    out_refund_no: str = ""
    transaction_id: str = ""
    offline: bool = False  # a refund paid back outside the gateway: never in its bill


@dataclass(frozen=True)
class HisRecord:
    """What the HIS says it took (positive) or gave back (negative) for one of our trade numbers."""

    trade_no: str
    amount: int
    kind: str  # registration / bills
    record_id: str
    at: dt.datetime


@dataclass(frozen=True)
class CapturedPayment:
    """A payment we captured, and how it ended as far as we know."""

    out_trade_no: str
    amount: int
    fulfilled: bool  # confirmed in the HIS by us
    refund_asked: int  # fen we decided to refund (intent, whatever the gateway says yet)
    refunded: int  # fen the gateway confirmed refunded (or an admin paid back offline), by the time of the report
    refund_failed: int = 0  # fen of refunds the gateway refused for good, waiting for a person


@dataclass(frozen=True)
class Row:
    """One line of the report: a trade or refund and what each side says of it."""

    status: str  # "matched" or a difference code
    kind: str
    gateway: str
    out_trade_no: str
    out_refund_no: str = ""
    transaction_id: str = ""
    gateway_amount: int | None = None
    ledger_amount: int | None = None
    his_amount: int | None = None
    note: str = ""


@dataclass
class Report:
    """The day's reconciliation."""

    date: dt.date
    rows: list[Row] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def differences(self) -> list[Row]:
        """Every row that is not matched."""
        return [r for r in self.rows if r.status != "matched"]

    @property
    def ok(self) -> bool:
        """True when every side agrees."""
        return not self.differences

    def csv(self) -> str:
        """The rows as CSV (UTF-8 with a header)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["status", "kind", "gateway", "out_trade_no", "out_refund_no", "transaction_id",
                         "gateway_amount_fen", "ledger_amount_fen", "his_amount_fen", "note"])
        for r in self.rows:
            writer.writerow([r.status, r.kind, r.gateway, r.out_trade_no, r.out_refund_no, r.transaction_id,
                             _cell(r.gateway_amount), _cell(r.ledger_amount), _cell(r.his_amount), r.note])
        return out.getvalue()

    def summary(self) -> str:
        """A readable summary for finance: totals and every difference."""
        t = self.totals
        lines = [f"对账日期 {self.date.isoformat()}: {'一致' if self.ok else f'发现 {len(self.differences)} 处差异'}",
                 f"  渠道收款 {_yuan(t.get('gateway_paid', 0))}  渠道退款 {_yuan(t.get('gateway_refunded', 0))}",
                 f"  账本收款 {_yuan(t.get('ledger_captured', 0))}  账本退款 {_yuan(t.get('ledger_refunded', 0))}"
                 f"  线下退款 {_yuan(t.get('ledger_refunded_offline', 0))}",
                 f"  HIS 入账 {_yuan(t.get('his_paid', 0))}  HIS 退费 {_yuan(t.get('his_refunded', 0))}",
                 f"  逐笔核对 {len(self.rows)} 笔，一致 {len(self.rows) - len(self.differences)} 笔"]
        for r in self.differences:
            amounts = f"渠道={_cell(r.gateway_amount)} 账本={_cell(r.ledger_amount)} HIS={_cell(r.his_amount)}"
            lines.append(f"  差异 {r.status}: {r.kind} {r.out_refund_no or r.out_trade_no} {amounts} {r.note}".rstrip())
        return "\n".join(lines) + "\n"


def _cell(amount: int | None) -> str:
    return "" if amount is None else str(amount)


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}" if fen >= 0 else "-" + _yuan(-fen)


def reconcile(date: dt.date, bill: Iterable[BillLine], ledger: Iterable[LedgerMovement],
              his: Iterable[HisRecord], captured: Iterable[CapturedPayment],
              reversed_trades: Iterable[str] = ()) -> Report:
    """Match the day's gateway bills, ledger movements and HIS records; list every difference.

    reversed_trades: our trade numbers of face payments reversed at the gateway, never captured.
    """
    bill, ledger, his, captured = list(bill), list(ledger), list(his), list(captured)
    offline = [m for m in ledger if m.offline]
    report = Report(date)
    bill, report.rows = _reversed_pairs(bill, ledger, set(reversed_trades))
    report.rows += _offline_refunds(ledger)
    ledger = [m for m in ledger if not m.offline]
    report.rows += _gateway_against_ledger(bill, ledger)
    report.rows += _his_against_ours(his, captured)
    report.rows += _unsettled(captured, his)
    report.totals = _totals(bill, ledger, his)
    report.totals["ledger_refunded_offline"] = sum(m.amount for m in offline)
    return report


def _offline_refunds(ledger: list[LedgerMovement]) -> list[Row]:
    """Refunds an admin paid back outside the gateway: money back, never in a gateway's bill."""
    return [Row("matched", "refunded_offline", m.gateway, m.out_trade_no, m.out_refund_no, m.transaction_id,
                None, m.amount, note="paid back offline by an admin, not through the gateway")
            for m in ledger if m.offline]


def _key(kind: BillKind, out_trade_no: str, out_refund_no: str) -> tuple[str, str]:
    return (kind.value, out_refund_no if kind == BillKind.REFUND else out_trade_no)


def _reversed_pairs(bill: list[BillLine], ledger: list[LedgerMovement],
                    reversed_trades: set[str]) -> tuple[list[BillLine], list[Row]]:
    """Take out the gateway's pay-and-give-back pairs of trades we know as reversed and never captured."""
    ours = {m.out_trade_no for m in ledger}
    net: dict[str, int] = {}
    for line in bill:
        net[line.out_trade_no] = net.get(line.out_trade_no, 0) + (line.amount if line.kind == BillKind.PAYMENT
                                                                   else -line.amount)
    pairs = {no for no, total in net.items() if total == 0 and no in reversed_trades and no not in ours}
    rows = [Row("matched", ln.kind.value, ln.gateway, ln.out_trade_no, ln.out_refund_no, ln.transaction_id,
                ln.amount, None, note="reversed at the gateway (撤销)") for ln in bill if ln.out_trade_no in pairs]
    return [line for line in bill if line.out_trade_no not in pairs], rows


def _gateway_against_ledger(bill: list[BillLine], ledger: list[LedgerMovement]) -> list[Row]:
    ours = {_key(m.kind, m.out_trade_no, m.out_refund_no): m for m in ledger}
    rows, seen = [], set()
    for line in bill:
        key = _key(line.kind, line.out_trade_no, line.out_refund_no)
        seen.add(key)
        mine = ours.get(key)
        status = "missing_in_ledger" if mine is None else "matched" if mine.amount == line.amount else "amount_mismatch"
        rows.append(Row(status, line.kind.value, line.gateway, line.out_trade_no, line.out_refund_no,
                        line.transaction_id, line.amount, mine.amount if mine else None))
    for key, m in ours.items():
        if key not in seen:
            rows.append(Row("missing_at_gateway", m.kind.value, m.gateway, m.out_trade_no, m.out_refund_no,
                            m.transaction_id, None, m.amount))
    return rows


def _his_against_ours(his: list[HisRecord], captured: list[CapturedPayment]) -> list[Row]:
    ours = {c.out_trade_no: c for c in captured}
    rows = []
    for record in his:
        mine = ours.get(record.trade_no)
        if record.amount >= 0:
            status = ("his_unknown_trade" if mine is None else
                      "matched" if mine.amount == record.amount else "his_amount_mismatch")
        else:
            status = "his_refund_not_asked" if mine is None or mine.refund_asked < -record.amount else "matched"
        rows.append(Row(status, f"his_{record.kind}", "his", record.trade_no, his_amount=record.amount,
                        ledger_amount=mine.amount if mine else None, note=record.record_id))
    return rows


def _unsettled(captured: list[CapturedPayment], his: list[HisRecord]) -> list[Row]:
    """Money taken that the HIS does not keep and we never gave back, or are still giving back.

    The HIS keeps a trade when its records of the day net above zero: a booking made and
    cancelled the same day nets to zero there, and its money must come back through us.
    """
    in_his: dict[str, int] = {}
    for r in his:
        in_his[r.trade_no] = in_his.get(r.trade_no, 0) + r.amount
    rows = []
    for c in captured:
        kept = c.fulfilled or in_his.get(c.out_trade_no, 0) > 0
        if c.refund_failed:  # refused by the gateway for good: a person reissues it or pays it back offline
            rows.append(Row("refund_failed", "payment", "", c.out_trade_no, ledger_amount=c.amount,
                            note=f"refund of {c.refund_failed} fen refused by the gateway, needs a person"))
        elif not kept and c.refund_asked < c.amount:
            rows.append(Row("unsettled", "payment", "", c.out_trade_no, ledger_amount=c.amount,
                            note=f"captured, neither confirmed in the HIS nor refunded ({c.refund_asked} fen asked)"))
        elif c.refunded < c.refund_asked:  # decided, not yet back with the payer: finance follows it up
            rows.append(Row("refund_pending", "payment", "", c.out_trade_no, ledger_amount=c.amount,
                            note=f"refund asked, {c.refunded} of {c.refund_asked} fen confirmed back so far"))
    return rows


def _totals(bill: list[BillLine], ledger: list[LedgerMovement], his: list[HisRecord]) -> dict[str, int]:
    def total(items, kind):
        return sum(i.amount for i in items if i.kind == kind)

    return {"gateway_paid": total(bill, BillKind.PAYMENT), "gateway_refunded": total(bill, BillKind.REFUND),
            "ledger_captured": total(ledger, BillKind.PAYMENT), "ledger_refunded": total(ledger, BillKind.REFUND),
            "his_paid": sum(r.amount for r in his if r.amount > 0),
            "his_refunded": -sum(r.amount for r in his if r.amount < 0)}
