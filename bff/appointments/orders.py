"""A booking as something to pay for (PAYMENT_MODE=online): the registration fee, held until paid.

Booking holds the slot in the HIS (`awaiting_payment`); once the money has arrived the
registration is confirmed in the HIS with the trade number (`paid` → `confirmed`). When that can
no longer be done (the HIS refuses, the hold lapsed and the place is gone) the booking is
cancelled and the money refunded, in the same transaction.
"""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from bff import clock, outbox
from bff.appointments import service as booking
from bff.appointments import state
from bff.appointments.models import Appointment
from bff.errors import AppError
from bff.extensions import db
from bff.health_cards import service as health_cards
from bff.health_cards.service import payment_channel
from bff.his import current as current_his
from bff.his import features, port
from bff.his.port import HisRejected, HisUnavailable
from bff.patients import service as patients
from bff.payments import orders
from bff.payments import service as cashier
from health_card.codes import Scene

log = logging.getLogger("bff.appointments")

NOT_CONFIRMED_REASON = "医院未能确认挂号，已自动退款"


class AppointmentOrders(orders.OrderType):
    """The registration fee of a booking."""

    name = "appointment"

    def payable(self, order_id: str, user_id: int | None) -> orders.Payable:
        """An appointment awaiting payment, before its hold expires."""
        features.require("booking")  # no money is taken for a booking the HIS can no longer confirm
        appointment = db.session.get(Appointment, order_id)
        if appointment is None or (user_id is not None and appointment.user_id != user_id) \
                or appointment.status == "failed":
            raise AppError("APPOINTMENT_NOT_FOUND")
        if appointment.status != "awaiting_payment":
            raise AppError("ORDER_NOT_PAYABLE", "该预约当前无需支付")
        if appointment.hold_expires_at is None or appointment.hold_expires_at <= clock.now():
            raise AppError("HOLD_EXPIRED")
        return orders.Payable("appointment", appointment.id, appointment.user_id, appointment.fee,
                              f"挂号费-{appointment.department_name}-{appointment.doctor_name}",
                              appointment.hold_expires_at)

    def receipt(self, order_id: str) -> dict:
        """The booking's status and visit number."""
        appointment = db.session.get(Appointment, order_id)
        return {"order_status": appointment.status, "receipt_no": appointment.visit_no}

    def fulfil(self, payment) -> None:
        """Register the paid booking in the HIS, taking the place again if its hold lapsed.

        A payment the booking cannot take (another one paid it, or it was cancelled before the
        money landed) is refunded.
        """
        appointment = db.session.get(Appointment, payment.order_id)
        if appointment.trade_no not in (None, payment.out_trade_no):  # paid by another payment: a duplicate
            _refund(appointment, payment, "重复支付，已自动退款", cancel=False)
            return
        if appointment.status in ("confirmed", "checked_in", "completed"):
            return
        if appointment.status == "awaiting_payment":
            state.move(appointment, "paid", f"paid: {payment.out_trade_no}", hold_expires_at=None,
                       trade_no=payment.out_trade_no)
            db.session.commit()
        elif appointment.status == "expired" and not _take_place_again(appointment, payment):
            return
        elif appointment.status not in ("paid", "expired"):  # cancelled before the money landed
            _refund(appointment, payment, "预约已取消，已自动退款", cancel=False)
            return
        _confirm_paid(appointment, payment)

    def refunded(self, payment) -> None:
        """The fee is back: a cancelled booking shows `refunded`."""
        appointment = db.session.get(Appointment, payment.order_id)
        if appointment is not None and appointment.status == "cancelled" \
                and appointment.trade_no in (None, payment.out_trade_no):  # not a duplicate's refund
            state.move(appointment, "refunded", f"refunded: {payment.out_trade_no}")

    def fulfilled(self, payment) -> bool:
        """This payment registered the booking in the HIS, and it was not cancelled."""
        appointment = db.session.get(Appointment, payment.order_id)
        return appointment is not None and appointment.trade_no == payment.out_trade_no \
            and appointment.status in ("confirmed", "checked_in", "completed")


def _take_place_again(appointment: Appointment, payment) -> bool:
    """The hold expired before the money came: lock the slot again if there is still room."""
    try:
        lock = current_his().lock_slot(appointment.request_id, appointment.his_patient_id,
                                appointment.schedule_id, appointment.slot_id)
    except HisRejected:
        _refund(appointment, payment, "支付时号源已释放，已自动退款", cancel=False)
        return False
    if _hold_again(appointment, payment, lock):
        db.session.commit()
        return True
    current_his().unlock_slot(appointment.request_id)
    _refund(appointment, payment, "支付时号源已释放，已自动退款", cancel=False)
    return False


def _hold_again(appointment: Appointment, payment, lock: port.SlotLock) -> bool:
    """Count the place in the BFF again and mark the booking paid; False when that cannot be."""
    try:
        with db.session.begin_nested():
            if not state.take_place(appointment.slot_id, appointment.schedule_id, _capacity(appointment)):
                return False
            state.move(appointment, "paid", f"paid after the hold expired: {payment.out_trade_no}",
                       lock_id=lock.lock_id, visit_no=lock.visit_no or appointment.visit_no,
                       trade_no=payment.out_trade_no)
    except (IntegrityError, state.TransitionLost):  # the patient booked another slot that day meanwhile
        return False
    return True


def _capacity(appointment: Appointment) -> int:
    slot = next((s for s in current_his().list_slots(appointment.schedule_id) if s.id == appointment.slot_id), None)
    return slot.capacity if slot else 0


def _confirm_paid(appointment: Appointment, payment) -> None:
    try:
        registration = _confirm_in_his(appointment, payment)
    except HisRejected as error:
        log.warning("appointment %s: HIS refused the paid confirmation (%s)", appointment.id, error.code)
        current_his().unlock_slot(appointment.request_id)
        _refund(appointment, payment, NOT_CONFIRMED_REASON, cancel=True)
        return
    except HisUnavailable:
        # did it commit before the reply was lost?
        registration = current_his().query_registration(appointment.request_id)
        if registration is None:
            raise
    state.move(appointment, "confirmed", f"registered in HIS, paid by {payment.out_trade_no}",
               registration_id=registration.registration_id,
               visit_no=registration.visit_no or appointment.visit_no)
    booking.report_booking(appointment)
    health_cards.report_use(appointment.patient_id, Scene.OUTPATIENT_PAYMENT, payment_channel(payment),
                            f"payment:{payment.id}", department=appointment.department_code)
    db.session.commit()
    outbox.kick()
    invalidate = getattr(current_his(), "invalidate_slots", None)
    if invalidate:
        invalidate(appointment.schedule_id)


def _confirm_in_his(appointment: Appointment, payment) -> port.Registration:
    """Confirm with the trade number; a lock the HIS dropped on its own is taken again first if the
    place is still free (the patient has paid: they keep the booking whenever the HIS can)."""
    try:
        return current_his().confirm_registration(appointment.request_id, payment.out_trade_no, payment.amount)
    except HisRejected as error:
        db.session.refresh(appointment)
        if error.code != port.LOCK_EXPIRED or appointment.status != "paid":  # not ours to take again
            raise
        lock = current_his().lock_slot(appointment.request_id, appointment.his_patient_id, appointment.schedule_id,
                                appointment.slot_id)  # HisRejected (the place is gone): refunded by the caller
        log.warning("appointment %s: the HIS had dropped its lock; the place was taken again", appointment.id)
        appointment.lock_id, appointment.visit_no = lock.lock_id, lock.visit_no or appointment.visit_no
        db.session.commit()
        return current_his().confirm_registration(appointment.request_id, payment.out_trade_no, payment.amount)


def _refund(appointment: Appointment, payment, reason: str, cancel: bool) -> None:
    """Give the fee back; the booking is cancelled with it when it still held the place."""
    if cancel and appointment.status in ("paid", "awaiting_payment"):
        state.move(appointment, "cancelled", reason)
    cashier.refund(payment, payment.amount, reason)
    db.session.commit()


def register() -> None:
    """Make bookings payable, and keep a patient with an upcoming booking on the list."""
    orders.register(AppointmentOrders())
    patients.register_removal_guard(booking.has_upcoming)

