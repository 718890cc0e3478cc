"""The real SDK-based Alipay gateway against the simulator over loopback: trades, refunds, notifications, bills."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest

from payments.alipay.money import SHANGHAI
from payments.interface import (
    BillKind,
    GatewayRejected,
    NotificationKind,
    PaymentRequest,
    RefundRejected,
    RefundRequest,
    RefundState,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeState,
)
from tests.waiting import wait_for

BUYER = "2088102177846880"


def _order(gateway, amount: int = 2500, **extra) -> PaymentRequest:
    return PaymentRequest(out_trade_no="T" + uuid.uuid4().hex[:20], amount=amount, description="挂号费-心血管内科",
                          notify_url=gateway.notify_url, payer_id=BUYER, **extra)


def test_create_pay_notify_query_refund_and_bill(gateway, alipay, receiver):
    order = _order(gateway, attach="appointment:42")
    prepay = gateway.create(order)
    assert prepay.pay_params == {"tradeNO": prepay.gateway_ref} and len(prepay.gateway_ref) == 28
    assert gateway.query(order.out_trade_no).state is TradeState.PENDING

    alipay.pay(order.out_trade_no)
    notification = wait_for(lambda: receiver.accepted)[0]
    assert notification.kind is NotificationKind.PAYMENT
    assert (notification.app_id, notification.merchant_id) == (gateway.app_id, gateway.merchant_id)
    trade = notification.trade
    assert (trade.out_trade_no, trade.state, trade.amount, trade.paid_amount) == (order.out_trade_no,
                                                                                  TradeState.PAID, 2500, 2500)
    assert trade.transaction_id == prepay.gateway_ref and trade.payer_id == BUYER
    assert notification.raw["passback_params"] == "appointment:42"

    status = gateway.query(order.out_trade_no)
    assert (status.state, status.amount, status.paid_amount) == (TradeState.PAID, 2500, 2500)
    assert status.paid_at.tzinfo is not None

    refund = gateway.refund(RefundRequest(order.out_trade_no, "R" + order.out_trade_no[1:], 1000, 2500, "退号"))
    assert (refund.state, refund.amount) == (RefundState.SUCCEEDED, 1000)
    again = gateway.refund(RefundRequest(order.out_trade_no, "R" + order.out_trade_no[1:], 1000, 2500, "退号"))
    assert (again.state, again.amount) == (RefundState.SUCCEEDED, 1000)
    assert gateway.query_refund("R" + order.out_trade_no[1:], order.out_trade_no).amount == 1000
    assert alipay.get("trades")["refunds"] == [{**alipay.get("trades")["refunds"][0], "amount": 1000}]

    refund_note = wait_for(lambda: [n for n in receiver.accepted if n.kind is NotificationKind.REFUND])[0]
    assert refund_note.refund.out_refund_no == "R" + order.out_trade_no[1:]

    lines = gateway.download_bill(dt.datetime.now(SHANGHAI).date())
    mine = {(line.kind, line.amount, line.out_refund_no) for line in lines if line.out_trade_no == order.out_trade_no}
    assert mine == {(BillKind.PAYMENT, 2500, ""), (BillKind.REFUND, 1000, "R" + order.out_trade_no[1:])}
    assert all(line.transaction_id == prepay.gateway_ref for line in lines if line.out_trade_no == order.out_trade_no)


def test_full_refund_closes_the_trade_as_refunded(gateway, alipay, receiver):
    order = _order(gateway, amount=1234)
    gateway.create(order)
    alipay.pay(order.out_trade_no)
    gateway.refund(RefundRequest(order.out_trade_no, "RF" + order.out_trade_no, 1234, 1234))
    assert gateway.query(order.out_trade_no).state is TradeState.REFUNDED
    with pytest.raises(RefundRejected):
        gateway.refund(RefundRequest(order.out_trade_no, "RG" + order.out_trade_no, 1, 1234))


def test_close_unpaid_closes_and_paid_refuses(gateway, alipay):
    unpaid, paid = _order(gateway), _order(gateway)
    gateway.create(unpaid)
    gateway.close(unpaid.out_trade_no)
    assert gateway.query(unpaid.out_trade_no).state is TradeState.CLOSED
    gateway.close(unpaid.out_trade_no)  # closing again is a no-op
    gateway.close("T-never-created")
    gateway.create(paid)
    alipay.pay(paid.out_trade_no)
    with pytest.raises(TradeAlreadyPaid):
        gateway.close(paid.out_trade_no)


def test_unknown_trade_and_refund(gateway, alipay):
    with pytest.raises(TradeNotFound):
        gateway.query("T-unknown")
    order = _order(gateway)
    gateway.create(order)
    with pytest.raises(TradeNotFound):
        gateway.query_refund("R-unknown", order.out_trade_no)
    with pytest.raises(RefundRejected):
        gateway.refund(RefundRequest(order.out_trade_no, "R1", 100, 2500))  # not paid yet


def test_creating_twice_answers_the_same_trade_and_a_changed_amount_is_refused(gateway, alipay):
    order = _order(gateway)
    assert gateway.create(order).gateway_ref == gateway.create(order).gateway_ref
    with pytest.raises(GatewayRejected) as caught:
        gateway.create(PaymentRequest(**{**order.__dict__, "amount": 2600}))
    assert caught.value.gateway_code == "ACQ.CONTEXT_INCONSISTENT"


def test_an_expired_trade_is_closed(gateway, alipay):
    order = _order(gateway, expires_at=dt.datetime.now(SHANGHAI) + dt.timedelta(seconds=1))
    gateway.create(order)
    wait_for(lambda: gateway.query(order.out_trade_no).state is TradeState.CLOSED, timeout=3)


def test_amounts_alipay_cannot_take_are_refused_before_sending(gateway, alipay):
    for amount in (0, -100):
        with pytest.raises(GatewayRejected) as caught:
            gateway.create(_order(gateway, amount=amount))
        assert caught.value.gateway_code == "AMOUNT_INVALID"
    with pytest.raises(GatewayRejected):
        gateway.create(_order(gateway, expires_at=dt.datetime(2030, 1, 1)))  # naive: which 09:00?
    assert alipay.get("trades")["trades"] == []


def test_a_request_carrying_an_empty_parameter_is_accepted_by_the_gateway(gateway, alipay):
    # Alipay leaves empty parameters out of the string it verifies; so must our signature.
    order = _order(gateway)
    gateway.create(order)
    model = AlipayTradeQueryModel()
    model.out_trade_no = order.out_trade_no
    request = AlipayTradeQueryRequest(biz_model=model)
    request.add_other_text_param("org_pid", "")
    answer = gateway.client.call(request)
    assert (answer["code"], answer["out_trade_no"], answer["trade_status"]) == (
        "10000", order.out_trade_no, "WAIT_BUYER_PAY")
