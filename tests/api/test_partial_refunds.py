"""Alipay's refund notifications give the trade's refunded total (refund_fee), not the refund's own amount.

The BFF itself only refunds a payment in full today (a cancel, a duplicate, a refusal), so the two
partial refunds here are asked through the refunds service directly; the notifications then say
what Alipay says, the cumulative refund_fee, and each refund must count once, for its own amount.
"""
from __future__ import annotations

import pytest

from bff.extensions import db
from tests.api.payment_helpers import booked, gateway, notify, settle, start_payment


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(PAYMENT_MODE="online", RECONCILE_DIR=str(tmp_path / "reconciliation"))


def _paid_by_alipay(app, client, headers, clock) -> dict:
    appointment, _ = booked(client, headers, clock)
    payment = start_payment(client, headers, appointment["id"], channel="alipay", payer_id="2088000000000001")
    assert notify(client, gateway(app, "alipay").pay(payment["out_trade_no"]), "alipay").status_code == 204
    settle(app)
    return payment


def _refund_in_two_parts(app, out_trade_no: str, first: int, second: int) -> list[str]:
    """Two partial refunds of one payment, asked, sent, and finished by the bank; their numbers."""
    from bff.payments import refunds
    from bff.payments.models import Payment

    numbers = []
    with app.app_context():
        for amount in (first, second):
            payment = db.session.execute(db.select(Payment).where(Payment.out_trade_no == out_trade_no)).scalar_one()
            numbers.append(refunds.request_refund(payment, amount, "部分退款").out_refund_no)
            db.session.commit()
        db.session.remove()
    settle(app)
    assert sorted(gateway(app, "alipay").settle_refunds()) == sorted(numbers)
    return numbers


def _alipay_says(app, out_refund_no: str, refunded_so_far: int) -> bytes:
    """The refund's notification as Alipay words it: refund_fee is the trade's refunded total so far."""
    return gateway(app, "alipay").refund_notification(out_refund_no, amount=refunded_so_far,
                                                      trade_refunded=refunded_so_far)


def _refunds(app, out_trade_no: str) -> dict:
    from bff.payments.models import LedgerEntry, Payment, Refund

    with app.app_context():
        payment = db.session.execute(db.select(Payment).where(Payment.out_trade_no == out_trade_no)).scalar_one()
        refunds = db.session.execute(db.select(Refund.out_refund_no, Refund.status, Refund.amount).where(
            Refund.payment_id == payment.id).order_by(Refund.id)).all()
        ledger = db.session.execute(db.select(LedgerEntry.amount).where(
            LedgerEntry.payment_id == payment.id, LedgerEntry.kind == "refund").order_by(LedgerEntry.id)).scalars()
        seen = {"refunded": payment.refunded, "refunds": [tuple(r) for r in refunds], "ledger": list(ledger)}
        db.session.remove()
        return seen


def test_a_second_partial_refund_counts_for_its_own_amount(app, client, alice, clock):
    payment = _paid_by_alipay(app, client, alice, clock)
    first, second = payment["amount"] // 4, payment["amount"] // 5
    one, two = _refund_in_two_parts(app, payment["out_trade_no"], first, second)
    assert notify(client, _alipay_says(app, one, first), "alipay").status_code == 204
    assert notify(client, _alipay_says(app, two, first + second), "alipay").status_code == 204
    assert notify(client, _alipay_says(app, two, first + second), "alipay").status_code == 204  # sent again
    settle(app)
    assert _refunds(app, payment["out_trade_no"]) == {
        "refunded": first + second, "ledger": [-first, -second],
        "refunds": [(one, "succeeded", first), (two, "succeeded", second)]}
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--date", clock().date().isoformat()])
    assert result.exit_code == 0, result.output
    assert "差异" not in result.output


def test_partial_refund_notifications_out_of_order_each_count_once(app, client, alice, clock):
    payment = _paid_by_alipay(app, client, alice, clock)
    first, second = payment["amount"] // 4, payment["amount"] // 5
    one, two = _refund_in_two_parts(app, payment["out_trade_no"], first, second)
    # The second refund's word comes first: its total counts the first refund we have not confirmed yet.
    assert notify(client, _alipay_says(app, two, first + second), "alipay").status_code == 204
    assert notify(client, _alipay_says(app, one, first), "alipay").status_code == 204
    settle(app)
    assert _refunds(app, payment["out_trade_no"]) == {
        "refunded": first + second, "ledger": [-second, -first],
        "refunds": [(one, "succeeded", first), (two, "succeeded", second)]}
