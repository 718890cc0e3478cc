"""Smile-to-pay through the real gateway against the simulator's magic ftokens."""
from __future__ import annotations

import uuid

import pytest

from payments.interface import (
    AuthCodeInvalid,
    FacePayRequest,
    InsufficientFunds,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    PaymentRequest,
    TradeNotFound,
    TradeState,
)
from tests.waiting import wait_for


def _face(gateway, code: str, amount: int = 1850) -> FacePayRequest:
    payment = PaymentRequest(out_trade_no="F" + uuid.uuid4().hex[:20], amount=amount, description="门诊缴费",
                             notify_url=gateway.notify_url)
    return FacePayRequest(payment=payment, auth_code=f"{code}_{uuid.uuid4().hex[:8]}", device_id="KIOSK-01")


def _trade(alipay, out_trade_no: str) -> dict:
    return next(t for t in alipay.get("trades")["trades"] if t["out_trade_no"] == out_trade_no)


def test_face_pay_succeeds_at_once_and_notifies(gateway, alipay, receiver):
    request = _face(gateway, "fp_ok")
    status = gateway.pay_by_face(request)
    assert (status.state, status.amount, status.paid_amount) == (TradeState.PAID, 1850, 1850)
    assert status.transaction_id and status.paid_at is not None
    note = wait_for(lambda: receiver.accepted)[0]
    assert note.trade.out_trade_no == request.payment.out_trade_no and note.trade.state is TradeState.PAID


def test_face_pay_polls_while_the_payer_confirms(gateway, alipay):
    request = _face(gateway, "fp_paying_3")
    status = gateway.pay_by_face(request)
    assert status.state is TradeState.PAID
    assert _trade(alipay, request.payment.out_trade_no)["status"] == "TRADE_SUCCESS"


def test_face_pay_that_never_completes_is_cancelled(make_gateway, alipay):
    gateway = make_gateway(face_poll_attempts=3)
    request = _face(gateway, "fp_paying_forever")
    with pytest.raises(PaymentDeclined) as caught:
        gateway.pay_by_face(request)
    assert caught.value.gateway_code == "WAIT_BUYER_PAY"
    assert _trade(alipay, request.payment.out_trade_no)["status"] == "TRADE_CLOSED"
    assert gateway.query(request.payment.out_trade_no).state is TradeState.CLOSED


@pytest.mark.parametrize(("code", "error", "sub_code"), [
    ("fp_insufficient", InsufficientFunds, "ACQ.BUYER_BALANCE_NOT_ENOUGH"),
    ("fp_declined", PaymentDeclined, "ACQ.PAYMENT_FAIL"),
    ("fp_invalid", AuthCodeInvalid, "ACQ.PAYMENT_AUTH_CODE_INVALID"),
])
def test_face_pay_refusals_become_our_errors(gateway, alipay, code, error, sub_code):
    request = _face(gateway, code)
    with pytest.raises(error) as caught:
        gateway.pay_by_face(request)
    assert type(caught.value) is error and caught.value.gateway_code == sub_code
    with pytest.raises(TradeNotFound):
        gateway.query(request.payment.out_trade_no)


def test_a_used_ftoken_is_invalid(gateway, alipay):
    first = _face(gateway, "fp_ok")
    gateway.pay_by_face(first)
    again = FacePayRequest(payment=PaymentRequest(out_trade_no="F" + uuid.uuid4().hex[:20], amount=100,
                                                  description="门诊缴费", notify_url=gateway.notify_url),
                           auth_code=first.auth_code)
    with pytest.raises(AuthCodeInvalid):
        gateway.pay_by_face(again)


def test_system_error_then_the_query_finds_it_paid(gateway, alipay):
    status = gateway.pay_by_face(_face(gateway, "fp_unknown_paid"))
    assert status.state is TradeState.PAID and status.amount == 1850


def test_system_error_with_no_trade_in_sight_stays_unknown_not_declined(gateway, alipay):
    """The trade may still land after an unclear answer: the caller asks again later, money is never lost."""
    request = _face(gateway, "fp_unknown_unpaid")
    with pytest.raises(PaymentOutcomeUnknown) as caught:
        gateway.pay_by_face(request)
    assert not isinstance(caught.value, PaymentDeclined) and caught.value.gateway_code == "ACQ.SYSTEM_ERROR"


def test_reversing_a_paid_face_trade_refunds_it(gateway, alipay):
    request = _face(gateway, "fp_ok")
    gateway.pay_by_face(request)
    gateway.reverse(request.payment.out_trade_no)
    trade = _trade(alipay, request.payment.out_trade_no)
    assert (trade["status"], trade["refunded"]) == ("TRADE_CLOSED", 1850)
    assert gateway.query(request.payment.out_trade_no).state is TradeState.REFUNDED
    gateway.reverse(request.payment.out_trade_no)  # again: nothing more happens
    assert _trade(alipay, request.payment.out_trade_no)["refunded"] == 1850


def test_face_pay_with_the_gateway_down_is_unknown_not_declined(gateway, alipay):
    alipay.post("faults", {"down": True})
    with pytest.raises(PaymentOutcomeUnknown):
        gateway.pay_by_face(_face(gateway, "fp_ok"))
