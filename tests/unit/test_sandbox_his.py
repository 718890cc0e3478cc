"""Sandbox HIS: SOAP handling, control API and time rules, through the Flask test client."""
from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from sandbox.his import create_app

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "http://tempuri.org/"
TZ = dt.timezone(dt.timedelta(hours=8))
ID_NO = "110101199003071234"


class Clock:
    """A settable clock for create_app(clock=...)."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime.now(TZ).replace(hour=10, minute=0, second=0, microsecond=0))


@pytest.fixture
def client(clock, tmp_path):
    return create_app(str(tmp_path / "his.sqlite3"), clock=clock).test_client()


def envelope(code: str, xml: str) -> bytes:
    """A SOAP Invoke request built with lxml."""
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    call = etree.SubElement(etree.SubElement(env, f"{{{SOAP_ENV}}}Body"), f"{{{TNS}}}Invoke", nsmap={None: TNS})
    etree.SubElement(call, f"{{{TNS}}}code").text = code
    etree.SubElement(call, f"{{{TNS}}}xml").text = xml
    return etree.tostring(env)


def invoke(client, code: str, **fields) -> etree._Element:
    """Call a transaction and answer the inner <Response> element."""
    req = etree.Element("Request")
    for name, value in fields.items():
        etree.SubElement(req, name).text = str(value)
    resp = client.post("/his/ws", data=envelope(code, etree.tostring(req, encoding="unicode")),
                       content_type="text/xml; charset=utf-8")
    assert resp.status_code == 200
    result = etree.fromstring(resp.data).findtext(f".//{{{TNS}}}InvokeResult")
    return etree.fromstring(result.encode())


def patient(client, n: int) -> str:
    reply = invoke(client, "2001", PatientName=f"患者{n}", IDCardType="01", IDCardNo=f"11010119900101{n:04d}", Sex="1")
    return reply.findtext("PatientID")


def control_schedule(client, **extra) -> dict:
    body = {"department_code": "0101", "doctor_code": "D010101", "period": "am", "capacity": 5, "slot_count": 2,
            "date": (dt.date.today() + dt.timedelta(days=1)).isoformat(), **extra}
    resp = client.post("/_control/schedules", json=body)
    assert resp.status_code == 201, resp.json
    return resp.json


def test_wsdl_carries_the_servers_address(client):
    resp = client.get("/his/ws?wsdl")
    assert resp.status_code == 200 and b'location="http://localhost/his/ws"' in resp.data


def test_stats_count_live_records(client):
    sched = control_schedule(client)
    p1, p2 = patient(client, 1), patient(client, 2)
    for order, pid in (("o1", p1), ("o2", p2)):
        reply = invoke(client, "2002", OutOrderNo=order, PatientID=pid, ScheduleID=sched["schedule_id"],
                       TimePointID=sched["slot_ids"][0])
        assert reply.findtext("ResultCode") == "0" and reply.findtext("TotalFee") == "50.00"
    reg = invoke(client, "2004", OutOrderNo="o1", TradeNo="T1", PayFee="50.00")
    assert client.get("/_control/stats").json == {"locks": 1, "registrations": 1, "cancellations": 0, "patients": 2}
    invoke(client, "2006", RegID=reg.findtext("RegID"), CancelReason="测试")
    assert client.get("/_control/stats").json == {
        "locks": 1, "registrations": 0, "cancellations": 1, "patients": 2}
    listed = client.get("/_control/registrations").json
    assert [(r["request_id"], r["patient_id"], r["status"], r["fee"]) for r in listed] == [
        ("o1", p1, "cancelled", 5000)]


def test_reset_returns_to_the_seed(client):
    sched = control_schedule(client)
    pid = patient(client, 1)
    invoke(client, "2002", OutOrderNo="o1", PatientID=pid, ScheduleID=sched["schedule_id"],
           TimePointID=sched["slot_ids"][0])
    assert client.post("/_control/faults", json={"latency_ms": 5}).json["latency_ms"] == 5
    client.post("/_control/reset")
    assert client.get("/_control/stats").json == {"locks": 0, "registrations": 0, "cancellations": 0, "patients": 0}
    assert invoke(client, "1005", ScheduleID=sched["schedule_id"]).findtext("ResultCode") == "101"
    assert client.post("/_control/faults", json={}).json == {"latency_ms": 0, "error_rate": 0.0, "down": False}


def test_control_schedule_spreads_capacity_and_honours_release(client, clock):
    release = clock() + dt.timedelta(hours=2)
    sched = control_schedule(client, capacity=5, slot_count=2, release_at=release.isoformat(), start_time="09:15")
    points = invoke(client, "1004", ScheduleID=sched["schedule_id"]).findall("TimePoints/TimePoint")
    assert [p.findtext("TotalNum") for p in points] == ["3", "2"]
    assert [p.findtext("BeginTime")[-8:] for p in points] == ["09:15:00", "09:45:00"]
    assert invoke(client, "1005", ScheduleID=sched["schedule_id"]).findtext("Schedule/ScheduleStatus") == "0"
    clock.moment = release
    assert invoke(client, "1005", ScheduleID=sched["schedule_id"]).findtext("Schedule/ScheduleStatus") == "1"


def test_release_at_seven_and_rolling_window(client, clock):
    clock.moment = clock().replace(hour=6, minute=59)
    last_day = (clock().date() + dt.timedelta(days=7)).isoformat()
    statuses = {s.findtext("ScheduleStatus") for s in
                invoke(client, "1003", BeginDate=last_day, EndDate=last_day).findall("Schedules/Schedule")}
    assert statuses == {"0"}
    clock.moment = clock().replace(hour=7, minute=0)
    assert {s.findtext("ScheduleStatus") for s in
            invoke(client, "1003", BeginDate=last_day, EndDate=last_day).findall("Schedules/Schedule")} == {"1"}
    clock.moment += dt.timedelta(days=3)
    dates = {s.findtext("ClinicDate") for s in invoke(client, "1003").findall("Schedules/Schedule")}
    assert dates == {(clock().date() + dt.timedelta(days=i)).isoformat() for i in range(8)}


def test_faults_down_and_error_rate(client):
    assert client.post("/_control/faults", json={"down": True}).json["down"] is True
    assert client.post("/his/ws", data=envelope("0000", "<Request/>")).status_code == 503
    assert client.get("/his/ws?wsdl").status_code == 503
    settings = client.post("/_control/faults", json={"down": False, "error_rate": 1}).json
    assert settings == {"latency_ms": 0, "error_rate": 1.0, "down": False}
    resp = client.post("/his/ws", data=envelope("0000", "<Request/>"))
    assert resp.status_code == 500 and b"Fault" in resp.data


def test_entities_are_never_resolved(client, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xml = (f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
           f"<Request><PatientName>&x;</PatientName><IDCardNo>{ID_NO}</IDCardNo></Request>")
    resp = client.post("/his/ws", data=envelope("2001", xml))
    assert b"TOPSECRET" not in resp.data
    assert client.get("/_control/stats").json["patients"] == 0


def test_protocol_errors(client):
    assert client.post("/his/ws", data=b"<not-soap").status_code == 500
    assert invoke(client, "8888").findtext("ResultCode") == "902"
    bad = client.post("/his/ws", data=envelope("1001", "<Request>"))
    assert b"901" in bad.data
    assert invoke(client, "1003", BeginDate="2025/01/01").findtext("ResultCode") == "901"


def test_control_validation(client):
    assert client.post("/_control/schedules", json={"doctor_code": "NOPE", "date": "2025-01-01",
                                                      "capacity": 2}).status_code == 400
    assert client.post("/_control/queue/advance", json={"schedule_id": "NOPE"}).status_code == 404


def add_bill(client, pid: str, **extra) -> str:
    resp = client.post("/_control/bills", json={"his_patient_id": pid, "title": "处方（西药）", "amount": 5680,
                                                "items": [{"name": "阿莫西林胶囊", "amount": 3680, "quantity": "2盒",
                                                           "category": "西药费"},
                                                          {"name": "布洛芬缓释胶囊", "amount": 2000}], **extra})
    assert resp.status_code == 201, resp.json
    return resp.json["bill_id"]


def settle(client, order_no: str, pid: str, bill_nos: list[str], fee: str, trade_no: str = "WX1") -> etree._Element:
    """4002 with the bill numbers as repeated <BillNo> elements, built with lxml."""
    req = etree.Element("Request")
    for name, value in (("OutOrderNo", order_no), ("PatientID", pid), ("TradeNo", trade_no), ("PayFee", fee)):
        etree.SubElement(req, name).text = value
    numbers = etree.SubElement(req, "BillNos")
    for number in bill_nos:
        etree.SubElement(numbers, "BillNo").text = number
    resp = client.post("/his/ws", data=envelope("4002", etree.tostring(req, encoding="unicode")))
    return etree.fromstring(etree.fromstring(resp.data).findtext(f".//{{{TNS}}}InvokeResult").encode())


def test_pending_bills_speak_yuan_with_their_details(client, clock):
    pid = patient(client, 1)
    drugs = add_bill(client, pid, department="呼吸内科", doctor_name="王芳")
    (bill,) = invoke(client, "4001", PatientID=pid).findall("Bills/Bill")
    assert [bill.findtext(f) for f in ("BillNo", "BillName", "DeptName", "DoctorName", "BillFee", "BillTime")] == [
        drugs, "处方（西药）", "呼吸内科", "王芳", "56.80", clock().strftime("%Y-%m-%d %H:%M:%S")]
    details = [[d.findtext(f) for f in ("ItemName", "ItemType", "Quantity", "Fee")]
               for d in bill.findall("Details/Detail")]
    assert details == [["阿莫西林胶囊", "西药费", "2盒", "36.80"], ["布洛芬缓释胶囊", "西药费", "1次", "20.00"]]
    assert invoke(client, "4001", PatientID="999").findtext("ResultCode") == "102"


def test_control_bills_validate_and_show_status(client):
    pid = patient(client, 1)
    bad_bodies = ({"amount": "56.80"}, {"amount": 56.8}, {"amount": True}, {"title": ""},
                  {"amount": 100, "items": [{"name": "维生素C片", "amount": 50}]},
                  {"items": [{"name": "阿莫西林胶囊", "amount": "36.80"}], "amount": 3680}, {"items": "阿莫西林"})
    for bad in bad_bodies:
        body = {"his_patient_id": pid, "title": "处方（西药）", "amount": 5680, **bad}
        assert client.post("/_control/bills", json=body).status_code == 400, bad
    assert client.post("/_control/bills", json={"his_patient_id": "999", "title": "检验：血常规",
                                                "amount": 2500}).status_code == 404
    paid, withdrawn = add_bill(client, pid), add_bill(client, pid)
    assert client.post(f"/_control/bills/{paid}/pay").json == {"bill_id": paid, "status": "paid"}
    assert client.post(f"/_control/bills/{paid}/pay").status_code == 409
    assert client.post(f"/_control/bills/{withdrawn}/cancel").status_code == 200
    assert client.post("/_control/bills/FY99999999/cancel").status_code == 404
    listed = client.get(f"/_control/bills?his_patient_id={pid}").json
    assert [(b["bill_id"], b["status"], b["pay_channel"], b["amount"]) for b in listed] == [
        (paid, "paid", "window", 5680), (withdrawn, "cancelled", None, 5680)]
    assert invoke(client, "4001", PatientID=pid).findall("Bills/Bill") == []


def test_settlement_on_the_wire(client, clock):
    pid = patient(client, 1)
    drugs = add_bill(client, pid)
    assert settle(client, "o1", pid, [drugs], "56.805").findtext("ResultCode") == "901"
    assert settle(client, "o1", pid, [], "56.80").findtext("ResultCode") == "901"
    assert settle(client, "o1", pid, [drugs], "56.79").findtext("ResultCode") == "502"
    done = settle(client, "o1", pid, [drugs], "56.80")
    assert [done.findtext(f) for f in ("ResultCode", "OutOrderNo", "TotalFee", "TradeNo", "SettleTime")] == [
        "0", "o1", "56.80", "WX1", clock().strftime("%Y-%m-%d %H:%M:%S")]
    assert [n.text for n in done.findall("BillNos/BillNo")] == [drugs]
    assert done.findtext("ReceiptNo").startswith(f"MZ{clock():%Y%m%d}")
    assert settle(client, "o2", pid, [drugs], "56.80").findtext("ResultCode") == "501"
    again = invoke(client, "4003", OutOrderNo="o1")
    assert again.findtext("SettleID") == done.findtext("SettleID")
    assert invoke(client, "4003", OutOrderNo="o2").findtext("ResultCode") == "101"


def test_daily_report_lists_payments_and_refunds_on_their_days(client, clock):
    sched = control_schedule(client, date=(clock().date() + dt.timedelta(days=2)).isoformat())
    p1, p2 = patient(client, 1), patient(client, 2)
    for order, pid in (("o1", p1), ("o2", p2)):
        invoke(client, "2002", OutOrderNo=order, PatientID=pid, ScheduleID=sched["schedule_id"],
               TimePointID=sched["slot_ids"][0])
    paid = invoke(client, "2004", OutOrderNo="o1", TradeNo="WX-REG", PayFee="50.00")
    at_window = invoke(client, "2004", OutOrderNo="o2")
    first_day = clock().date()
    clock.moment += dt.timedelta(days=1, hours=1)
    assert invoke(client, "2006", RegID=paid.findtext("RegID")).findtext("RefundFee") == "50.00"
    assert invoke(client, "2006", RegID=at_window.findtext("RegID")).findtext("RefundFee") == "0.00"
    settle(client, "o3", p1, [add_bill(client, p1)], "56.80", trade_no="ALI-BILL")

    def report(day: dt.date) -> list[list[str]]:
        records = invoke(client, "5001", TradeDate=day.isoformat()).findall("Records/Record")
        return [[r.findtext(f) for f in ("BizType", "BizID", "TradeNo", "Fee", "TradeStatus")] for r in records]
    assert report(first_day) == [["1", paid.findtext("RegID"), "WX-REG", "50.00", "1"]]
    assert report(clock().date()) == [["1", paid.findtext("RegID"), "WX-REG", "-50.00", "2"],
                                      ["2", "JS00000001", "ALI-BILL", "56.80", "1"]]
    assert invoke(client, "5001", TradeDate="20250101").findtext("ResultCode") == "901"


def test_reset_forgets_bills(client):
    pid = patient(client, 1)
    add_bill(client, pid)
    client.post("/_control/reset")
    assert client.get("/_control/bills").json == []
