"""How the xmlws adapter reads replies, without a server."""
import pytest

from bff.his.adapters.xmlws import XmlWsHis
from bff.his.port import HisRejected, HisUnavailable


@pytest.fixture
def his():
    return XmlWsHis.from_config("bff/his/mappings/sandbox.yaml", "http://127.0.0.1:9/unused?wsdl")


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
