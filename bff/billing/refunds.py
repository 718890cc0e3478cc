"""退费: a settled outpatient settlement undone in the HIS, then its money given back through the payment that paid it.

The HIS is asked first, under a request id kept before asking (so a retry after a lost reply is the
same refund there); only once it has let the bills go is the money refund queued, in the same
transaction as the order's move to `refunding`. The order shows `refunded` once the money is back.
The HIS's daily report then lists the refund (negative), which the reconciliation matches against
the refund we asked for.
"""
from __future__ import annotations

import json
import logging
import uuid

from bff import audit, outbox, rows
from bff.billing.models import SETTLEMENT_TRANSITIONS, SettlementOrder
from bff.errors import AppError
from bff.extensions import db
from bff.his import current as current_his
from bff.his import features
from bff.his.port import HisRejected
from bff.payments import service as cashier

log = logging.getLogger("bff.billing")


def refund_settled(order_id: str, staff, reason: str, ip: str) -> SettlementOrder:
    """Refund a settled order (all its bills) in the HIS and queue its money back; audited, commits."""
    order = db.session.get(SettlementOrder, order_id)
    if order is None:
        raise AppError("SETTLEMENT_NOT_FOUND")
    if order.status in ("refunding", "refunded") and order.his_refund_id:
        return order  # done already (a retry of the same request)
    features.require("bill_refund")
    if order.status != "settled" or not order.his_settlement_id:
        raise AppError("SETTLEMENT_NOT_REFUNDABLE", details={"status": order.status})
    if not order.his_refund_request_id:
        # Only where none is kept yet: two first requests at once must agree on one id for the HIS.
        db.session.execute(db.update(SettlementOrder).where(
            SettlementOrder.id == order.id, SettlementOrder.his_refund_request_id.is_(None)).values(
            his_refund_request_id=uuid.uuid4().hex, refund_reason=reason[:80]))
        db.session.commit()
        db.session.refresh(order)
    try:
        back = current_his().refund_bill(order.his_refund_request_id, order.his_settlement_id,
                                                         [b["id"] for b in json.loads(order.bills)], reason)
    except HisRejected as error:
        log.warning("settlement %s: the HIS refused the refund (%s)", order.id, error.code)
        raise AppError("BILL_REFUND_REFUSED", details={"his_code": error.code}) from None
    if "refunding" not in SETTLEMENT_TRANSITIONS.get(order.status, set()):
        raise AppError("SETTLEMENT_NOT_REFUNDABLE", details={"status": order.status})
    try:
        rows.transition(order, status="refunding", his_refund_id=back.refund_id)
    except rows.StatusChanged:  # another request refunded it at this moment: the HIS answered it the same
        db.session.rollback()
        return db.session.get(SettlementOrder, order_id)
    cashier.refund_trade(order.trade_no, back.amount, order.refund_reason or reason or "门诊退费")
    audit.record(staff, "bill_refund", ip, patient_id=order.patient_id,
                        detail=f"settlement {order.id} {back.refund_id} {back.amount} fen")
    db.session.commit()
    outbox.kick()
    log.info("settlement %s refunded in the HIS (%s): %d fen going back", order.id, back.refund_id, back.amount)
    return order
