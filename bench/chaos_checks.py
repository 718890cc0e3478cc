"""After the chaos: is the BFF quiet, does the money add up, does `flask payments reconcile` agree, what did it log.

Everything is read from the BFF's own PostgreSQL schema with plain SQL (not through the BFF's
code, so a bug there cannot hide itself) and from its log file; the reconciliation is the real
CLI command run as hospital IT would run it.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import psycopg

from bench.common import PYTHON, ROOT, log

TZ = ZoneInfo("Asia/Shanghai")

# Work the BFF still has to do; all must reach 0 once faults are off.
IN_FLIGHT = {
    "outbox rows pending": "SELECT count(*) FROM outbox WHERE status = 'pending'",
    "payments pending": "SELECT count(*) FROM payments WHERE status = 'pending'",
    "payments refunding": "SELECT count(*) FROM payments WHERE status = 'refunding'",
    "refunds pending/processing": "SELECT count(*) FROM refunds WHERE status IN ('pending', 'processing')",
    "bookings pending/paid": "SELECT count(*) FROM appointments WHERE status IN ('pending', 'paid')",
    "bookings awaiting payment": "SELECT count(*) FROM appointments WHERE status = 'awaiting_payment'",
    "bill orders paid/cancelled": "SELECT count(*) FROM bill_settlements WHERE status IN ('paid', 'cancelled')",
}

_FULFILLED = """(
  (p.order_type = 'appointment' AND EXISTS (SELECT 1 FROM appointments a WHERE a.id = p.order_id
                                            AND a.status IN ('confirmed', 'checked_in', 'completed')))
  OR (p.order_type = 'bills' AND EXISTS (SELECT 1 FROM bill_settlements b WHERE b.id = p.order_id
                                         AND b.status = 'settled')))"""
MONEY = {
    "captured": "SELECT count(*), coalesce(sum(amount), 0) FROM ledger_entries WHERE kind = 'capture'",
    "refunded": "SELECT count(*), -coalesce(sum(amount), 0) FROM ledger_entries WHERE kind = 'refund'",
    "confirmed": f"SELECT count(*), coalesce(sum(p.amount), 0) FROM payments p WHERE p.paid_at IS NOT NULL"  # noqa: S608
                 f" AND p.refunded = 0 AND {_FULFILLED}",
    "payments paid_at set": "SELECT count(*), coalesce(sum(amount), 0) FROM payments WHERE paid_at IS NOT NULL",
    "payments refunded column": "SELECT count(*) FILTER (WHERE refunded > 0), coalesce(sum(refunded), 0)"
                                " FROM payments",
    "captured, neither confirmed nor refunded": f"SELECT count(*), coalesce(sum(p.amount - p.refunded), 0)"  # noqa: S608
                                                f" FROM payments p WHERE p.paid_at IS NOT NULL"
                                                f" AND p.refunded < p.amount AND NOT {_FULFILLED}",
    "captured twice for one order": "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM payments"
                                    " WHERE paid_at IS NOT NULL AND refunded = 0 GROUP BY order_type, order_id"
                                    " HAVING count(*) > 1) t",
}
STATES = {
    "bookings": "SELECT status, count(*) FROM appointments GROUP BY status",
    "bill orders": "SELECT status, count(*) FROM bill_settlements GROUP BY status",
    "payments": "SELECT method || ' ' || channel || ' ' || status, count(*) FROM payments GROUP BY 1",
    "notifications acted on": "SELECT gateway || ' ' || kind, count(*) FROM payment_notifications GROUP BY 1",
}


class Db:
    """The BFF's schema, read with plain SQL."""

    def __init__(self, dsn: str, schema: str):
        self.dsn, self.schema = dsn, schema

    def rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        """All rows of one query."""
        with psycopg.connect(self.dsn, connect_timeout=5, options=f"-csearch_path={self.schema}") as conn:
            return conn.execute(sql, args).fetchall()

    def value(self, sql: str, args: tuple = ()):
        """The first column of the first row."""
        return self.rows(sql, args)[0][0]


def in_flight(db: Db) -> dict[str, int]:
    """Each kind of unfinished work and how much of it there is."""
    return {name: db.value(sql) for name, sql in IN_FLIGHT.items()}


def wait_quiet(db: Db, seconds: float) -> tuple[dict[str, int], float, dict[str, float]]:
    """Poll until nothing is in flight (bounded): (what is left, seconds waited, when each kind was last seen)."""
    started = time.monotonic()
    last_seen: dict[str, float] = {}
    next_log = 20.0
    while True:
        left, waited = in_flight(db), time.monotonic() - started
        last_seen.update({name: waited for name, n in left.items() if n})
        if not any(left.values()) or waited >= seconds:
            return left, waited, last_seen
        if waited >= next_log:
            log(f"payments: still in flight after {waited:.0f}s: {({k: v for k, v in left.items() if v})}")
            next_log += 20.0
        time.sleep(2.0)


@dataclass
class Money:
    """The money invariant, read from the ledger and the orders."""

    figures: dict[str, tuple[int, int]]  # name -> (count, fen)
    states: dict[str, dict[str, int]] = field(default_factory=dict)

    def fen(self, name: str) -> int:
        """The fen of one figure."""
        return self.figures[name][1]

    @property
    def holds(self) -> bool:
        """captured = confirmed + refunded to the fen, and the orders and the ledger agree."""
        return (self.fen("captured") == self.fen("confirmed") + self.fen("refunded")
                and self.fen("captured") == self.fen("payments paid_at set")
                and self.fen("refunded") == self.fen("payments refunded column")
                and self.fen("captured, neither confirmed nor refunded") == 0
                and self.figures["captured twice for one order"][0] == 0)


def money(db: Db) -> Money:
    """Read the invariant's figures and the final states."""
    figures = {name: tuple(db.rows(sql)[0]) for name, sql in MONEY.items()}
    states = {name: dict(db.rows(sql)) for name, sql in STATES.items()}
    return Money(figures, states)


# -- reconciliation ----------------------------------------------------------------------------


@dataclass
class Reconciliation:
    """One run of `flask payments reconcile`."""

    exit_code: int
    differences: int
    rows: int
    output: str

    @property
    def difference_lines(self) -> list[str]:
        """The summary's lines naming a difference."""
        return [line.strip() for line in self.output.splitlines() if line.strip().startswith("差异")]

    def different_trades(self) -> list[str]:
        """out_trade_no of every row of the written report that is not matched."""
        found = re.search(r"report: (\S+reconciliation\.csv)", self.output)
        if not found or not os.path.exists(found.group(1)):
            return []
        with open(found.group(1), encoding="utf-8-sig", newline="") as fh:
            return list(dict.fromkeys(row["out_trade_no"] for row in csv.DictReader(fh) if row["status"] != "matched"))


def today() -> dt.date:
    """Today in the hospital's time zone (the day the reconciliation covers)."""
    return dt.datetime.now(TZ).date()


def reconcile(env: dict, directory: str, date: dt.date) -> Reconciliation:
    """`flask payments reconcile --date D --dir directory` against the BFF's database."""
    done = subprocess.run([PYTHON, "-m", "flask", "payments", "reconcile", "--date", date.isoformat(),
                           "--dir", directory], cwd=ROOT, env={**env, "JOBS_IN_PROCESS": "0"},
                          capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    found = re.search(r"发现 (\d+) 处差异", output)
    checked = re.search(r"逐笔核对 (\d+) 笔", output)
    return Reconciliation(done.returncode, int(found.group(1)) if found else 0,
                          int(checked.group(1)) if checked else 0, output)


def plant_difference(db: Db) -> str:
    """Append a capture to the ledger that no gateway knows of (the ledger takes INSERTs only)."""
    payment_id, gateway, order_type, order_id = db.rows(
        "SELECT id, gateway, order_type, order_id FROM payments WHERE paid_at IS NOT NULL ORDER BY id LIMIT 1")[0]
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(db.dsn, connect_timeout=5, options=f"-csearch_path={db.schema}") as conn:
        conn.execute("INSERT INTO ledger_entries (at, kind, payment_id, refund_id, gateway, out_trade_no,"
                     " transaction_id, out_refund_no, amount, order_type, order_id, recorded_at)"
                     " VALUES (%s, 'capture', %s, -1, %s, 'YQ-PLANTED', '', '', 100, %s, %s, %s)",
                     (now, payment_id, gateway, order_type, order_id, now))
    log("payments: planted a 1.00 yuan capture YQ-PLANTED in the ledger")
    return "YQ-PLANTED"


# -- the BFF's log -----------------------------------------------------------------------------


def log_errors(path: str, limit: int = 6) -> tuple[int, list[tuple[str, int]]]:
    """ERROR/CRITICAL lines of the BFF's JSON log: how many, and the commonest messages."""
    seen: Counter = Counter()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if '"level":"ERROR"' not in line and '"level":"CRITICAL"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            message = re.sub(r"\b(YQ|YR)\w+|\b[0-9a-f]{32}\b|\d+", "#", record.get("message", ""))[:110]
            seen[f"{record.get('logger')}: {message}"] += 1
    return sum(seen.values()), seen.most_common(limit)


def explain(db: Db, out_trade_nos: list[str], trades: dict[str, dict]) -> list[str]:
    """For each trade named in a difference: what the BFF recorded of it and what the gateway holds."""
    lines = []
    for out_trade_no in out_trade_nos[:8]:
        ours = db.rows("SELECT method, channel, gateway, order_type, status, failure_code, pay_params IS NOT NULL,"
                       " amount, refunded FROM payments WHERE out_trade_no = %s", (out_trade_no,))
        events = db.rows("SELECT e.to_status FROM appointment_events e JOIN payments p ON p.order_id = e.appointment_id"
                         " WHERE p.out_trade_no = %s ORDER BY e.id", (out_trade_no,))
        bff = ("BFF: " + " ".join(str(v) for v in ours[0]) if ours else "BFF: no such payment")
        if events:
            bff += " (booking: " + " > ".join(e[0] for e in events) + ")"
        lines.append(f"{out_trade_no}: {bff}; gateway: {trades.get(out_trade_no, 'no such trade')}")
    return lines


def fates(db: Db, tracked: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """How the payments something was done to ended: label -> {payment status: count}."""
    return {label: dict(db.rows("SELECT status, count(*) FROM payments WHERE out_trade_no = ANY(%s) GROUP BY status",
                                (trade_nos,)))
            for label, trade_nos in sorted(tracked.items())}


def reached(log_path: str, request_ids: list[str]) -> set[str]:
    """Which of these X-Request-Ids the BFF logged (an answer it gave): the others never reached it."""
    wanted, seen = {f'"request_id":"{r}"' for r in request_ids}, set()
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if '"request_id":"' in line:
                for marker in wanted:
                    if marker in line:
                        seen.add(marker[len('"request_id":"'):-1])
    return seen
