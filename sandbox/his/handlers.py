"""Transaction codes of the sandbox HIS: the XML string in, the XML string out.

Request: ``<Request><Field>value</Field>...</Request>``, a list as repeated children
(``<BillNos><BillNo>…</BillNo><BillNo>…</BillNo></BillNos>``). Reply:
``<Response><ResultCode>0</ResultCode><ResultMsg>成功</ResultMsg>...</Response>``; money in
yuan with two decimals, dates ``yyyy-MM-dd``, times ``yyyy-MM-dd HH:mm:ss`` (Beijing time).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from lxml import etree

from sandbox.his import billing, booking, data
from sandbox.his.soap import parse_xml
from sandbox.his.store import BAD_REQUEST, NOT_FOUND, OK, UNKNOWN_CODE, BizError, Store

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REG_STATUS = {"registered": "1", "checked_in": "2", "cancelled": "3"}
BIZ_TYPES = {"registration": "1", "bills": "2"}  # 业务类型: 1 挂号, 2 门诊缴费
TRADE_STATUS = {"paid": "1", "refunded": "2"}  # 交易状态: 1 已收费, 2 已退费


def yuan(fen: int | Decimal) -> str:
    """Fen as a yuan string with two decimals."""
    return f"{Decimal(fen) / 100:.2f}"


def _fen(text: str, name: str) -> int:
    """A yuan amount of the request in fen; more than two decimals is a malformed amount."""
    try:
        amount = Decimal(text) * 100
    except InvalidOperation as exc:
        raise BizError(BAD_REQUEST, f"{name}金额格式不正确") from exc
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise BizError(BAD_REQUEST, f"{name}金额格式不正确")
    return int(amount)


def his_time(iso: str) -> str:
    """An ISO datetime as the HIS writes it (yyyy-MM-dd HH:mm:ss, Beijing time)."""
    return dt.datetime.fromisoformat(iso).astimezone(data.TZ).strftime("%Y-%m-%d %H:%M:%S")


def add(parent: etree._Element, fields: dict, tag: str | None = None) -> etree._Element:
    """Append fields as child elements (under a new element tag when given)."""
    node = etree.SubElement(parent, tag) if tag else parent
    for name, value in fields.items():
        etree.SubElement(node, name).text = "" if value is None else str(value)
    return node


class Request(dict):
    """The request's fields as texts by element name; ``texts`` reads a repeated child list."""

    def __init__(self, root: etree._Element):
        super().__init__({c.tag: (c.text or "").strip() for c in root if isinstance(c.tag, str)})
        self.root = root

    def texts(self, path: str) -> list[str]:
        """Texts of the elements at path, e.g. ``BillNos/BillNo``."""
        return [(n.text or "").strip() for n in self.root.findall(path)]


def _date(req: dict, name: str) -> str:
    value = req.get(name, "")
    if value and not DATE_RE.match(value):
        raise BizError(BAD_REQUEST, f"{name}日期格式应为yyyy-MM-dd")
    return value


def _need(req: dict, *names: str) -> list[str]:
    missing = [n for n in names if not req.get(n)]
    if missing:
        raise BizError(BAD_REQUEST, f"缺少必填参数：{','.join(missing)}")
    return [req[n] for n in names]


def heartbeat(store: Store, req: dict, out: etree._Element) -> None:
    """0000 心跳."""
    add(out, {"ServerTime": store.now().strftime("%Y-%m-%d %H:%M:%S")})


def departments(store: Store, req: dict, out: etree._Element) -> None:
    """1001 科室查询."""
    parent = req.get("ParentDeptCode", "")
    node = etree.SubElement(out, "Depts")
    for d in data.DEPARTMENTS:
        if not parent or d.parent == parent:
            add(node, {"DeptCode": d.code, "DeptName": d.name, "ParentDeptCode": d.parent,
                       "DeptLevel": 2 if d.parent else 1, "DeptIntro": d.intro, "Address": d.location},
                "Dept")


def doctors(store: Store, req: dict, out: etree._Element) -> None:
    """1002 医生查询."""
    dept = req.get("DeptCode", "")
    node = etree.SubElement(out, "Doctors")
    for doc in data.DOCTORS:
        if not dept or doc.dept == dept:
            reg, treat = data.fee_of(doc.title)
            add(node, {"DoctorCode": doc.code, "DoctorName": doc.name, "DoctorTitle": doc.title,
                       "DeptCode": doc.dept, "DeptName": data.DEPT_BY_CODE[doc.dept].name,
                       "Expertise": doc.specialty, "DoctorIntro": doc.intro,
                       "RegFee": reg, "TreatFee": treat}, "Doctor")


def _schedule_fields(s: dict) -> dict:
    doc = data.DOCTOR_BY_CODE[s["doctor_code"]]
    reg, treat = data.fee_of(doc.title)
    if s.get("fee_fen") is not None:  # a session with a fee of its own: all of it is the registration fee
        reg, treat = (Decimal(s["fee_fen"]) / 100).quantize(Decimal("0.01")), Decimal("0.00")
    return {"ScheduleID": s["id"], "DeptCode": s["dept_code"], "DeptName": data.DEPT_BY_CODE[s["dept_code"]].name,
            "DoctorCode": doc.code, "DoctorName": doc.name, "DoctorTitle": doc.title,
            "ClinicDate": s["date"], "TimeFlag": data.PERIOD_FLAGS[s["period"]],
            "TimeFlagName": data.PERIOD_NAMES[s["period"]], "RegFee": reg, "TreatFee": treat,
            "TotalFee": reg + treat, "TotalNum": s["total"], "LeftNum": s["left_num"],
            "ScheduleStatus": s["status"], "ReleaseTime": his_time(s["release_at"])}


def schedules(store: Store, req: dict, out: etree._Element) -> None:
    """1003 排班查询."""
    rows = store.schedules(req.get("DeptCode", ""), req.get("DoctorCode", ""),
                           _date(req, "BeginDate"), _date(req, "EndDate"))
    node = etree.SubElement(out, "Schedules")
    for s in rows:
        add(node, _schedule_fields(s), "Schedule")


def schedule(store: Store, req: dict, out: etree._Element) -> None:
    """1005 单个排班查询."""
    (sid,) = _need(req, "ScheduleID")
    add(out, _schedule_fields(store.schedule(sid)), "Schedule")


def time_points(store: Store, req: dict, out: etree._Element) -> None:
    """1004 分时段号源查询."""
    (sid,) = _need(req, "ScheduleID")
    node = etree.SubElement(out, "TimePoints")
    for t in store.slots(sid):
        add(node, {"TimePointID": t["id"], "ScheduleID": sid, "BeginTime": his_time(t["start_at"]),
                   "EndTime": his_time(t["end_at"]), "TotalNum": t["capacity"],
                   "LeftNum": t["capacity"] - t["used"]}, "TimePoint")


def create_patient(store: Store, req: dict, out: etree._Element) -> None:
    """2001 建档."""
    p = booking.create_patient(store, {
        "name": req.get("PatientName", ""), "id_type": req.get("IDCardType", ""),
        "id_number": req.get("IDCardNo", ""), "phone": req.get("Phone", ""),
        "sex": req.get("Sex", ""), "birthday": _date(req, "Birthday")})
    add(out, {"PatientID": p["patient_id"], "PatientName": p["name"], "IsNew": int(p["is_new"])})


def find_patient(store: Store, req: dict, out: etree._Element) -> None:
    """2000 患者档案查询: the record of an ID number with the phone on file; 101 when there is none."""
    (id_no,) = _need(req, "IDCardNo")
    p = store.find_patient(id_no)
    if p is None:
        raise BizError(NOT_FOUND, "患者档案不存在")
    add(out, {"PatientID": p["patient_id"], "PatientName": p["name"], "Phone": p["phone"]})


def lock(store: Store, req: dict, out: etree._Element) -> None:
    """2002 锁号."""
    order_no, pid, sid, tid = _need(req, "OutOrderNo", "PatientID", "ScheduleID", "TimePointID")
    lk = booking.lock(store, order_no, pid, sid, tid)
    add(out, {"LockID": lk["lock_id"], "OutOrderNo": order_no, "ScheduleID": lk["schedule_id"],
              "TimePointID": lk["slot_id"], "VisitNo": lk["visit_no"], "TotalFee": yuan(lk["fee_fen"])})


def unlock(store: Store, req: dict, out: etree._Element) -> None:
    """2003 解锁."""
    (order_no,) = _need(req, "OutOrderNo")
    booking.unlock(store, order_no)


def _reg_fields(r: dict) -> dict:
    return {"RegID": r["id"], "OutOrderNo": r["out_order_no"], "PatientID": r["patient_id"],
            "ScheduleID": r["schedule_id"], "TimePointID": r["slot_id"], "VisitNo": r["visit_no"],
            "TotalFee": yuan(r["fee_fen"]), "RegStatus": REG_STATUS[r["status"]],
            "TradeNo": r["trade_no"] or ""}


def confirm(store: Store, req: dict, out: etree._Element) -> None:
    """2004 挂号确认 (with the payment's trade number)."""
    (order_no,) = _need(req, "OutOrderNo")
    paid = _fen(req["PayFee"], "PayFee") if req.get("PayFee") else None
    add(out, _reg_fields(booking.confirm(store, order_no, req.get("TradeNo", ""), paid)))


def query(store: Store, req: dict, out: etree._Element) -> None:
    """2005 挂号结果查询 by OutOrderNo (compensation)."""
    (order_no,) = _need(req, "OutOrderNo")
    add(out, _reg_fields(booking.query(store, order_no)))


def cancel(store: Store, req: dict, out: etree._Element) -> None:
    """2006 退号."""
    (rid,) = _need(req, "RegID")
    r = booking.cancel(store, rid, req.get("CancelReason", ""))
    add(out, {"RegID": rid, "RefundFee": yuan(r["paid_fen"] or 0)})


def check_in(store: Store, req: dict, out: etree._Element) -> None:
    """3001 签到."""
    (rid,) = _need(req, "RegID")
    c = booking.check_in(store, rid)
    add(out, {"RegID": rid, "QueueNo": c["queue_no"], "ClinicAddress": c["location"]})


def queue(store: Store, req: dict, out: etree._Element) -> None:
    """3002 候诊排队查询."""
    (rid,) = _need(req, "RegID")
    q = booking.queue(store, rid)
    add(out, {"RegID": rid, "QueueNo": q["queue_no"], "CurrentNo": q["current_no"],
              "WaitCount": q["ahead"], "WaitMinutes": q["wait_minutes"]})


def _bill_fields(b: dict) -> dict:
    return {"BillNo": b["id"], "BillName": b["title"], "PatientID": b["patient_id"], "DeptName": b["dept_name"],
            "DoctorName": b["doctor_name"], "BillFee": yuan(b["amount_fen"]), "BillTime": his_time(b["created_at"])}


def pending_bills(store: Store, req: dict, out: etree._Element) -> None:
    """4001 待缴费查询."""
    (pid,) = _need(req, "PatientID")
    node = etree.SubElement(out, "Bills")
    for b in billing.pending_bills(store, pid):
        details = etree.SubElement(add(node, _bill_fields(b), "Bill"), "Details")
        for item in b["items"]:
            add(details, {"ItemName": item["name"], "ItemType": item["category"], "Quantity": item["quantity"],
                          "Fee": yuan(item["amount_fen"])}, "Detail")


def _settlement(out: etree._Element, s: dict) -> None:
    add(out, {"SettleID": s["id"], "OutOrderNo": s["out_order_no"], "PatientID": s["patient_id"],
              "TotalFee": yuan(s["amount_fen"]), "ReceiptNo": s["receipt_no"], "TradeNo": s["trade_no"],
              "SettleTime": his_time(s["created_at"])})
    numbers = etree.SubElement(out, "BillNos")
    for number in s["bill_nos"]:
        etree.SubElement(numbers, "BillNo").text = number


def settle(store: Store, req: Request, out: etree._Element) -> None:
    """4002 门诊缴费结算 (OutOrderNo = the payer's request id; same again = same settlement)."""
    order_no, pid, trade_no, fee = _need(req, "OutOrderNo", "PatientID", "TradeNo", "PayFee")
    numbers = [n for n in req.texts("BillNos/BillNo") if n]
    _settlement(out, billing.settle(store, order_no, pid, numbers, trade_no, _fen(fee, "PayFee")))


def query_settlement(store: Store, req: dict, out: etree._Element) -> None:
    """4003 缴费结算查询 by OutOrderNo (compensation)."""
    (order_no,) = _need(req, "OutOrderNo")
    _settlement(out, billing.query_settlement(store, order_no))


def refund_bills(store: Store, req: Request, out: etree._Element) -> None:
    """4004 门诊退费 (OutRefundNo = the refunder's request id; same again = same refund)."""
    refund_no, settle_id = _need(req, "OutRefundNo", "SettleID")
    numbers = [n for n in req.texts("BillNos/BillNo") if n]
    r = billing.refund(store, refund_no, settle_id, numbers, req.get("RefundReason", ""))
    add(out, {"RefundID": r["id"], "OutRefundNo": r["out_refund_no"], "SettleID": r["settle_id"],
              "RefundFee": yuan(r["amount_fen"]), "TradeNo": r["trade_no"], "RefundTime": his_time(r["created_at"])})
    node = etree.SubElement(out, "BillNos")
    for number in r["bill_nos"]:
        etree.SubElement(node, "BillNo").text = number


def payment_records(store: Store, req: dict, out: etree._Element) -> None:
    """5001 对账明细查询 (one day of this interface's payments and refunds)."""
    (day,) = _need(req, "TradeDate")
    _date(req, "TradeDate")
    node = etree.SubElement(out, "Records")
    for r in billing.payment_records(store, dt.date.fromisoformat(day)):
        add(node, {"BizType": BIZ_TYPES[r["kind"]], "BizID": r["id"], "TradeNo": r["trade_no"],
                   "Fee": yuan(r["amount"]), "TradeTime": his_time(r["at"]),
                   "TradeStatus": TRADE_STATUS[r["status"]]}, "Record")


HANDLERS: dict[str, Callable[[Store, dict, etree._Element], None]] = {
    "0000": heartbeat, "1001": departments, "1002": doctors, "1003": schedules,
    "1004": time_points, "1005": schedule, "2000": find_patient, "2001": create_patient, "2002": lock,
    "2003": unlock, "2004": confirm, "2005": query, "2006": cancel, "3001": check_in,
    "3002": queue, "4001": pending_bills, "4002": settle, "4003": query_settlement, "5001": payment_records,
    "4004": refund_bills,  # 退费
}


def result(code: str, message: str) -> etree._Element:
    """A Response element with its result code and message."""
    root = etree.Element("Response")
    add(root, {"ResultCode": code, "ResultMsg": message})
    return root


def handle(store: Store, code: str, xml_text: str) -> str:
    """Run one transaction and answer the reply XML as a string."""
    fn = HANDLERS.get(code)
    if fn is None:
        out = result(UNKNOWN_CODE, f"交易代码{code}不存在")
    else:
        out = _run(store, fn, xml_text)
    return etree.tostring(out, encoding="unicode")


def _run(store: Store, fn, xml_text: str) -> etree._Element:
    try:
        root = parse_xml(xml_text) if xml_text.strip() else etree.Element("Request")
    except (etree.XMLSyntaxError, ValueError):
        return result(BAD_REQUEST, "入参报文解析失败")
    req = Request(root)
    out = result(OK, "成功")
    try:
        fn(store, req, out)
    except BizError as exc:
        return result(exc.code, exc.message)
    return out
