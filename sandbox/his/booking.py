"""Booking transactions of the sandbox HIS: 建档, lock, unlock, confirm, cancel, check-in, queue.

Capacity is counted on each slot (``used`` = live locks + live registrations) and changed
only inside :meth:`Store.write`, so two concurrent locks can never both take the last place.
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3

from sandbox.his import data
from sandbox.his.store import (
    ALREADY_CANCELLED,
    BAD_REQUEST,
    CHECKIN_REFUSED,
    DUPLICATE,
    LOCK_INVALID,
    NOT_CANCELLABLE,
    NOT_FOUND,
    NOT_RELEASED,
    PATIENT_INVALID,
    SLOT_FULL,
    STOPPED,
    BizError,
    Store,
)

ID_CARD = re.compile(r"^\d{17}[\dXx]$")
FEE_MISMATCH = "206"


def fee_fen(sched: dict) -> int:
    """Total fee (挂号费 + 诊查费) of a session in fen: its own when set (0 for a free clinic), else the doctor's."""
    if sched.get("fee_fen") is not None:
        return sched["fee_fen"]
    reg, treat = data.fee_of(data.DOCTOR_BY_CODE[sched["doctor_code"]].title)
    return int((reg + treat) * 100)


def reg_id(seq: int) -> str:
    """Registration id shown to the outside."""
    return f"GH{seq:08d}"


def _reg_seq(registration_id: str) -> int:
    if not registration_id.startswith("GH") or not registration_id[2:].isdigit():
        raise BizError(NOT_FOUND, "挂号记录不存在")
    return int(registration_id[2:])


def _next(db: sqlite3.Connection, table: str, start: int) -> int:
    # table is one of our own constant names, never input
    return db.execute(f"SELECT COALESCE(MAX(seq), ?) + 1 FROM {table}", (start,)).fetchone()[0]  # noqa: S608


def create_patient(store: Store, req: dict) -> dict:
    """Find the patient by ID number or create the record (建档)."""
    name, id_type, id_no = req.get("name", ""), req.get("id_type") or "01", req.get("id_number", "")
    if not name or not id_no or (id_type == "01" and not ID_CARD.fullmatch(id_no)):
        raise BizError(PATIENT_INVALID, "患者姓名或证件号码不正确")
    if req.get("sex", "") not in ("", "0", "1", "2", "9"):
        raise BizError(PATIENT_INVALID, "性别代码不正确")

    def run(db):
        row = db.execute("SELECT seq, name FROM patients WHERE id_number = ?", (id_no.upper(),)).fetchone()
        if row:
            return {"patient_id": str(row["seq"]), "name": row["name"], "is_new": False}
        seq = _next(db, "patients", 10000000)
        db.execute("INSERT INTO patients (seq, id_type, id_number, name, phone, sex, birthday, created_at)"
                   " VALUES (?,?,?,?,?,?,?,?)",
                   (seq, id_type, id_no.upper(), name, req.get("phone", ""), req.get("sex", ""),
                    req.get("birthday", ""), store.now().isoformat()))
        return {"patient_id": str(seq), "name": name, "is_new": True}
    return store.write(run)


def _check_bookable(store: Store, db, patient_id: str, sid: str, slot_id: str, order_no: str) -> dict:
    if not db.execute("SELECT 1 FROM patients WHERE seq = ?", (patient_id,)).fetchone():
        raise BizError(PATIENT_INVALID, "患者档案不存在")
    sched = store.schedule(sid)
    if sched["status"] == "0":
        raise BizError(NOT_RELEASED, "该号源尚未到放号时间")
    if sched["status"] == "2":
        raise BizError(STOPPED, "医生停诊")
    slot = db.execute("SELECT * FROM slots WHERE id = ? AND schedule_id = ?", (slot_id, sid)).fetchone()
    if slot is None:
        raise BizError(NOT_FOUND, "分时段号源不存在")
    if slot["used"] >= slot["capacity"]:
        raise BizError(SLOT_FULL, "该时段号源已满")
    dup = db.execute(
        "SELECT 1 FROM locks WHERE patient_id = ? AND schedule_id = ? AND status = 'held' AND out_order_no != ?"
        " UNION SELECT 1 FROM registrations WHERE patient_id = ? AND schedule_id = ? AND status != 'cancelled'"
        " AND out_order_no != ?", (patient_id, sid, order_no, patient_id, sid, order_no)).fetchone()
    if dup:
        raise BizError(DUPLICATE, "该患者已挂同一医生同一时段的号")
    return sched


def _lock_dict(row) -> dict:
    return {**dict(row), "lock_id": f"SD{row['seq']:08d}"}


def lock(store: Store, order_no: str, patient_id: str, sid: str, slot_id: str) -> dict:
    """Hold one place; the same OutOrderNo again answers the same lock."""
    if not (order_no and patient_id and sid and slot_id):
        raise BizError(BAD_REQUEST, "缺少必填参数")
    store.ensure_window()

    def run(db):
        old = db.execute("SELECT * FROM locks WHERE out_order_no = ?", (order_no,)).fetchone()
        if old and old["status"] != "released":
            return _lock_dict(old)
        sched = _check_bookable(store, db, patient_id, sid, slot_id, order_no)
        visit_no = str(sched["next_visit_no"])
        db.execute("UPDATE schedules SET next_visit_no = next_visit_no + 1 WHERE id = ?", (sid,))
        db.execute("UPDATE slots SET used = used + 1 WHERE id = ?", (slot_id,))
        seq = old["seq"] if old else _next(db, "locks", 0)
        db.execute("INSERT OR REPLACE INTO locks VALUES (?,?,?,?,?,?,?,?,?)",
                   (order_no, seq, patient_id, sid, slot_id, visit_no, fee_fen(sched),
                    "held", store.now().isoformat()))
        return _lock_dict(db.execute("SELECT * FROM locks WHERE out_order_no = ?", (order_no,)).fetchone())
    return store.write(run)


def unlock(store: Store, order_no: str) -> None:
    """Release a held place; nothing happens when there is no live hold."""
    def run(db):
        row = db.execute("SELECT * FROM locks WHERE out_order_no = ? AND status = 'held'", (order_no,)).fetchone()
        if row:
            db.execute("UPDATE locks SET status = 'released' WHERE out_order_no = ?", (order_no,))
            db.execute("UPDATE slots SET used = used - 1 WHERE id = ?", (row["slot_id"],))
    store.write(run)


def confirm(store: Store, order_no: str, trade_no: str, paid_fen: int | None) -> dict:
    """Turn a hold into a registration (挂号确认); idempotent by OutOrderNo."""
    def run(db):
        reg = db.execute("SELECT * FROM registrations WHERE out_order_no = ?", (order_no,)).fetchone()
        if reg:
            return reg_dict(reg)
        held = db.execute("SELECT * FROM locks WHERE out_order_no = ?", (order_no,)).fetchone()
        if held is None:
            raise BizError(NOT_FOUND, "锁号记录不存在")
        if held["status"] != "held":
            raise BizError(LOCK_INVALID, "锁号已失效，请重新挂号")
        fee = held["fee_fen"]
        if paid_fen is not None and paid_fen != fee:
            raise BizError(FEE_MISMATCH, "支付金额与挂号费不符")
        seq = _next(db, "registrations", 0)
        db.execute("INSERT INTO registrations (seq, out_order_no, patient_id, schedule_id, slot_id, visit_no,"
                   " fee_fen, trade_no, paid_fen, status, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (seq, order_no, held["patient_id"], held["schedule_id"], held["slot_id"], held["visit_no"],
                    fee, trade_no, _paid(fee, trade_no, paid_fen), "registered",
                    store.now().isoformat()))
        db.execute("UPDATE locks SET status = 'confirmed' WHERE out_order_no = ?", (order_no,))
        return reg_dict(db.execute("SELECT * FROM registrations WHERE seq = ?", (seq,)).fetchone())
    return store.write(run)


def _paid(fee: int, trade_no: str, paid_fen: int | None) -> int:
    """What the patient paid for a registration: nothing without a trade number (paid at the window)."""
    if paid_fen is not None:
        return paid_fen
    return fee if trade_no else 0


def reg_dict(row) -> dict:
    """A registration row as a dict with its public id."""
    return {**dict(row), "id": reg_id(row["seq"])}


def query(store: Store, order_no: str) -> dict:
    """The registration committed for an OutOrderNo (compensation query)."""
    row = store.row("SELECT * FROM registrations WHERE out_order_no = ?", order_no)
    if row is None:
        raise BizError(NOT_FOUND, "未查询到挂号记录")
    return reg_dict(row)


def cancel(store: Store, registration_id: str, reason: str) -> dict:
    """Cancel (退号) a registration and free its place."""
    seq = _reg_seq(registration_id)

    def run(db):
        row = db.execute("SELECT * FROM registrations WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise BizError(NOT_FOUND, "挂号记录不存在")
        if row["status"] == "cancelled":
            raise BizError(ALREADY_CANCELLED, "该号已退")
        if row["status"] == "checked_in":
            raise BizError(NOT_CANCELLABLE, "已签到就诊，不能退号")
        db.execute("UPDATE registrations SET status = 'cancelled', cancelled_at = ?, cancel_reason = ?"
                   " WHERE seq = ?", (store.now().isoformat(), reason, seq))
        db.execute("UPDATE slots SET used = used - 1 WHERE id = ?", (row["slot_id"],))
        return reg_dict(db.execute("SELECT * FROM registrations WHERE seq = ?", (seq,)).fetchone())
    return store.write(run)


def check_in(store: Store, registration_id: str) -> dict:
    """Sign in (签到) for today's visit; the same registration keeps its queue number."""
    seq = _reg_seq(registration_id)

    def run(db):
        row = db.execute("SELECT r.*, s.date, s.dept_code FROM registrations r JOIN schedules s"
                         " ON s.id = r.schedule_id WHERE r.seq = ?", (seq,)).fetchone()
        if row is None:
            raise BizError(NOT_FOUND, "挂号记录不存在")
        if row["status"] == "cancelled" or row["date"] != store.now().date().isoformat():
            raise BizError(CHECKIN_REFUSED, "仅限就诊当日签到，已退号不能签到")
        queue_no = row["queue_no"]
        if not queue_no:
            queue_no = db.execute("SELECT next_queue_no FROM schedules WHERE id = ?",
                                  (row["schedule_id"],)).fetchone()[0]
            db.execute("UPDATE schedules SET next_queue_no = next_queue_no + 1 WHERE id = ?",
                       (row["schedule_id"],))
            db.execute("UPDATE registrations SET status = 'checked_in', queue_no = ? WHERE seq = ?",
                       (queue_no, seq))
        dept = data.DEPT_BY_CODE[row["dept_code"]]
        return {"id": registration_id, "queue_no": queue_no, "location": f"{dept.location}{dept.name}候诊区"}
    return store.write(run)


def queue(store: Store, registration_id: str) -> dict:
    """Queue position: the current number advances with time since the session start."""
    row = store.row("SELECT r.queue_no, s.start_at, s.next_queue_no, s.queue_advance FROM registrations r"
                    " JOIN schedules s ON s.id = r.schedule_id WHERE r.seq = ?", _reg_seq(registration_id))
    if row is None:
        raise BizError(NOT_FOUND, "挂号记录不存在")
    if not row["queue_no"]:
        raise BizError(CHECKIN_REFUSED, "尚未签到")
    elapsed = (store.now() - dt.datetime.fromisoformat(row["start_at"])).total_seconds() / 60
    by_time = max(0, int(elapsed // data.AVG_MINUTES_PER_PATIENT))
    current = min(row["next_queue_no"] - 1, by_time + row["queue_advance"])
    ahead = max(0, row["queue_no"] - current - 1)
    return {"queue_no": row["queue_no"], "current_no": current, "ahead": ahead,
            "wait_minutes": ahead * data.AVG_MINUTES_PER_PATIENT}


def advance_queue(store: Store, sid: str, by: int) -> None:
    """Call the next patients of a schedule (control API)."""
    store.schedule(sid)
    store.write(lambda db: db.execute("UPDATE schedules SET queue_advance = queue_advance + ? WHERE id = ?",
                                      (by, sid)))


def registrations(store: Store) -> list[dict]:
    """Every registration the HIS holds (control API)."""
    rows = store.rows("SELECT * FROM registrations ORDER BY seq")
    return [{"id": reg_id(r["seq"]), "request_id": r["out_order_no"], "patient_id": r["patient_id"],
             "schedule_id": r["schedule_id"], "slot_id": r["slot_id"], "status": r["status"],
             "fee": r["fee_fen"], "trade_no": r["trade_no"], "queue_no": r["queue_no"]} for r in rows]
