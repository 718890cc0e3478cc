"""Asynchronous notifications from the simulator to a receiver verifying with the real gateway."""
from __future__ import annotations

import re
import time
import uuid
from urllib.parse import parse_qsl, urlencode

import requests

from payments.interface import NotificationKind, PaymentRequest, RefundRequest, TradeState
from tests.waiting import wait_for


def _paid_order(gateway, alipay, amount: int = 2500) -> PaymentRequest:
    order = PaymentRequest(out_trade_no="T" + uuid.uuid4().hex[:20], amount=amount, description="挂号费",
                           notify_url=gateway.notify_url, payer_id="2088102177846880")
    gateway.create(order)
    alipay.pay(order.out_trade_no)
    return order


def test_the_same_notification_many_times_carries_one_notify_id(gateway, alipay, receiver):
    order = _paid_order(gateway, alipay)
    wait_for(lambda: receiver.accepted)
    assert alipay.post("notify", {"out_trade_no": order.out_trade_no, "times": 10}) == {"sent": 10}
    notes = wait_for(lambda: receiver.accepted if len(receiver.accepted) == 11 else None)
    assert {n.notification_id for n in notes} == {notes[0].notification_id}
    assert {(n.trade.out_trade_no, n.trade.state, n.trade.amount) for n in notes} == {
        (order.out_trade_no, TradeState.PAID, 2500)}


def test_resent_until_the_answer_is_success(gateway, alipay, receiver):
    receiver.fail_next(3)
    order = _paid_order(gateway, alipay)
    delivery = wait_for(lambda: [d for d in alipay.deliveries(order.out_trade_no) if d["acknowledged"]])[0]
    assert len(delivery["attempts"]) == 4
    assert [a["answer"] for a in delivery["attempts"]][:3] == ["200 fail"] * 3
    assert len(receiver.bodies) == 4 and len(receiver.accepted) == 1


def test_a_delayed_notification_arrives_late(gateway, alipay, receiver):
    order = PaymentRequest(out_trade_no="T" + uuid.uuid4().hex[:20], amount=100, description="挂号费",
                           notify_url=gateway.notify_url, payer_id="2088102177846880")
    gateway.create(order)
    started = time.monotonic()
    alipay.pay(order.out_trade_no, delay_ms=400)
    time.sleep(0.2)
    assert receiver.accepted == []
    wait_for(lambda: receiver.accepted)
    assert time.monotonic() - started >= 0.4


def test_held_notifications_released_newest_first(gateway, alipay, receiver):
    alipay.post("hold", {"on": True})
    order = _paid_order(gateway, alipay)
    gateway.refund(RefundRequest(order.out_trade_no, "R" + order.out_trade_no, 2500, 2500))
    time.sleep(0.1)
    assert receiver.bodies == []
    assert alipay.post("release", {"order": "reverse"}) == {"released": 2}
    notes = wait_for(lambda: receiver.accepted if len(receiver.accepted) == 2 else None)
    assert [n.kind for n in notes] == [NotificationKind.REFUND, NotificationKind.PAYMENT]
    assert notes[0].trade.state is TradeState.REFUNDED and notes[0].refund.amount == 2500


def test_a_tampered_notification_is_refused_and_believed_nowhere(gateway, alipay, receiver):
    order = _paid_order(gateway, alipay)
    genuine = wait_for(lambda: receiver.bodies)[0]
    fields = dict(parse_qsl(genuine.decode()))
    changes = (("total_amount", "0.01"), ("out_trade_no", "T-someone-else"), ("trade_status", "TRADE_SUCCESS "),
               ("sign", fields["sign"][:-8] + "AAAAAAA="))
    for field, value in changes:
        forged = urlencode({**fields, field: value}).encode()
        answer = requests.post(gateway.notify_url, data=forged, timeout=5,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.text == "fail"
    assert receiver.refused == ["SIGN_INVALID"] * 4
    assert [n.trade.out_trade_no for n in receiver.accepted] == [order.out_trade_no]


def test_a_refund_notification_with_gmt_refund_in_milliseconds_is_accepted(gateway, alipay, receiver):
    order = _paid_order(gateway, alipay)
    wait_for(lambda: receiver.accepted)
    gateway.refund(RefundRequest(order.out_trade_no, "R" + order.out_trade_no, 2500, 2500))
    note = wait_for(lambda: [n for n in receiver.accepted if n.kind is NotificationKind.REFUND])[0]
    sent = dict(parse_qsl(receiver.bodies[-1].decode()))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", sent["gmt_refund"])
    assert note.refund.succeeded_at.microsecond == int(sent["gmt_refund"][-3:]) * 1000
    assert receiver.refused == []
    wait_for(lambda: alipay.deliveries(order.out_trade_no)[-1]["acknowledged"])


def test_two_partial_refunds_are_notified_with_the_trades_refunded_total(gateway, alipay, receiver):
    order = _paid_order(gateway, alipay)
    wait_for(lambda: receiver.accepted)
    first = gateway.refund(RefundRequest(order.out_trade_no, "RA" + order.out_trade_no, 1000, 2500))
    second = gateway.refund(RefundRequest(order.out_trade_no, "RB" + order.out_trade_no, 500, 2500))
    assert (first.amount, second.amount) == (1000, 500)  # the refund answers are about each refund
    notes = wait_for(lambda: [n.refund for n in receiver.accepted if n.kind is NotificationKind.REFUND]
                     if len(receiver.accepted) == 3 else None)
    assert sorted((r.out_refund_no[:2], r.trade_refunded) for r in notes) == [("RA", 1000), ("RB", 1500)]
    assert gateway.query_refund("RB" + order.out_trade_no, order.out_trade_no).amount == 500
