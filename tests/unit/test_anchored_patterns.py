"""Every pattern holds to the value's true end: `$` alone lets "value\\n" through."""
from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError

from bff.appointments.schemas import BookingIn
from bff.billing.schemas import SettlementIn
from bff.errors import AppError
from bff.kiosk.schemas import FacePayIn
from bff.payments.schemas import PaymentIn
from tests.fakes import resident_id

BOOKING = {"patient_id": 1, "schedule_id": "S1", "slot_id": "T1"}
PAYMENT = {"order_type": "appointment", "order_id": "a1b2", "channel": "wechat"}
FACE_PAY = {"channel": "wechat", "auth_code": "face", "order_type": "appointment", "order_id": "a1b2"}
SETTLEMENT = {"patient_id": 1, "bill_ids": ["B1"]}


@pytest.mark.parametrize("schema,body,field", [
    (BookingIn, BOOKING, "schedule_id"), (BookingIn, BOOKING, "slot_id"), (PaymentIn, PAYMENT, "order_id"),
    (FacePayIn, FACE_PAY, "order_id"),
])
@pytest.mark.parametrize("tail", ["\n", "\r\n", "\n\n"])
def test_a_trailing_newline_is_refused_by_each_schema(schema, body, field, tail):
    schema().load(body)  # the value itself is fine
    with pytest.raises(ValidationError) as caught:
        schema().load({**body, field: body[field] + tail})
    assert field in caught.value.messages


def test_a_bill_id_with_a_trailing_newline_is_refused():
    SettlementIn().load(SETTLEMENT)
    with pytest.raises(ValidationError) as caught:
        SettlementIn().load({**SETTLEMENT, "bill_ids": ["B1\n"]})
    assert "bill_ids" in caught.value.messages


def test_a_schedule_id_with_a_trailing_newline_is_not_looked_up():
    from bff.catalog import service

    with pytest.raises(AppError) as caught:
        service.schedule("S1\n")
    assert caught.value.code == "SCHEDULE_NOT_FOUND"


def test_a_mobile_number_with_a_trailing_newline_is_not_a_mobile_number():
    from bff.patients.identity import is_mobile

    assert is_mobile("13912345678") and not is_mobile("13912345678\n")


def test_our_trade_number_with_a_trailing_newline_never_reaches_a_gateway_url():
    from payments.interface import GatewayRejected
    from payments.wechatpay.common import check_number

    assert check_number("YQ2026abc") == "YQ2026abc"
    with pytest.raises(GatewayRejected):
        check_number("YQ2026abc\n")


def test_the_memory_his_refuses_a_resident_id_with_a_trailing_newline():
    from bff.his.adapters.memory import MemoryHis
    from bff.his.port import HisRejected, PatientInfo

    his = MemoryHis()
    info = PatientInfo("张三", "01", resident_id(1) + "\n", "13912345678", "M", dt.date(1990, 3, 7))
    with pytest.raises(HisRejected):
        his.find_or_create_patient(info)
