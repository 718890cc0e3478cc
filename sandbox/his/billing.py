"""Outpatient fees of the sandbox HIS: pending bills, their settlement, the daily payments report.

A bill (待缴费单) is ``pending`` until it is settled through the interface (门诊缴费结算, keyed by
the payer's OutOrderNo so a retry answers the same settlement), paid at the hospital's window
(control API), or cancelled by the doctor (作废). The daily report (日结对账) lists what this
interface took and gave back: paid registrations, their refunds on cancellation, and settlements.
Money is kept in fen here; :mod:`sandbox.his.handlers` writes it as yuan.
"""
from __future__ import annotations

import datetime as dt
import sqlite3

from sandbox.his import booking, data
from sandbox.his.store import (
    BAD_REQUEST,
    BILL_CHANGED,
    BILL_NOT_REFUNDABLE,
    BILL_PAID,
    NOT_FOUND,
    PATIENT_INVALID,
    BizError,
    Store,
)

# 费用类别 a bill's title implies, when it comes without items.
CATEGORIES = (("西药", "西药费"), ("中成药", "中成药费"), ("中草药", "中草药费"), ("检验", "化验费"),
              ("检查", "检查费"), ("治疗", "治疗费"), ("材料", "材料费"))


def bill_no(seq: int) -> str:
    """Bill number shown to the outside."""
    return f"FY{seq:08d}"


def _bill_seq(number: str) -> int | None:
    return int(number[2:]) if number.startswith("FY") and number[2:].isdigit() else None


def default_item(title: str, amount_fen: int) -> dict:
    """The one fee line a bill added without items stands for: "检验：血常规" -> 血常规 化验费."""
    name = title.split("：", 1)[-1].strip() or title
    category = next((c for key, c in CATEGORIES if key in title), "其他费")
    return {"name": name, "category": category, "quantity": "1次", "amount": amount_fen}


def _fen(value) -> bool:
    """True for a positive integer amount (JSON true is not money)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _ordering_visit(db: sqlite3.Connection, patient_id: str) -> tuple[str, str]:
    """(department, doctor) of the patient's latest registration: the visit whose orders made the bill."""
    row = db.execute("SELECT s.dept_code, s.doctor_code FROM registrations r JOIN schedules s"
                     " ON s.id = r.schedule_id WHERE r.patient_id = ? ORDER BY r.seq DESC", (patient_id,)).fetchone()
    if row is None:
        return "门诊部", ""
    return data.DEPT_BY_CODE[row["dept_code"]].name, data.DOCTOR_BY_CODE[row["doctor_code"]].name


def add_bill(store: Store, patient_id: str, title: str, amount_fen: int, items: list[dict] | None = None,
             department: str = "", doctor_name: str = "") -> str:
    """Add a pending fee (control API); items are dicts of name, amount (fen), quantity, category."""
    if not title or not _fen(amount_fen):
        raise ValueError("title and a positive integer amount (fen) are required")
    if not isinstance(items or [], list) or not all(isinstance(i, dict) for i in items or []):
        raise ValueError("items must be a list of objects")
    lines = [dict(default_item(title, amount_fen), **{k: v for k, v in i.items() if v not in (None, "")})
             for i in (items or [{}])]
    if not all(_fen(i["amount"]) for i in lines):
        raise ValueError("item amounts are positive integers (fen)")
    if sum(i["amount"] for i in lines) != amount_fen:
        raise ValueError("amount must be the sum of the items")

    def run(db):
        if not db.execute("SELECT 1 FROM patients WHERE seq = ?", (patient_id,)).fetchone():
            raise BizError(PATIENT_INVALID, "患者档案不存在")
        dept, doctor = _ordering_visit(db, patient_id)
        seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM bills").fetchone()[0]
        db.execute("INSERT INTO bills (seq, patient_id, title, dept_name, doctor_name, amount_fen, status,"
                   " created_at) VALUES (?,?,?,?,?,?,?,?)", (seq, patient_id, title, department or dept,
                                                            doctor_name or doctor, amount_fen, "pending",
                                                            store.now().isoformat()))
        db.executemany("INSERT INTO bill_items VALUES (?,?,?,?,?,?)",
                       [(seq, n, str(i["name"]), str(i["category"]), str(i["quantity"]), i["amount"])
                        for n, i in enumerate(lines)])
        return bill_no(seq)
    return store.write(run)


def _bill_dict(db: sqlite3.Connection, row: sqlite3.Row) -> dict:
    items = db.execute("SELECT * FROM bill_items WHERE bill_seq = ? ORDER BY idx", (row["seq"],)).fetchall()
    return {**dict(row), "id": bill_no(row["seq"]), "items": [dict(i) for i in items]}


def pending_bills(store: Store, patient_id: str) -> list[dict]:
    """A patient's pending bills with their items, oldest first; BizError PATIENT_INVALID when unknown."""
    with store.lock:
        if not store.row("SELECT 1 FROM patients WHERE seq = ?", patient_id):
            raise BizError(PATIENT_INVALID, "患者档案不存在")
        rows = store.rows("SELECT * FROM bills WHERE patient_id = ? AND status = 'pending' ORDER BY seq", patient_id)
        return [_bill_dict(store.db, r) for r in rows]


def all_bills(store: Store, patient_id: str = "") -> list[dict]:
    """Every bill (control API), of one patient when given."""
    with store.lock:
        rows = store.rows("SELECT * FROM bills WHERE ? = '' OR patient_id = ? ORDER BY seq", patient_id, patient_id)
        return [_bill_dict(store.db, r) for r in rows]


def _payable(db: sqlite3.Connection, patient_id: str, numbers: list[str], amount_fen: int) -> None:
    rows = [db.execute("SELECT * FROM bills WHERE seq = ?", (_bill_seq(n),)).fetchone() for n in numbers]
    if any(r is None or r["patient_id"] != patient_id for r in rows):
        raise BizError(NOT_FOUND, "缴费单不存在")
    if any(r["status"] == "paid" for r in rows):
        raise BizError(BILL_PAID, "缴费单已缴费，请勿重复缴费")
    if any(r["status"] == "cancelled" for r in rows) or sum(r["amount_fen"] for r in rows) != amount_fen:
        raise BizError(BILL_CHANGED, "缴费单已变更，请刷新后重新缴费")


def settle(store: Store, order_no: str, patient_id: str, numbers: list[str], trade_no: str, amount_fen: int) -> dict:
    """Settle bills paid by trade_no (门诊缴费结算); the same OutOrderNo again answers the same settlement."""
    numbers = list(dict.fromkeys(numbers))
    if not (order_no and patient_id and numbers and trade_no):
        raise BizError(BAD_REQUEST, "缺少必填参数")

    def run(db):
        done = db.execute("SELECT * FROM settlements WHERE out_order_no = ?", (order_no,)).fetchone()
        if done:
            return settlement_dict(done)
        _payable(db, patient_id, numbers, amount_fen)
        now = store.now()
        seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM settlements").fetchone()[0]
        db.execute("INSERT INTO settlements VALUES (?,?,?,?,?,?,?,?)",
                   (seq, order_no, patient_id, ",".join(numbers), amount_fen, trade_no,
                    f"MZ{now:%Y%m%d}{seq:06d}", now.isoformat()))
        db.executemany("UPDATE bills SET status = 'paid', paid_at = ?, pay_channel = 'interface' WHERE seq = ?",
                       [(now.isoformat(), _bill_seq(n)) for n in numbers])
        return settlement_dict(db.execute("SELECT * FROM settlements WHERE seq = ?", (seq,)).fetchone())
    return store.write(run)


def settlement_dict(row: sqlite3.Row) -> dict:
    """A settlement row with its public id and bill numbers."""
    return {**dict(row), "id": f"JS{row['seq']:08d}", "bill_nos": row["bill_nos"].split(",")}


def query_settlement(store: Store, order_no: str) -> dict:
    """The settlement committed for an OutOrderNo (compensation query)."""
    row = store.row("SELECT * FROM settlements WHERE out_order_no = ?", order_no)
    if row is None:
        raise BizError(NOT_FOUND, "未查询到缴费结算记录")
    return settlement_dict(row)


def set_bill_status(store: Store, number: str, status: str) -> None:
    """Pay a pending bill at the window (``paid``) or withdraw it (``cancelled``) (control API)."""
    def run(db):
        row = db.execute("SELECT status FROM bills WHERE seq = ?", (_bill_seq(number),)).fetchone()
        if row is None:
            raise BizError(NOT_FOUND, "缴费单不存在")
        if row["status"] != "pending":
            raise BizError(BILL_PAID if row["status"] == "paid" else BILL_CHANGED, "缴费单不是待缴费状态")
        db.execute("UPDATE bills SET status = ?, paid_at = ?, pay_channel = ? WHERE seq = ?",
                   (status, store.now().isoformat() if status == "paid" else None,
                    "window" if status == "paid" else None, _bill_seq(number)))
    store.write(run)


# -- 退费 (refund_bill) ------------------------------------------------------------------------


def execute_bill(store: Store, number: str) -> None:
    """The medicine was dispensed or the test done (已发药/已执行): a paid bill can no longer be refunded."""
    def run(db):
        row = db.execute("SELECT status FROM bills WHERE seq = ?", (_bill_seq(number),)).fetchone()
        if row is None:
            raise BizError(NOT_FOUND, "缴费单不存在")
        if row["status"] != "paid":
            raise BizError(BILL_NOT_REFUNDABLE, "缴费单未缴费，不能执行")
        db.execute("UPDATE bills SET status = 'executed' WHERE seq = ?", (_bill_seq(number),))
    store.write(run)


def refund(store: Store, out_refund_no: str, settle_id: str, numbers: list[str], reason: str) -> dict:
    """Refund (退费) settled bills of one settlement; the same OutRefundNo again answers the same refund."""
    numbers = list(dict.fromkeys(numbers))
    seq = int(settle_id[2:]) if settle_id.startswith("JS") and settle_id[2:].isdigit() else None
    if not (out_refund_no and settle_id and numbers):
        raise BizError(BAD_REQUEST, "缺少必填参数")

    def run(db):
        done = db.execute("SELECT * FROM bill_refunds WHERE out_refund_no = ?", (out_refund_no,)).fetchone()
        if done:
            return refund_dict(done)
        settlement = db.execute("SELECT * FROM settlements WHERE seq = ?", (seq,)).fetchone()
        if settlement is None or any(n not in settlement["bill_nos"].split(",") for n in numbers):
            raise BizError(NOT_FOUND, "结算记录或缴费单不存在")
        rows = [db.execute("SELECT * FROM bills WHERE seq = ?", (_bill_seq(n),)).fetchone() for n in numbers]
        if any(r["status"] != "paid" for r in rows):
            raise BizError(BILL_NOT_REFUNDABLE, "缴费单已发药、已执行或已退费，不能退费")
        db.executemany("UPDATE bills SET status = 'refunded' WHERE seq = ?", [(r["seq"],) for r in rows])
        number = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM bill_refunds").fetchone()[0]
        db.execute("INSERT INTO bill_refunds VALUES (?,?,?,?,?,?,?,?)",
                   (number, out_refund_no, seq, ",".join(numbers), sum(r["amount_fen"] for r in rows),
                    settlement["trade_no"], reason, store.now().isoformat()))
        return refund_dict(db.execute("SELECT * FROM bill_refunds WHERE seq = ?", (number,)).fetchone())
    return store.write(run)


def refund_dict(row: sqlite3.Row) -> dict:
    """A bill refund row with its public ids and bill numbers."""
    return {**dict(row), "id": f"TF{row['seq']:08d}", "settle_id": f"JS{row['settlement_seq']:08d}",
            "bill_nos": row["bill_nos"].split(",")}


def payment_records(store: Store, day: dt.date) -> list[dict]:
    """What this interface took (and gave back) on a day, in time order (日结对账)."""
    date = day.isoformat()
    regs = store.rows("SELECT * FROM registrations WHERE trade_no != '' AND paid_fen > 0 AND"
                      " (substr(created_at, 1, 10) = ? OR substr(cancelled_at, 1, 10) = ?)", date, date)
    found = []
    for r in regs:
        rid = booking.reg_id(r["seq"])
        if r["created_at"][:10] == date:
            found.append({"kind": "registration", "id": rid, "trade_no": r["trade_no"], "amount": r["paid_fen"],
                          "at": r["created_at"], "status": "paid"})
        if r["status"] == "cancelled" and (r["cancelled_at"] or "")[:10] == date:
            found.append({"kind": "registration", "id": rid, "trade_no": r["trade_no"], "amount": -r["paid_fen"],
                          "at": r["cancelled_at"], "status": "refunded"})
    for s in store.rows("SELECT * FROM settlements WHERE substr(created_at, 1, 10) = ?", date):
        found.append({"kind": "bills", "id": f"JS{s['seq']:08d}", "trade_no": s["trade_no"],
                      "amount": s["amount_fen"], "at": s["created_at"], "status": "paid"})
    for r in store.rows("SELECT * FROM bill_refunds WHERE substr(created_at, 1, 10) = ?", date):  # 退费
        found.append({"kind": "bills", "id": f"JS{r['settlement_seq']:08d}", "trade_no": r["trade_no"],
                      "amount": -r["amount_fen"], "at": r["created_at"], "status": "refunded"})
    return sorted(found, key=lambda f: dt.datetime.fromisoformat(f["at"]))
