"""How the xmlws adapter builds requests and reads replies, without a server."""
import copy
import datetime as dt

import pytest
import yaml
from lxml import etree

from bff.his.adapters.xmlws import XmlWsHis
from bff.his.port import HOSPITAL_TZ, BillItem, BillSettlement, HisRejected, HisUnavailable

MAPPING_PATH = "bff/his/mappings/sandbox.yaml"
with open(MAPPING_PATH, encoding="utf-8") as _fh:
    MAPPING = yaml.safe_load(_fh)


@pytest.fixture
def his():
    return XmlWsHis.from_config(MAPPING_PATH, "http://127.0.0.1:9/unused?wsdl")


def test_replies_declaring_gbk_are_read_as_the_text_zeep_gives(his):
    reply = ('<?xml version="1.0" encoding="GBK"?>'
             "<Response><ResultCode>201</ResultCode><ResultMsg>号源已满</ResultMsg></Response>")
    with pytest.raises(HisRejected) as caught:
        his._check("lock_slot", reply)
    assert caught.value.code == "SLOT_FULL" and caught.value.message == "号源已满"


def test_garbage_and_missing_result_codes_are_unavailable_not_crashes(his):
    for reply in ("", "<not xml", "<Response><Nothing/></Response>"):
        with pytest.raises(HisUnavailable):
            his._check("lock_slot", reply)


class CannedService:
    """Stands in for the zeep service proxy: records each Invoke and answers a canned reply."""

    def __init__(self, reply: str):
        self.reply = reply
        self.sent: list[tuple[str, etree._Element]] = []

    def Invoke(self, code: str, xml: str) -> str:  # noqa: N802 -- the WSDL operation's name
        self.sent.append((code, etree.fromstring(xml)))
        return self.reply


def canned(his: XmlWsHis, reply: str) -> CannedService:
    his._service = CannedService(reply)
    return his._service


BILLS_REPLY = """<Response><ResultCode>0</ResultCode><ResultMsg>成功</ResultMsg><Bills>
  <Bill><BillNo>CF001</BillNo><BillName>处方（西药）</BillName><DeptName>呼吸内科</DeptName>
    <BillFee>56.80</BillFee><BillTime>2030-03-01 09:30:00</BillTime>
    <Details>
      <Detail><ItemName>阿莫西林胶囊</ItemName><ItemType>西药费</ItemType><Quantity>2盒</Quantity><Fee>36.80</Fee></Detail>
      <Detail><ItemName>布洛芬缓释胶囊</ItemName><Fee>20.00</Fee></Detail>
    </Details></Bill>
  <Bill><BillNo>JY002</BillNo><BillName>检验：血常规</BillName><DeptName>检验科</DeptName>
    <BillFee>25.00</BillFee><BillTime>2030-03-01 09:31:00</BillTime></Bill>
</Bills></Response>"""


def test_bills_with_nested_items_become_dataclasses(his):
    service = canned(his, BILLS_REPLY)
    drugs, blood = his.list_pending_bills("P1")
    assert service.sent[0][0] == "4001" and service.sent[0][1].findtext("PatientID") == "P1"
    assert (drugs.id, drugs.his_patient_id, drugs.amount, drugs.doctor_name) == ("CF001", "P1", 5680, "")
    assert drugs.created_at == dt.datetime(2030, 3, 1, 9, 30, tzinfo=HOSPITAL_TZ)
    assert drugs.items == (BillItem("阿莫西林胶囊", 3680, "2盒", "西药费"), BillItem("布洛芬缓释胶囊", 2000))
    assert blood.items == ()


def test_a_malformed_item_amount_is_unavailable(his):
    canned(his, BILLS_REPLY.replace("<Fee>20.00</Fee>", "<Fee>二十元</Fee>"))
    with pytest.raises(HisUnavailable):
        his.list_pending_bills("P1")


def test_no_pending_record_answered_as_not_found_means_no_bills(his):
    canned(his, "<Response><ResultCode>101</ResultCode><ResultMsg>无待缴费记录</ResultMsg></Response>")
    assert his.list_pending_bills("P1") == []


def test_settlement_request_lists_bill_numbers_and_reply_defaults_to_what_was_sent(his):
    service = canned(his, "<Response><ResultCode>0</ResultCode><SettleID>JS9</SettleID><ReceiptNo>0001234</ReceiptNo>"
                          "<SettleTime>2030-03-01 09:40:00</SettleTime></Response>")
    done = his.settle_bills("pay-1", "P1", ["CF001", "JY002", "CF001"], "WX42", 8180)
    code, sent = service.sent[0]
    assert code == "4002" and [n.text for n in sent.findall("BillNos/BillNo")] == ["CF001", "JY002"]
    assert [sent.findtext(f) for f in ("OutOrderNo", "TradeNo", "PayFee")] == ["pay-1", "WX42", "81.80"]
    assert done == BillSettlement("JS9", "pay-1", "P1", ("CF001", "JY002"), 8180, "0001234", "WX42",
                                  dt.datetime(2030, 3, 1, 9, 40, tzinfo=HOSPITAL_TZ))


def test_bill_rejections_map_to_canonical_codes(his):
    for his_code, canonical in (("501", "BILL_PAID"), ("502", "BILL_CHANGED"), ("101", "NOT_FOUND")):
        canned(his, f"<Response><ResultCode>{his_code}</ResultCode><ResultMsg>x</ResultMsg></Response>")
        with pytest.raises(HisRejected) as caught:
            his.settle_bills("pay-1", "P1", ["CF001"], "WX42", 5680)
        assert caught.value.code == canonical


def test_a_separator_list_travels_as_one_joined_field():
    mapping = copy.deepcopy(MAPPING)
    mapping["operations"]["settle_bills"]["request"]["bill_ids"] = {"field": "Pay/BillNos", "type": "list",
                                                                     "separator": "|"}
    # settle_bills and query_settlement share their reply fields (a YAML anchor)
    mapping["operations"]["query_settlement"]["fields"]["bill_ids"] = {"field": "BillNos", "type": "list",
                                                                        "separator": "|"}
    his = XmlWsHis(mapping, "http://127.0.0.1:9/unused?wsdl")
    service = canned(his, "<Response><ResultCode>0</ResultCode><SettleID>JS9</SettleID><OutOrderNo>pay-1</OutOrderNo>"
                          "<PatientID>P1</PatientID><TotalFee>81.80</TotalFee><ReceiptNo>1</ReceiptNo>"
                          "<TradeNo>WX42</TradeNo><SettleTime>2030-03-01 09:40:00</SettleTime>"
                          "<BillNos>CF001|JY002</BillNos></Response>")
    his.settle_bills("pay-1", "P1", ["CF001", "JY002"], "WX42", 8180)
    assert etree.tostring(service.sent[0][1].find("Pay")) == b"<Pay><BillNos>CF001|JY002</BillNos></Pay>"
    assert his.query_settlement("pay-1").bill_ids == ("CF001", "JY002")


def test_payment_records_read_signed_yuan_in_time_order(his):
    canned(his, "<Response><ResultCode>0</ResultCode><Records>"
                "<Record><BizType>1</BizType><BizID>GH1</BizID><TradeNo>WX1</TradeNo><Fee>-50.00</Fee>"
                "<TradeTime>2030-03-01 15:00:00</TradeTime><TradeStatus>2</TradeStatus></Record>"
                "<Record><BizType>2</BizType><BizID>JS1</BizID><TradeNo>WX2</TradeNo><Fee>81.80</Fee>"
                "<TradeTime>2030-03-01 09:00:00</TradeTime><TradeStatus>1</TradeStatus></Record>"
                "</Records></Response>")
    refund_day = dt.date(2030, 3, 1)
    assert [(r.kind, r.record_id, r.amount, r.status) for r in his.list_payment_records(refund_day)] == [
        ("bills", "JS1", 8180, "paid"), ("registration", "GH1", -5000, "refunded")]
    assert his._service.sent[0][1].findtext("TradeDate") == "2030-03-01"


def test_a_bill_mapping_without_settlement_turns_outpatient_payment_off_rather_than_failing():
    from bff.his.port import features_off

    mapping = copy.deepcopy(MAPPING)
    mapping["operations"].pop("settle_bills")
    his = XmlWsHis(mapping, "http://127.0.0.1:9/unused?wsdl")
    assert features_off(his.missing_operations()) == {"outpatient_payment": "门诊缴费"}


@pytest.mark.parametrize("broken", [
    lambda ops: ops["list_pending_bills"]["fields"].update({"title": {"type": "str"}}),
    lambda ops: ops["list_pending_bills"]["fields"]["items"]["fields"].update({"name": {"map": {}}}),
])
def test_incomplete_bill_mapping_fails_at_construction(broken):
    mapping = copy.deepcopy(MAPPING)
    broken(mapping["operations"])
    with pytest.raises(ValueError):
        XmlWsHis(mapping, "http://127.0.0.1:9/unused?wsdl")


def test_nested_records_on_a_plain_field_are_unavailable_not_crashes():
    mapping = copy.deepcopy(MAPPING)
    mapping["operations"]["list_pending_bills"]["fields"]["title"] = {"records": "Details/Detail",
                                                                      "fields": {"name": "ItemName"}}
    his = XmlWsHis(mapping, "http://127.0.0.1:9/unused?wsdl")
    canned(his, BILLS_REPLY)
    with pytest.raises(HisUnavailable):
        his.list_pending_bills("P1")


def test_a_settlement_reply_without_its_receipt_is_unavailable(his):
    canned(his, "<Response><ResultCode>0</ResultCode><SettleID>JS9</SettleID></Response>")
    with pytest.raises(HisUnavailable):
        his.settle_bills("pay-1", "P1", ["CF001"], "WX42", 5680)
