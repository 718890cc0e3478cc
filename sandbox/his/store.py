"""SQLite store of the sandbox HIS: schema, the rolling schedule window and catalogue queries.

One connection shared by all threads, every statement under one process-wide lock: the
handlers are cheap, so this is simpler and faster than juggling connections, and it makes
capacity checks race-free. Booking operations live in :mod:`sandbox.his.booking`, outpatient
bills and the daily payments report in :mod:`sandbox.his.billing`.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable

from sandbox.his import data

# Result codes (ResultCode) of this HIS and their messages.
OK = "0"
NOT_FOUND = "101"
PATIENT_INVALID = "102"
SLOT_FULL = "201"
NOT_RELEASED = "202"
STOPPED = "203"
LOCK_INVALID = "204"
DUPLICATE = "205"
ALREADY_CANCELLED = "301"
NOT_CANCELLABLE = "302"
CHECKIN_REFUSED = "401"
BILL_PAID = "501"
BILL_CHANGED = "502"
BILL_NOT_REFUNDABLE = "503"  # 退费: dispensed / executed / refunded already
BAD_REQUEST = "901"
UNKNOWN_CODE = "902"
INTERNAL = "999"

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
  id TEXT PRIMARY KEY, doctor_code TEXT NOT NULL, dept_code TEXT NOT NULL, date TEXT NOT NULL,
  period TEXT NOT NULL, release_at TEXT NOT NULL, start_at TEXT NOT NULL,
  stopped INTEGER NOT NULL DEFAULT 0, next_visit_no INTEGER NOT NULL DEFAULT 1,
  next_queue_no INTEGER NOT NULL DEFAULT 1, queue_advance INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL, fee_fen INTEGER);
CREATE INDEX IF NOT EXISTS ix_schedules_date ON schedules(date);
CREATE TABLE IF NOT EXISTS slots (
  id TEXT PRIMARY KEY, schedule_id TEXT NOT NULL, idx INTEGER NOT NULL, start_at TEXT NOT NULL,
  end_at TEXT NOT NULL, capacity INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS ix_slots_schedule ON slots(schedule_id);
CREATE TABLE IF NOT EXISTS patients (
  seq INTEGER PRIMARY KEY, id_type TEXT, id_number TEXT UNIQUE, name TEXT, phone TEXT,
  sex TEXT, birthday TEXT, created_at TEXT, source TEXT NOT NULL DEFAULT 'live');
CREATE TABLE IF NOT EXISTS locks (
  out_order_no TEXT PRIMARY KEY, seq INTEGER UNIQUE, patient_id TEXT, schedule_id TEXT,
  slot_id TEXT, visit_no TEXT, fee_fen INTEGER, status TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS registrations (
  seq INTEGER PRIMARY KEY, out_order_no TEXT UNIQUE, patient_id TEXT, schedule_id TEXT,
  slot_id TEXT, visit_no TEXT, fee_fen INTEGER, trade_no TEXT, paid_fen INTEGER,
  status TEXT, queue_no INTEGER, created_at TEXT, cancelled_at TEXT, cancel_reason TEXT);
CREATE TABLE IF NOT EXISTS bills (
  seq INTEGER PRIMARY KEY, patient_id TEXT NOT NULL, title TEXT NOT NULL, dept_name TEXT NOT NULL,
  doctor_name TEXT NOT NULL, amount_fen INTEGER NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
  paid_at TEXT, pay_channel TEXT);
CREATE INDEX IF NOT EXISTS ix_bills_patient ON bills(patient_id, status);
CREATE TABLE IF NOT EXISTS bill_items (
  bill_seq INTEGER NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, category TEXT NOT NULL,
  quantity TEXT NOT NULL, amount_fen INTEGER NOT NULL, PRIMARY KEY (bill_seq, idx));
CREATE TABLE IF NOT EXISTS settlements (
  seq INTEGER PRIMARY KEY, out_order_no TEXT UNIQUE NOT NULL, patient_id TEXT NOT NULL,
  bill_nos TEXT NOT NULL, amount_fen INTEGER NOT NULL, trade_no TEXT NOT NULL, receipt_no TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bill_refunds (
  seq INTEGER PRIMARY KEY, out_refund_no TEXT UNIQUE NOT NULL, settlement_seq INTEGER NOT NULL,
  bill_nos TEXT NOT NULL, amount_fen INTEGER NOT NULL, trade_no TEXT NOT NULL, reason TEXT NOT NULL,
  created_at TEXT NOT NULL);
"""


class BizError(Exception):
    """A business refusal answered as a non-zero ResultCode."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def shanghai_now() -> dt.datetime:
    """The current time in Asia/Shanghai."""
    return dt.datetime.now(data.TZ)


class Store:
    """The sandbox HIS database."""

    def __init__(self, path: str | None = None, clock: Callable[[], dt.datetime] | None = None):
        if path is None:
            fd, path = tempfile.mkstemp(prefix="sandbox-his-", suffix=".sqlite3")
            os.close(fd)
        self.path = path
        self.clock = clock or shanghai_now
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        if "fee_fen" not in {c["name"] for c in self.db.execute("PRAGMA table_info(schedules)")}:
            self.db.execute("ALTER TABLE schedules ADD COLUMN fee_fen INTEGER")  # a file from before fees
        self._window_date: dt.date | None = None
        self._seed_patients()

    def now(self) -> dt.datetime:
        """Current hospital time."""
        return self.clock().astimezone(data.TZ)

    def rows(self, sql: str, *args) -> list[sqlite3.Row]:
        """Run a query and fetch all rows."""
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def row(self, sql: str, *args) -> sqlite3.Row | None:
        """Run a query and fetch one row."""
        with self.lock:
            return self.db.execute(sql, args).fetchone()

    def write(self, fn: Callable[[sqlite3.Connection], object]) -> object:
        """Run fn(db) in one transaction under the process-wide lock."""
        with self.lock:
            if self.db.in_transaction:  # nested call inside a running write
                return fn(self.db)
            self.db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(self.db)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return result

    def reset(self) -> None:
        """Back to the seeded state: live records and extra sessions gone, counters zeroed."""
        def wipe(db):
            for table in ("registrations", "locks", "bills", "bill_items", "settlements", "bill_refunds"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 -- constant table names
            db.execute("DELETE FROM patients WHERE source != 'seed'")
            db.execute("DELETE FROM slots WHERE schedule_id IN (SELECT id FROM schedules WHERE source != 'seed')")
            db.execute("DELETE FROM schedules WHERE source != 'seed'")
            db.execute("UPDATE slots SET used = 0")
            db.execute("UPDATE schedules SET stopped = 0, next_visit_no = 1, next_queue_no = 1, queue_advance = 0")
        self.write(wipe)
        self.ensure_window()

    # -- people the hospital knows (identity check) ------------------------------------------

    def _seed_patients(self) -> None:
        """The demo people of data.DEMO_PATIENTS, with phones on file; kept across resets."""
        columns = {row["name"] for row in self.db.execute("PRAGMA table_info(patients)")}
        if "source" not in columns:  # a database file from before the identity check
            self.db.execute("ALTER TABLE patients ADD COLUMN source TEXT NOT NULL DEFAULT 'live'")

        def seed(db):
            for name, number, phone, sex, birthday in data.DEMO_PATIENTS:
                if db.execute("SELECT 1 FROM patients WHERE id_number = ?", (number,)).fetchone() is None:
                    seq = db.execute("SELECT COALESCE(MAX(seq), 10000000) + 1 FROM patients").fetchone()[0]
                    db.execute("INSERT INTO patients (seq, id_type, id_number, name, phone, sex, birthday, created_at,"
                               " source) VALUES (?,?,?,?,?,?,?,?, 'seed')",
                               (seq, "01", number, name, phone, sex, birthday, self.now().isoformat()))
        self.write(seed)

    def add_known_patient(self, name: str, id_number: str, phone: str, id_type: str = "01") -> str:
        """A person registered at the window (control API): their patient id; the existing one if known."""
        def insert(db):
            row = db.execute("SELECT seq FROM patients WHERE id_number = ?", (id_number.upper(),)).fetchone()
            if row:
                return str(row["seq"])
            seq = db.execute("SELECT COALESCE(MAX(seq), 10000000) + 1 FROM patients").fetchone()[0]
            db.execute("INSERT INTO patients (seq, id_type, id_number, name, phone, sex, birthday, created_at)"
                       " VALUES (?,?,?,?,?,?,?,?)",
                       (seq, id_type, id_number.upper(), name, phone, "", "", self.now().isoformat()))
            return str(seq)
        return self.write(insert)

    def find_patient(self, id_number: str) -> dict | None:
        """The record of an ID number with its phone on file, or None."""
        row = self.row("SELECT seq, name, phone FROM patients WHERE id_number = ?", (id_number or "").upper())
        if row is None:
            return None
        return {"patient_id": str(row["seq"]), "name": row["name"], "phone": row["phone"] or ""}

    # -- schedules -------------------------------------------------------------------------

    def ensure_window(self) -> None:
        """Make sure seeded schedules exist for today .. today+7 (cheap after the first call)."""
        today = self.now().date()
        if self._window_date == today:
            return
        with self.lock:
            if self._window_date == today or self.db.in_transaction:
                return  # done already, or the caller's running write ensured it first
            days = [today + dt.timedelta(days=i) for i in range(data.WINDOW_DAYS)]
            self.write(lambda db: [self._seed_day(db, day) for day in days])
            self._window_date = today

    def _seed_day(self, db: sqlite3.Connection, day: dt.date) -> None:
        for doc in data.DOCTORS:
            for period in data.seeded_periods(doc.code, day):
                sid = data.schedule_id(doc.code, day, period)
                count = data.PERIOD_SLOTS[period]
                caps = data.seeded_capacities(sid, count)
                self._insert_schedule(db, sid, doc.code, doc.dept, day, period,
                                      data.release_at(day), data.PERIOD_START[period], caps, "seed")

    def _insert_schedule(self, db, sid, doctor_code, dept_code, day, period, release, start, caps,
                         source, stopped=False, fee=None) -> list[str]:
        times = data.slot_times(day, start, len(caps))
        cur = db.execute(
            "INSERT OR IGNORE INTO schedules (id, doctor_code, dept_code, date, period, release_at,"
            " start_at, stopped, source, fee_fen) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (sid, doctor_code, dept_code, day.isoformat(), period, release.isoformat(),
             times[0][0].isoformat(), int(stopped), source, fee))
        slot_ids = [data.slot_id(sid, i) for i in range(len(caps))]
        if cur.rowcount:
            db.executemany(
                "INSERT INTO slots (id, schedule_id, idx, start_at, end_at, capacity) VALUES (?,?,?,?,?,?)",
                [(slot_ids[i], sid, i, s.isoformat(), e.isoformat(), caps[i])
                 for i, (s, e) in enumerate(times)])
        return slot_ids

    def add_schedule(self, doctor_code: str, day: dt.date, period: str, capacity: int,
                     release: dt.datetime | None = None, start: dt.time | None = None,
                     slot_count: int | None = None, dept_code: str | None = None,
                     stopped: bool = False, fee: int | None = None) -> tuple[str, list[str]]:
        """Add an extra session (control API); capacity is spread over the slots; fee in fen (0 allowed,
        None: the doctor's usual fee)."""
        doc = data.DOCTOR_BY_CODE.get(doctor_code)
        if doc is None or period not in data.PERIOD_START:
            raise ValueError("unknown doctor or period")
        if fee is not None and (isinstance(fee, bool) or not isinstance(fee, int) or fee < 0):
            raise ValueError("fee must be a whole number of fen, 0 or more")
        count = slot_count or max(1, min(data.PERIOD_SLOTS[period], capacity))
        caps = data.spread(capacity, count)
        release = release or data.release_at(day)
        start = start or data.PERIOD_START[period]
        dept = dept_code if dept_code in data.DEPT_BY_CODE else doc.dept
        self.ensure_window()

        def insert(db):
            n = db.execute("SELECT COUNT(*) FROM schedules WHERE source='control'").fetchone()[0]
            sid = data.schedule_id(doc.code, day, period, extra=n + 1)
            return sid, self._insert_schedule(db, sid, doc.code, dept, day, period, release, start,
                                              caps, "control", stopped, fee)
        return self.write(insert)

    def schedules(self, dept: str = "", doctor: str = "", begin: str = "", end: str = "") -> list[dict]:
        """Schedules matching the filters (from today unless begin is given), with totals and status."""
        self.ensure_window()
        begin = begin or self.now().date().isoformat()
        sql = ("SELECT s.*, SUM(t.capacity) AS total, SUM(t.capacity - t.used) AS left_num"
               " FROM schedules s JOIN slots t ON t.schedule_id = s.id WHERE 1=1")
        args: list[str] = []
        for cond, value in (("s.dept_code = ?", dept), ("s.doctor_code = ?", doctor),
                            ("s.date >= ?", begin), ("s.date <= ?", end)):
            if value:
                sql += f" AND {cond}"
                args.append(value)
        sql += " GROUP BY s.id ORDER BY s.date, s.dept_code, s.doctor_code, s.start_at"
        return [self._schedule_dict(r) for r in self.rows(sql, *args)]

    def schedule(self, sid: str) -> dict:
        """One schedule by id; BizError NOT_FOUND when unknown."""
        self.ensure_window()
        row = self.row("SELECT s.*, SUM(t.capacity) AS total, SUM(t.capacity - t.used) AS left_num"
                       " FROM schedules s JOIN slots t ON t.schedule_id = s.id WHERE s.id = ?"
                       " GROUP BY s.id", sid)
        if row is None:
            raise BizError(NOT_FOUND, "排班记录不存在")
        return self._schedule_dict(row)

    def _schedule_dict(self, row: sqlite3.Row) -> dict:
        item = dict(row)
        released = self.now() >= dt.datetime.fromisoformat(item["release_at"])
        if not released:
            item["status"] = "0"
        elif item["stopped"]:
            item["status"] = "2"
        else:
            item["status"] = "1" if item["left_num"] > 0 else "3"
        return item

    def slots(self, sid: str) -> list[dict]:
        """The time points of a schedule; BizError NOT_FOUND when unknown."""
        self.schedule(sid)
        return [dict(r) for r in self.rows("SELECT * FROM slots WHERE schedule_id = ? ORDER BY idx", sid)]

    def stats(self) -> dict:
        """Counts of live records."""
        q = {"locks": "SELECT COUNT(*) FROM locks WHERE status = 'held'",
             "registrations": "SELECT COUNT(*) FROM registrations WHERE status != 'cancelled'",
             "cancellations": "SELECT COUNT(*) FROM registrations WHERE status = 'cancelled'",
             "patients": "SELECT COUNT(*) FROM patients WHERE source != 'seed'"}
        return {key: self.row(sql)[0] for key, sql in q.items()}
