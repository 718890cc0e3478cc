"""`flask payments reconcile --date D`: gather the day's three accounts, match them, write the report.

Sources: each configured gateway's bill, our ledger, the HIS's payments report. The matching
rules are in :mod:`payments.reconcile`; here we collect, write `reconciliation.csv` and
`summary.txt` under RECONCILE_DIR/<date>/, and say whether finance has anything to look at.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator

from flask import current_app
from sqlalchemy.orm import selectinload

from bff import clock
from bff.extensions import db
from bff.his import current as current_his
from bff.his.port import HOSPITAL_TZ
from bff.payments import orders
from bff.payments.models import LedgerEntry, Payment, Refund
from bff.payments.records import gateways
from payments.interface import BillKind
from payments.reconcile import CapturedPayment, HisRecord, LedgerMovement, Report, reconcile

log = logging.getLogger("bff.payments.reconcile")


def day_bounds(date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day in the hospital's zone, as aware datetimes [start, end)."""
    start = dt.datetime.combine(date, dt.time(), HOSPITAL_TZ)
    return start, start + dt.timedelta(days=1)


def ledger_of(date: dt.date) -> list[LedgerMovement]:
    """The day's ledger entries, as positive movements."""
    start, end = day_bounds(date)
    entries = db.session.execute(db.select(LedgerEntry).where(LedgerEntry.at >= start, LedgerEntry.at < end)).scalars()
    return [LedgerMovement(BillKind.PAYMENT if e.kind == "capture" else BillKind.REFUND, e.gateway, e.out_trade_no,
                           abs(e.amount), e.at, e.out_refund_no, e.transaction_id, offline=e.kind == "offline")
            for e in entries]


def his_records_of(date: dt.date) -> list[HisRecord]:
    """What the HIS says it took and gave back that day (nothing when its mapping offers no such report)."""
    his = current_his()
    if "list_payment_records" in his.missing_operations():
        log.warning("reconciliation %s: the HIS offers no payments report; only the gateways are compared", date)
        return []
    return [HisRecord(r.trade_no, r.amount, r.kind, r.record_id, r.at) for r in his.list_payment_records(date)]


def captured_for(ledger: list[LedgerMovement], his: list[HisRecord]) -> list[CapturedPayment]:
    """Our captured payments the day's accounts speak of, and how each ended.

    A payment with a refund the gateway refused for good is in every day's report until a person
    has dealt with it, whatever day it was captured.
    """
    trade_nos = {m.out_trade_no for m in ledger if m.kind == BillKind.PAYMENT} | {r.trade_no for r in his}
    waiting = db.select(Refund.payment_id).where(Refund.status == "refund_failed")
    payments = db.session.execute(db.select(Payment).where(
        db.or_(Payment.out_trade_no.in_(trade_nos), Payment.id.in_(waiting)), Payment.paid_at.is_not(None))
        .options(selectinload(Payment.refunds))).scalars()
    return [CapturedPayment(p.out_trade_no, p.amount, orders.of(p.order_type).fulfilled(p),
                            sum(r.amount for r in p.refunds if r.status != "failed"), p.refunded,
                            sum(r.amount for r in p.refunds if r.status == "refund_failed")) for p in payments]


def bills_of(date: dt.date) -> list:
    """Every merchant's bill of the day, each once: WeChat Pay v2 and v3 of one merchant share a bill."""
    registry, seen, lines = gateways(), set(), []
    for gateway in registry.all():
        merchant = (registry.channel_of.get(gateway.name), gateway.merchant_id)
        if merchant in seen:
            continue
        seen.add(merchant)
        lines += gateway.download_bill(date)
    return lines


def reversed_face_trades(bill: list) -> set[str]:
    """Face payments in the bill that we never captured and that ended reversed or declined."""
    trade_nos = {line.out_trade_no for line in bill}
    if not trade_nos:
        return set()
    rows = db.session.execute(db.select(Payment.out_trade_no).where(
        Payment.out_trade_no.in_(trade_nos), Payment.method == "face", Payment.paid_at.is_(None),
        Payment.status.in_(("failed", "closed", "pending")))).scalars()
    return set(rows)


def run(date: dt.date, directory: str | None = None) -> tuple[Report, str]:
    """Reconcile one day and write its report; (report, the folder it was written to).

    A run of the same day in another process (the daily job, another command) is waited for.
    """
    folder = os.path.join(directory or current_app.config["RECONCILE_DIR"], date.isoformat())
    with _day_lock(folder, wait=True):
        return _reconcile_into(date, folder), folder


def run_daily(date: dt.date | None = None) -> Report | None:
    """Yesterday's reconciliation, once: skipped when its report was written already.

    Not before RECONCILE_AFTER_HOUR (hospital time): the gateways publish a day's bill the next
    morning (WeChat Pay from 10:00), and a report made from a bill not yet there would be all
    differences, written once and never made again. Every BFF worker runs the periodic jobs: one
    of them reconciles, the others go on.
    """
    if date is None:
        now = clock.now().astimezone(HOSPITAL_TZ)
        if now.hour < current_app.config["RECONCILE_AFTER_HOUR"]:
            return None
        date = now.date() - dt.timedelta(days=1)
    folder = os.path.join(current_app.config["RECONCILE_DIR"], date.isoformat())
    with _day_lock(folder, wait=False) as locked:
        if not locked or os.path.exists(os.path.join(folder, "summary.txt")):
            return None
        return _reconcile_into(date, folder)


@contextlib.contextmanager
def _day_lock(folder: str, wait: bool) -> Iterator[bool]:
    """Hold the day's lock file (released by the OS should the process die); False: held elsewhere."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def _reconcile_into(date: dt.date, folder: str) -> Report:
    bill = bills_of(date)
    ledger = ledger_of(date)
    his = his_records_of(date)
    report = reconcile(date, bill, ledger, his, captured_for(ledger, his), reversed_face_trades(bill))
    _write(folder, "reconciliation.csv", report.csv(), "utf-8-sig")
    _write(folder, "summary.txt", report.summary(), "utf-8")  # last: it marks the day done
    level = logging.INFO if report.ok else logging.ERROR
    log.log(level, "reconciliation %s: %d rows, %d differences", date, len(report.rows), len(report.differences),
            extra={"date": date.isoformat(), "differences": len(report.differences)})
    return report


def _write(folder: str, name: str, text: str, encoding: str) -> None:
    """Whole or not at all: a reader, or a power cut, never leaves half a report under the name."""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, 0o644)  # as open() would have made it (mkstemp makes 0600)
        os.replace(temporary, os.path.join(folder, name))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
