"""Outpatient fees (门诊缴费): list the HIS's pending bills, settle the chosen ones by one payment.

Choosing bills writes a settlement order for their sum as the HIS lists it now; paying it
(through the cashier) settles them in the HIS under the order's request id, so a retry never
settles twice and a lost reply is found by the compensation query. When the HIS refuses (a bill
was paid at the window meanwhile, or changed) the order is cancelled and the money refunded.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from flask import current_app

from bff import clock, outbox, rows
from bff.billing.models import SETTLEMENT_TRANSITIONS, SettlementOrder
from bff.billing.refunds import refund_settled  # noqa: F401 -- 退费, served by bff.staff
from bff.errors import AppError
from bff.extensions import db
from bff.health_cards import service as health_cards
from bff.his import current as current_his
from bff.his import features, port
from bff.his.port import HisRejected, HisUnavailable
from bff.patients import service as patients
from bff.payments import orders
from bff.payments import service as cashier
from health_card.codes import Scene

log = logging.getLogger("bff.billing")

_REFUSED = {
    port.BILL_PAID: "所选费用已在医院缴纳，本次支付已自动退款",
    port.BILL_CHANGED: "所选费用已变更，本次支付已自动退款，请重新选择",
    port.NOT_FOUND: "所选费用已不存在，本次支付已自动退款",
}


def pending_bills(user_id: int, patient_id: int) -> list[port.Bill]:
    """The patient's unpaid fees, straight from the HIS."""
    features.require("outpatient_payment")
    patient = patients.get_for(user_id, patient_id)
    try:
        return current_his().list_pending_bills(patient.his_patient_id)
    except HisRejected as error:
        if error.code == port.PATIENT_INVALID:
            return []  # no record in the HIS yet: nothing owed
        raise


def present_bill(bill: port.Bill) -> dict:
    """A bill as the patient sees it."""
    return {"id": bill.id, "title": bill.title, "department": bill.department, "doctor_name": bill.doctor_name,
            "amount": bill.amount, "created_at": bill.created_at,
            "items": [{"name": i.name, "amount": i.amount, "quantity": i.quantity, "category": i.category}
                      for i in bill.items]}


def create_settlement(user_id: int, patient_id: int, bill_ids: list[str]) -> SettlementOrder:
    """An order to pay the chosen bills, for their sum as the HIS lists them now."""
    features.require("outpatient_payment")
    patient = patients.get_for(user_id, patient_id)
    listed = {b.id: b for b in pending_bills(user_id, patient_id)}
    chosen = list(dict.fromkeys(bill_ids))
    gone = [i for i in chosen if i not in listed]
    if gone:
        raise AppError("BILL_NOT_PENDING", details={"bill_ids": gone})
    bills = [listed[i] for i in chosen]
    order = SettlementOrder(user_id=user_id, patient_id=patient.id, his_patient_id=patient.his_patient_id,
                            bills=json.dumps([{"id": b.id, "title": b.title, "department": b.department,
                                               "amount": b.amount} for b in bills], ensure_ascii=False),
                            amount=sum(b.amount for b in bills), status="pending",
                            expires_at=clock.now() + dt.timedelta(minutes=current_app.config["BILL_PAY_MINUTES"]))
    db.session.add(order)
    db.session.commit()
    return order


def get_for(user_id: int, order_id: str) -> SettlementOrder:
    """One of the user's settlement orders; anyone else's is a 404."""
    order = db.session.get(SettlementOrder, order_id)
    if order is None or order.user_id != user_id:
        raise AppError("SETTLEMENT_NOT_FOUND")
    return order


def present(order: SettlementOrder, payment=...) -> dict:
    """A settlement order with its bills, payment and receipt."""
    if payment is ...:
        payment = cashier.latest_of("bills", [order.id]).get(order.id)
    expired = order.status == "pending" and order.expires_at <= clock.now()
    return {"id": order.id, "patient_id": order.patient_id, "amount": order.amount,
            "status": "expired" if expired else order.status, "bills": json.loads(order.bills),
            "receipt_no": order.receipt_no, "failure_reason": order.failure_reason,
            "expires_at": order.expires_at, "created_at": order.created_at, "settled_at": order.settled_at,
            "payment": None if payment is None else cashier.present(payment)}


def _move(order: SettlementOrder, to_status: str, **fields) -> None:
    """Change the order's status along the allowed transitions, compare-and-set (caller commits)."""
    rows.transition(order, to_status, SETTLEMENT_TRANSITIONS, **fields)


class BillOrders(orders.OrderType):
    """Outpatient fees paid together."""

    name = "bills"

    def payable(self, order_id: str, user_id: int | None) -> orders.Payable:
        """A settlement order not yet paid, before it expires."""
        features.require("outpatient_payment")
        order = db.session.get(SettlementOrder, order_id)
        if order is None or (user_id is not None and order.user_id != user_id):
            raise AppError("SETTLEMENT_NOT_FOUND")
        if order.status != "pending":
            raise AppError("ORDER_NOT_PAYABLE", "该缴费单当前无需支付")
        if order.expires_at <= clock.now():
            raise AppError("SETTLEMENT_EXPIRED")
        titles = "、".join(b["title"] for b in json.loads(order.bills))
        return orders.Payable("bills", order.id, order.user_id, order.amount, f"门诊缴费-{titles}"[:60],
                              order.expires_at)

    def receipt(self, order_id: str) -> dict:
        """The settlement's status and the HIS's receipt number."""
        order = db.session.get(SettlementOrder, order_id)
        return {"order_status": order.status, "receipt_no": order.receipt_no}

    def fulfil(self, payment) -> None:
        """Settle the bills in the HIS; refund when it refuses, or when the order cannot take this payment."""
        order = db.session.get(SettlementOrder, payment.order_id)
        if order.trade_no not in (None, payment.out_trade_no) or order.status in ("refunded", "cancelled"):
            # paid by another payment, or given up: this money has nothing to pay for
            cashier.refund(payment, payment.amount, "该缴费单已处理，本次支付已自动退款")
            db.session.commit()
            return
        if order.status == "settled":
            return
        if order.status != "paid":
            _move(order, "paid", trade_no=payment.out_trade_no)
            db.session.commit()
        try:
            settlement = current_his().settle_bills(order.request_id, order.his_patient_id,
                                             [b["id"] for b in json.loads(order.bills)], payment.out_trade_no,
                                             payment.amount)
        except HisRejected as error:
            reason = _REFUSED.get(error.code, "医院未能完成缴费，本次支付已自动退款")
            log.warning("settlement %s refused by the HIS (%s): refunding", order.id, error.code)
            _move(order, "cancelled", failure_reason=reason[:80])
            cashier.refund(payment, payment.amount, reason)
            db.session.commit()
            return
        except HisUnavailable:
            settlement = current_his().query_settlement(order.request_id)  # did it commit before the reply was lost?
            if settlement is None:
                raise
        _move(order, "settled", receipt_no=settlement.receipt_no, his_settlement_id=settlement.settlement_id,
              settled_at=settlement.settled_at)
        health_cards.report_use(order.patient_id, Scene.OUTPATIENT_PAYMENT, health_cards.payment_channel(payment),
                                f"payment:{payment.id}")
        db.session.commit()
        outbox.kick()

    def refunded(self, payment) -> None:
        """The money is back: a cancelled order, or one refunded in the HIS (退费), shows `refunded`."""
        order = db.session.get(SettlementOrder, payment.order_id)
        if order is not None and order.status in ("cancelled", "refunding") and \
                order.trade_no in (None, payment.out_trade_no):
            _move(order, "refunded")

    def fulfilled(self, payment) -> bool:
        """This payment settled the bills in the HIS."""
        order = db.session.get(SettlementOrder, payment.order_id)
        return order is not None and order.status == "settled" and order.trade_no == payment.out_trade_no


def register() -> None:
    """Make settlement orders payable."""
    orders.register(BillOrders())
