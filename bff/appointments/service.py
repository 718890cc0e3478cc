"""Booking use cases: book, list, cancel, check in, queue. The only place that decides.

A booking is first written here as `pending` (the database refuses a second booking of the same
patient, department and day, and a slot counter refuses more places than the slot has), then
locked and confirmed in the HIS under one request id. Whatever fails half-way is undone before
we answer: the HIS lock is released, or the HIS is asked whether it committed. Only when the HIS
cannot be reached at all does a booking stay `pending`, and `recover_pending` settles it later.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets

from flask import current_app, g
from sqlalchemy.exc import IntegrityError

from bff import clock, outbox
from bff.appointments import state
from bff.appointments.models import HOLDING, Appointment
from bff.catalog import service as catalog
from bff.errors import AppError
from bff.extensions import db
from bff.health_cards import service as health_cards
from bff.his import current as current_his
from bff.his import features, port
from bff.his.port import HisError, HisRejected, HisUnavailable
from bff.patients import service as patients
from bff.payments import service as cashier
from health_card.codes import CardChannel, Scene
from payments.interface import PaymentError

log = logging.getLogger("bff.appointments")

UNLOCK_TOPIC = "release_his_lock"
UPCOMING = ("pending", "awaiting_payment", "paid", "confirmed", "checked_in")

# HIS rejections at lock/confirm time → the code the patient is told (status and words: the catalogue).
_REJECTIONS = {
    port.SLOT_FULL: "SLOT_FULL",
    port.NOT_RELEASED: "NOT_RELEASED",
    port.SCHEDULE_STOPPED: "SCHEDULE_STOPPED",
    port.DUPLICATE_REGISTRATION: "DUPLICATE_BOOKING",
    port.PATIENT_INVALID: "PATIENT_INVALID",
    port.NOT_FOUND: "SCHEDULE_NOT_FOUND",
    port.LOCK_EXPIRED: "HOLD_EXPIRED",
}




def _rejection(error: HisRejected) -> AppError:
    if error.code in _REJECTIONS:
        return AppError(_REJECTIONS[error.code])
    return AppError("HIS_REJECTED", error.message or "医院系统拒绝了该预约")


def get_for(user_id: int, appointment_id: str) -> Appointment:
    """One of the user's appointments; anyone else's is a 404 like a missing one."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.user_id != user_id or appointment.status == "failed":
        raise AppError("APPOINTMENT_NOT_FOUND")
    return appointment


def list_for(user_id: int, status: str | None = None, limit: int = 50) -> list[Appointment]:
    """The user's appointments, newest first."""
    query = db.select(Appointment).where(Appointment.user_id == user_id, Appointment.status != "failed")
    if status:
        query = query.where(Appointment.status == status)
    return list(db.session.execute(query.order_by(Appointment.created_at.desc()).limit(limit)).scalars())


def has_upcoming(patient_id: int) -> bool:
    """True while the patient has a booking that has not happened yet."""
    query = db.select(Appointment.id).where(
        Appointment.patient_id == patient_id, Appointment.status.in_(UPCOMING),
        Appointment.slot_end >= clock.now()).limit(1)
    return db.session.execute(query).first() is not None


def on_visit_day(his_patient_id: str, statuses: tuple[str, ...]) -> list[Appointment]:
    """The HIS patient's bookings for today in the given statuses, by slot time (what a scan shows staff)."""
    return list(db.session.execute(db.select(Appointment).where(
        Appointment.his_patient_id == his_patient_id, Appointment.visit_date == clock.today(),
        Appointment.status.in_(statuses)).order_by(Appointment.slot_start)).scalars())


def check_bookable(user_id: int, patient_id: int, schedule_id: str, slot_id: str):
    """Every refusal that needs no write: release, slot, places the BFF has left, the patient.

    The cheapest checks go first: at a release rush most attempts end at "full" without a query.
    The answer is kept for the rest of the request, so booking right after does not ask again.
    """
    asked = (user_id, patient_id, schedule_id, slot_id)
    if g.get("bookable", (None,))[0] == asked:
        return g.bookable[1]
    schedule = catalog.schedule(schedule_id)
    slot = _bookable_slot(schedule, slot_id)
    if state.slot_is_full(slot.id, slot.capacity):
        raise AppError("SLOT_FULL")
    g.bookable = (asked, (patients.get_for(user_id, patient_id), schedule, slot))
    return g.bookable[1]


def book(user_id: int, patient_id: int, schedule_id: str, slot_id: str) -> Appointment:
    """Book a slot for one of the user's patients."""
    features.require("booking")
    patient, schedule, slot = check_bookable(user_id, patient_id, schedule_id, slot_id)
    appointment = _reserve(user_id, patient, schedule, slot)
    lock = _lock_in_his(appointment)
    if current_app.config["PAYMENT_MODE"] == "online" and _fee_due(appointment, lock) > 0:
        hold = clock.now() + dt.timedelta(minutes=current_app.config["HOLD_MINUTES"])
        state.move(appointment, "awaiting_payment", "slot locked, waiting for payment", hold_expires_at=hold, **lock)
        db.session.commit()
        return appointment
    return _confirm(appointment, lock)


def _fee_due(appointment: Appointment, lock: dict) -> int:
    """The fee the HIS holds the place for (its lock's word over the schedule's); 0 is a free clinic:
    nothing to pay, so nothing to wait for."""
    return appointment.fee if lock.get("fee") is None else lock["fee"]


def _bookable_slot(schedule: port.Schedule, slot_id: str) -> port.TimeSlot:
    now = clock.now()
    # The release time decides, not a cached status: at the release moment the cache may still
    # say not_released for a few seconds.
    if schedule.release_at > now:
        raise AppError("NOT_RELEASED", details={"release_at": schedule.release_at.isoformat()})
    if schedule.status == "stopped":
        raise AppError("SCHEDULE_STOPPED")
    slot = next((s for s in catalog.slots_of(schedule) if s.id == slot_id), None)
    if slot is None:
        raise AppError("SLOT_NOT_FOUND")
    if catalog.slot_status(slot, now) == "passed":
        raise AppError("SLOT_PASSED")
    return slot


def _reserve(user_id: int, patient, schedule: port.Schedule, slot: port.TimeSlot) -> Appointment:
    """Write the pending booking and take a place, or refuse: the database is the judge."""
    appointment = Appointment(
        user_id=user_id, patient_id=patient.id, his_patient_id=patient.his_patient_id,
        schedule_id=schedule.id, slot_id=slot.id, department_code=schedule.department_code,
        department_name=schedule.department_name, doctor_code=schedule.doctor_code,
        doctor_name=schedule.doctor_name, title=schedule.title, visit_date=schedule.date,
        period=schedule.period, slot_start=slot.start, slot_end=slot.end, fee=schedule.fee,
        status="pending", active=1, patient=patient)
    db.session.add(appointment)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _duplicate(patient.id, schedule) from None
    if not state.take_place(slot.id, schedule.id, slot.capacity):
        db.session.rollback()
        raise AppError("SLOT_FULL")
    db.session.commit()
    return appointment


def _duplicate(patient_id: int, schedule: port.Schedule) -> AppError:
    """The booking that already holds this patient's day in this department, as an error."""
    other = db.session.execute(db.select(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.department_code == schedule.department_code,
        Appointment.visit_date == schedule.date, Appointment.active == 1)).scalar_one_or_none()
    details = {"appointment_id": other.id} if other else {}
    if other is not None and other.status == "pending":
        return AppError("BOOKING_IN_PROGRESS", details=details,
                        transient=True)
    return AppError("DUPLICATE_BOOKING", details=details)


def _lock_in_his(appointment: Appointment) -> dict:
    """Hold the place in the HIS; answer what the lock tells, stored with the next status change."""
    try:
        lock = current_his().lock_slot(appointment.request_id, appointment.his_patient_id,
                                appointment.schedule_id, appointment.slot_id)
    except HisRejected as error:
        _give_up(appointment, error.code, unlock=False)
        if error.code == port.SLOT_FULL:  # filled through another channel, e.g. the hospital window
            state.remember_full(appointment.slot_id)
        raise _rejection(error) from error
    except HisUnavailable as error:
        if not error.sent:  # the call never reached the HIS: nothing to release
            _give_up(appointment, "HIS_UNAVAILABLE", unlock=False)
        else:  # the lock may have been made, or may still land: release now and again at recovery
            _release_uncertain_lock(appointment)
        raise
    # Written with the next status change: recovery needs only the request id, never the lock id.
    return {"lock_id": lock.lock_id, "visit_no": lock.visit_no or None, "fee": lock.fee}


def _release_uncertain_lock(appointment: Appointment) -> None:
    try:
        current_his().unlock_slot(appointment.request_id)
    except HisError:
        pass  # recovery releases it
    appointment.failure_code = "LOCK_UNKNOWN"
    db.session.commit()
    log.warning("appointment %s left pending: the HIS lock timed out (recovery releases it)", appointment.id)


def _confirm(appointment: Appointment, lock: dict) -> Appointment:
    try:
        registration = current_his().confirm_registration(appointment.request_id)
    except HisRejected as error:
        _give_up(appointment, error.code, unlock=True)
        raise _rejection(error) from error
    except HisUnavailable:
        registration = _ask_his(appointment)  # the reply was lost: did the HIS commit it?
    _mark_confirmed(appointment, registration, lock)
    return appointment


def _ask_his(appointment: Appointment) -> port.Registration:
    try:
        registration = current_his().query_registration(appointment.request_id)
    except HisUnavailable:
        log.warning("appointment %s left pending: HIS unreachable after confirm", appointment.id)
        raise
    if registration is None:
        # Not committed yet, or not at all: the HIS may still be working on our confirm, so the
        # lock is not released now. Recovery asks again once any such work must have finished.
        appointment.failure_code = "CONFIRM_UNKNOWN"
        db.session.commit()
        raise HisUnavailable("confirmation not committed yet")
    return registration


def _mark_confirmed(appointment: Appointment, registration: port.Registration, lock: dict | None = None) -> None:
    lock = lock or {}
    try:
        state.move(appointment, "confirmed", "registered in HIS", **{
            **lock, "registration_id": registration.registration_id,
            "visit_no": registration.visit_no or lock.get("visit_no") or appointment.visit_no})
    except (state.TransitionLost, ValueError):
        # Settled as failed elsewhere (recovery) while the HIS was still answering us: nobody
        # holds this registration, so cancel it rather than keep a place for no one.
        db.session.rollback()
        _cancel_orphan(registration)
        raise HisUnavailable("booking was settled while the HIS answered") from None
    report_booking(appointment)
    db.session.commit()
    _his_invalidate(appointment.schedule_id)


def report_booking(appointment: Appointment) -> None:
    """Queue the health card usage report of a confirmed booking (caller commits)."""
    health_cards.report_use(appointment.patient_id, Scene.BOOKING, CardChannel.MINI_PROGRAM,
                            f"booking:{appointment.id}", department=appointment.department_code)


def _cancel_orphan(registration: port.Registration) -> None:
    try:
        current_his().cancel_registration(registration.registration_id, "预约已失效，系统自动退号")
    except HisError:
        log.error("orphan HIS registration %s could not be cancelled", registration.registration_id)


def _give_up(appointment: Appointment, reason: str, unlock: bool) -> None:
    """Fail a pending booking; a HIS lock that cannot be released now is released once the HIS answers."""
    try:
        state.move(appointment, "failed", reason, failure_code=reason)
    except (state.TransitionLost, ValueError):  # already settled elsewhere
        db.session.rollback()
        return
    if unlock:
        release_lock(appointment.request_id)
    db.session.commit()
    outbox.kick()
    _his_invalidate(appointment.schedule_id)


def release_lock(request_id: str) -> None:
    """Let the HIS hold made by request_id go: now, or from the outbox the moment the HIS answers again.

    Only for a hold no request of ours can still be making (refused, expired, settled by recovery):
    the unlock is queued in the caller's transaction, so a crash or an outage never leaves the
    place held in the HIS for the cool-down and the recovery age, only until the HIS is back.
    """
    try:
        current_his().unlock_slot(request_id)
    except HisError as error:
        log.warning("HIS hold %s not released yet (%s): queued until the HIS answers", request_id,
                    type(error).__name__)
        # A fresh key each time: the same request id can hold a place again (a late payment takes it back).
        outbox.enqueue(UNLOCK_TOPIC, f"{UNLOCK_TOPIC}:{request_id}:{secrets.token_hex(4)}", {"request_id": request_id})


@outbox.handler("release_his_lock")
def _release_queued_lock(payload: dict) -> None:
    """Outbox: release a HIS hold (a no-op in the HIS when it is gone already).

    Not when the booking holds its place again meanwhile (a late payment took it back under the
    same request id): the release was meant for the hold that lapsed, not for this one.
    """
    holder = db.session.execute(db.select(Appointment.status).where(
        Appointment.request_id == payload["request_id"])).scalar_one_or_none()
    if holder in HOLDING and holder != "pending":
        return
    current_his().unlock_slot(payload["request_id"])


def _his_invalidate(schedule_id: str) -> None:
    invalidate = getattr(current_his(), "invalidate_slots", None)
    if invalidate:
        invalidate(schedule_id)


def cancel(user_id: int, appointment_id: str) -> Appointment:
    """Cancel (退号) before the cut-off; a paid fee is refunded."""
    features.require("booking")  # before the trade is closed or the guard queued
    appointment = get_for(user_id, appointment_id)
    if appointment.status in ("cancelled", "refunded"):
        return appointment
    if appointment.status == "paid":
        raise _still_confirming()
    if appointment.status not in ("awaiting_payment", "confirmed"):
        raise AppError("NOT_CANCELLABLE")
    cutoff = appointment.slot_start - dt.timedelta(minutes=current_app.config["CANCEL_CUTOFF_MINUTES"])
    if clock.now() > cutoff:
        raise AppError("CANCEL_TOO_LATE", details={"cutoff": cutoff.isoformat()})
    payment = _stop_payment(appointment)
    if appointment.status == "paid":  # the money landed as we closed the trade: its confirmation runs now
        raise _still_confirming()
    guard = _guard_cancellation(appointment)
    try:
        _cancel_in_his(appointment)
    except AppError:  # the HIS said no: nothing to finish (no answer at all leaves the guard to ask it)
        if guard:
            outbox.discard(guard)
            db.session.commit()
        raise
    if not _record_cancellation(appointment, payment, "cancelled by patient", guard):
        return get_for(user_id, appointment_id)
    return appointment


def _still_confirming() -> AppError:
    return AppError("CONFIRMING", transient=True)


def _guard_cancellation(appointment: Appointment) -> str | None:
    """Before the HIS lets a registration go: queue (and commit) the work that finishes our side
    should this process die between the HIS's cancellation and our commit. Answers its key."""
    if appointment.status != "confirmed":  # an unpaid hold lapses by itself (expire_holds)
        return None
    key = f"cancel-guard:{appointment.id}:{secrets.token_hex(4)}"
    outbox.enqueue("finish_cancel", key, {"appointment_id": appointment.id},
                   delay=state.recovery_age(current_app.config))
    db.session.commit()
    return key


def _record_cancellation(appointment: Appointment, payment, reason: str, guard: str | None) -> bool:
    """The HIS has let the registration go: cancelled, with the refund intent, in one commit."""
    try:
        state.move(appointment, "cancelled", reason)
    except state.TransitionLost:
        db.session.rollback()
        return False
    if payment is not None and payment.status in ("paid", "refunding"):
        cashier.refund(payment, payment.amount, "患者取消预约退款")
    if guard:
        outbox.discard(guard)
    db.session.commit()
    outbox.kick()
    _his_invalidate(appointment.schedule_id)
    return True


@outbox.handler("finish_cancel")
def finish_cancel(payload: dict) -> None:
    """Outbox: a cancellation cut short after the HIS's side; the HIS says whether it happened."""
    appointment = db.session.get(Appointment, payload["appointment_id"])
    if appointment is None or appointment.status != "confirmed":
        return
    registration = current_his().query_registration(appointment.request_id)
    if registration is None or registration.status != "cancelled":
        return  # the HIS kept the registration: so do we
    log.warning("appointment %s: cancelled in the HIS, finishing ours after an interruption", appointment.id)
    _record_cancellation(appointment, cashier.live_payment("appointment", appointment.id),
                         "cancelled by patient (finished after an interruption)", None)


def _stop_payment(appointment: Appointment):
    """Close an unpaid trade of the booking so no money can land after the cancellation; the live payment."""
    payment = cashier.live_payment("appointment", appointment.id)
    if payment is not None and payment.status == "pending":
        try:
            cashier.close_trade(payment)
        except PaymentError as error:
            raise AppError("PAYMENT_UNAVAILABLE", "支付服务暂时无法连接，请稍后再取消",
                           headers={"Retry-After": "5"}) from error
        if payment.status == "paid":  # paid meanwhile: cancel it as a paid booking
            db.session.refresh(appointment)
    return payment


def _cancel_in_his(appointment: Appointment) -> None:
    try:
        if appointment.status == "confirmed":
            current_his().cancel_registration(appointment.registration_id, "患者线上取消")
        else:
            current_his().unlock_slot(appointment.request_id)
    except HisRejected as error:  # cancelling twice is already a no-op in every adapter
        raise AppError("CANCEL_REJECTED", error.message or "医院系统不允许取消该预约") from error


def check_in(user_id: int, appointment_id: str) -> Appointment:
    """Sign in on the day, inside the window around the slot."""
    features.require("check_in")
    appointment = get_for(user_id, appointment_id)
    if appointment.status == "checked_in":
        return appointment
    if appointment.status != "confirmed":
        raise AppError("NOT_CHECKINABLE")
    _check_window(appointment)
    try:
        result = current_his().check_in(appointment.registration_id)
    except HisRejected as error:
        raise AppError("CHECKIN_REJECTED", error.message or "医院系统暂不允许签到") from error
    try:
        state.move(appointment, "checked_in", "checked in", queue_no=result.queue_no)
    except state.TransitionLost:
        db.session.rollback()
        return get_for(user_id, appointment_id)
    health_cards.report_use(appointment.patient_id, Scene.CHECK_IN, CardChannel.MINI_PROGRAM,
                            f"checkin:{appointment.id}", department=appointment.department_code)
    db.session.commit()
    outbox.kick()
    return appointment


def _check_window(appointment: Appointment) -> None:
    now = clock.now()
    if now.date() != appointment.visit_date:
        raise AppError("CHECKIN_NOT_TODAY", details={"visit_date": appointment.visit_date.isoformat()})
    opens = appointment.slot_start - dt.timedelta(minutes=current_app.config["CHECKIN_OPENS_MINUTES"])
    closes = appointment.slot_end + dt.timedelta(minutes=current_app.config["CHECKIN_LATE_MINUTES"])
    if now < opens:
        raise AppError("CHECKIN_TOO_EARLY", f"签到时间未到，请于{opens:%H:%M}后签到",
                       {"opens_at": opens.isoformat()})
    if now > closes:
        raise AppError("CHECKIN_CLOSED", details={"closed_at": closes.isoformat()})


def queue(user_id: int, appointment_id: str) -> port.QueueStatus:
    """Where the patient stands in the queue, after check-in."""
    features.require("check_in")
    appointment = get_for(user_id, appointment_id)
    if appointment.status != "checked_in":
        raise AppError("NOT_CHECKED_IN")
    return current_his().queue_status(appointment.registration_id)


def expire_holds() -> int:
    """Release slots held for payment past `hold_expires_at` (PAYMENT_MODE=online)."""
    overdue = db.session.execute(db.select(Appointment).where(
        Appointment.status == "awaiting_payment", Appointment.hold_expires_at < clock.now())).scalars().all()
    expired = 0
    for appointment in overdue:
        try:
            if not _unpaid_after_closing(appointment):
                continue  # the money came: the payment's fulfilment confirms the booking
            state.move(appointment, "expired", "hold expired before payment")
            release_lock(appointment.request_id)
            db.session.commit()
            _his_invalidate(appointment.schedule_id)
            expired += 1
        except (HisError, PaymentError, state.TransitionLost) as error:
            db.session.rollback()
            log.warning("hold of appointment %s not released yet: %s", appointment.id, type(error).__name__)
    return expired


def _unpaid_after_closing(appointment: Appointment) -> bool:
    """Close the booking's open trade at the gateway; False when it turns out paid."""
    payment = cashier.live_payment("appointment", appointment.id)
    if payment is None:
        return True
    cashier.close_trade(payment)
    return payment.status not in ("paid", "refunding")


def recover_pending(older_than: dt.timedelta) -> int:
    """Settle bookings left pending by an unreachable HIS: confirmed if it committed, else released."""
    cutoff = dt.datetime.now(dt.UTC) - older_than
    stuck = db.session.execute(db.select(Appointment).where(
        Appointment.status == "pending", Appointment.created_at < cutoff)).scalars().all()
    settled = 0
    for appointment in stuck:
        try:
            registration = current_his().query_registration(appointment.request_id)
            if registration is not None:
                _mark_confirmed(appointment, registration)
            else:
                _give_up(appointment, appointment.failure_code or "RECOVERED", unlock=True)
            settled += appointment.status != "pending"
        except (HisError, state.TransitionLost) as error:
            db.session.rollback()
            log.warning("pending appointment %s not settled yet: %s", appointment.id, type(error).__name__)
    return settled
