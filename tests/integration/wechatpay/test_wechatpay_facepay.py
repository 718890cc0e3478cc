"""Face-pay (micropay with face codes) through the v2 gateway: paid, still paying, reversed, declined."""
from __future__ import annotations

import datetime as dt
import secrets
import threading
import time

import pytest

from payments.interface import (
    AuthCodeInvalid,
    BillKind,
    FacePayRequest,
    GatewayUnavailable,
    InsufficientFunds,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    PaymentRequest,
    ReversalUnconfirmed,
    TradeState,
)
from payments.wechatpay import WeChatPayV2Gateway
from tests.integration.wechatpay.conftest import v2_config
from tests.waiting import wait_for

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _face(code: str, amount: int = 3600, no: str | None = None) -> FacePayRequest:
    payment = PaymentRequest(no or "FP" + secrets.token_hex(6), amount, "门诊缴费", "", client_ip="10.9.8.7")
    return FacePayRequest(payment, code, device_id="KIOSK-07")


def _state(wxpay, request: FacePayRequest) -> str:
    return wxpay.box.trades.get(request.payment.out_trade_no).state


@pytest.mark.parametrize("code", ["FACE_OK", "134567890123456789"])
def test_paid_at_once(wxpay, v2, code):
    request = _face(code)
    trade = v2.pay_by_face(request)
    assert (trade.state, trade.amount, trade.paid_amount) == (TradeState.PAID, 3600, 3600)
    assert trade.transaction_id and _state(wxpay, request) == "SUCCESS"


def test_still_paying_then_paid(wxpay, v2):
    request = _face("FACE_PAYING_3")
    assert v2.pay_by_face(request).state is TradeState.PAID
    assert _state(wxpay, request) == "SUCCESS"


def test_paying_forever_is_reversed_and_declined(wxpay, v2):
    request = _face("FACE_PAYING_FOREVER")
    with pytest.raises(PaymentDeclined) as declined:
        v2.pay_by_face(request)
    assert declined.value.gateway_code == "USERPAYING_TIMEOUT" and _state(wxpay, request) == "REVOKED"


def test_a_reverse_answering_recall_is_called_again(wxpay, v2):
    request = _face("FACE_PAYING_FOREVER_RECALL")
    with pytest.raises(PaymentDeclined):
        v2.pay_by_face(request)
    assert _state(wxpay, request) == "REVOKED"


def test_a_reverse_that_is_not_confirmed_says_so_rather_than_declined(wxpay, notify_url):
    """The reverse will still land: the caller must reverse again, and never believe a 'paid' meanwhile."""
    hasty = WeChatPayV2Gateway(**v2_config(wxpay, notify_url, reverse_attempts=1))
    request = _face("FACE_PAYING_FOREVER_RECALL")
    with pytest.raises(ReversalUnconfirmed):
        hasty.pay_by_face(request)
    hasty.reverse(request.payment.out_trade_no)
    assert _state(wxpay, request) == "REVOKED"


def test_the_payer_confirms_while_we_poll(wxpay, notify_url):
    patient = WeChatPayV2Gateway(**v2_config(wxpay, notify_url, poll_timeout=2.0, poll_interval=0.01))
    request = _face("FACE_PAYING_FOREVER")
    confirm = threading.Timer(0.1, lambda: wxpay.post("pay", {"out_trade_no": request.payment.out_trade_no}))
    confirm.start()
    started = time.monotonic()
    assert patient.pay_by_face(request).state is TradeState.PAID
    assert 0.1 <= time.monotonic() - started < 1.5


@pytest.mark.parametrize(("code", "error", "gateway_code"), [
    ("FACE_NOTENOUGH", InsufficientFunds, "NOTENOUGH"), ("FACE_DECLINED", PaymentDeclined, "TRADE_ERROR"),
    ("FACE_EXPIRED", AuthCodeInvalid, "AUTHCODEEXPIRE"), ("not-a-face-code", AuthCodeInvalid, "AUTH_CODE_INVALID"),
])
def test_declines(wxpay, v2, code, error, gateway_code):
    with pytest.raises(error) as declined:
        v2.pay_by_face(_face(code))
    assert type(declined.value) is error and declined.value.gateway_code == gateway_code


def test_a_system_error_is_queried_before_deciding(wxpay, v2):
    lost_answer = _face("FACE_SYSERR_PAID")
    assert v2.pay_by_face(lost_answer).state is TradeState.PAID  # SYSTEMERROR, but the query says paid
    never_made = _face("FACE_SYSERR_UNPAID")
    with pytest.raises(PaymentOutcomeUnknown) as unknown:  # not seen (yet): it may still land, ask later
        v2.pay_by_face(never_made)
    assert not isinstance(unknown.value, PaymentDeclined) and unknown.value.gateway_code == "ORDERNOTEXIST"


def test_paying_again_with_the_same_number_answers_the_first_payment(wxpay, v2):
    first = v2.pay_by_face(_face("FACE_OK", no="FPSAME000001"))
    again = v2.pay_by_face(_face("FACE_OK", no="FPSAME000001"))
    assert again.state is TradeState.PAID and again.transaction_id == first.transaction_id


def test_reversing_a_paid_face_payment_refunds_it(wxpay, v2):
    request = _face("FACE_OK", amount=4200)
    v2.pay_by_face(request)
    v2.reverse(request.payment.out_trade_no)
    v2.reverse(request.payment.out_trade_no)  # again: nothing more happens
    assert v2.query(request.payment.out_trade_no).state is TradeState.CLOSED
    lines = v2.download_bill(dt.datetime.now(SHANGHAI).date())
    assert [(ln.kind, ln.amount) for ln in lines] == [(BillKind.PAYMENT, 4200), (BillKind.REFUND, 4200)]


def test_gateway_down_is_queried_then_unavailable_and_unreachable_is_unavailable_at_once(wxpay, v2, notify_url):
    wxpay.post("faults", {"down": True})  # 503: it may or may not have been taken, so ask until the deadline
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable):
        v2.pay_by_face(_face("FACE_OK"))
    assert time.monotonic() - started >= 0.25
    # connection refused: nothing was sent, so no 2 s of queries and reverses before answering
    nobody = WeChatPayV2Gateway(**v2_config(wxpay, notify_url, api_base_url="https://127.0.0.1:9/", poll_timeout=2.0))
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable) as unavailable:
        nobody.pay_by_face(_face("FACE_OK"))
    assert unavailable.value.gateway_code == "NOT_SENT" and time.monotonic() - started < 1.0


def test_a_lost_answer_is_not_taken_for_a_decline(wxpay, notify_url):
    impatient = WeChatPayV2Gateway(**v2_config(wxpay, notify_url, timeout=(1.0, 0.1)))
    wxpay.post("faults", {"latency_ms": 200})  # every call times out, yet each one is carried out late
    request = _face("FACE_OK")
    with pytest.raises(PaymentOutcomeUnknown) as unknown:
        impatient.pay_by_face(request)
    assert not isinstance(unknown.value, PaymentDeclined)
    # the late micropay did charge the payer: nothing reversed it, the caller's later query finds it paid
    no = request.payment.out_trade_no
    wait_for(lambda: no in wxpay.box.trades.trades and _state(wxpay, request) == "SUCCESS")
    wxpay.post("faults", {"latency_ms": 0})
    assert impatient.query(no).state is TradeState.PAID
