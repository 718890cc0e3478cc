"""Health card use cases: apply for a patient's card, show its dynamic code, report each use.

Applying registers the card on the platform (the platform answers the existing card for an ID it
knows), binds it to the patient's HIS id and stores it. Usage reports (用卡数据监测) go through the
outbox: a booking, a check-in, a payment or a staff scan queues one in its own transaction, and
the platform being down only delays it.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import logging

import segno
from flask import current_app
from sqlalchemy.exc import IntegrityError

from bff import clock, outbox
from bff.errors import AppError
from bff.extensions import db
from bff.health_cards.models import HealthCardRecord
from bff.patients import service as patients
from health_card.codes import CardChannel, Scene
from health_card.errors import (
    BindingConflict,
    HealthCardError,
    HealthCardRejected,
    HealthCardUnavailable,
    IdNumberInvalid,
)
from health_card.models import CardHolder, UsageReport

log = logging.getLogger("bff.health_cards")

_QR_CONTEXT = "health_card_qr"


def client():
    """The health card platform client."""
    return current_app.extensions["health_card"]


def _cipher():
    return current_app.extensions["data_cipher"]


def _platform_error(error: HealthCardError) -> AppError:
    if isinstance(error, HealthCardUnavailable):
        return AppError("HEALTH_CARD_UNAVAILABLE", headers={"Retry-After": "5"})
    if isinstance(error, IdNumberInvalid):
        return AppError("ID_NUMBER_INVALID")
    if isinstance(error, BindingConflict):
        return AppError("HEALTH_CARD_CONFLICT")
    return AppError("HEALTH_CARD_REJECTED")


def list_for(user_id: int) -> list[HealthCardRecord]:
    """The user's cards, oldest first (a patient removed from the list takes their card along)."""
    return list(db.session.execute(db.select(HealthCardRecord).where(
        HealthCardRecord.user_id == user_id, HealthCardRecord.patient.has(active=1))
        .order_by(HealthCardRecord.id)).scalars())


def get_for(user_id: int, card_id: int) -> HealthCardRecord:
    """One of the user's cards; anyone else's is a 404."""
    card = db.session.get(HealthCardRecord, card_id) if 0 < card_id < 2**31 else None
    if card is None or card.user_id != user_id or card.patient.active != 1:
        raise AppError("HEALTH_CARD_NOT_FOUND")
    return card


def card_of_patient(patient_id: int) -> HealthCardRecord | None:
    """The patient's card, if they have one."""
    return db.session.execute(db.select(HealthCardRecord).where(
        HealthCardRecord.patient_id == patient_id)).scalar_one_or_none()


def patient_of_card(health_card_id: str):
    """Who a scanned card belongs to among the patients listed by some user (the newest, should two
    users have added the same person); None when nobody's list has them."""
    card = db.session.execute(db.select(HealthCardRecord).where(
        HealthCardRecord.health_card_id == health_card_id, HealthCardRecord.status == "active",
        HealthCardRecord.patient.has(active=1)).order_by(HealthCardRecord.id.desc()).limit(1)).scalar_one_or_none()
    return card.patient if card else None


def apply(user_id: int, patient_id: int, wechat_code: str = "") -> tuple[HealthCardRecord, bool]:
    """The patient's card: registered and bound now, or the one they have; (card, created)."""
    patient = patients.get_for(user_id, patient_id)
    existing = card_of_patient(patient.id)
    if existing is not None:
        return existing, False
    holder = CardHolder(name=patient.name, id_number=_cipher().decrypt(patient.id_number_enc, "id_number"),
                        phone=_cipher().decrypt(patient.phone_enc, "phone"), id_type=patient.id_type,
                        gender="男" if patient.gender == "M" else "女", birthday=patient.birthday,
                        his_patient_id=patient.his_patient_id, wechat_code=wechat_code)
    try:
        registered = client().register_health_card(holder)
        client().bind_card_relation(patient.his_patient_id, registered.qr_code_text)
    except HealthCardError as error:
        log.warning("health card for patient %s not issued: %s", patient.id, error.code)
        raise _platform_error(error) from error
    card = HealthCardRecord(user_id=user_id, patient_id=patient.id, health_card_id=registered.health_card_id,
                            phid=registered.phid, qr_code_enc=_cipher().encrypt(registered.qr_code_text, _QR_CONTEXT))
    db.session.add(card)
    try:
        db.session.commit()
    except IntegrityError:  # the same application sent twice at once: the other one stored the card
        db.session.rollback()
        return card_of_patient(patient.id), False
    return card, True


def static_code(card: HealthCardRecord) -> str:
    """The card's static QR text."""
    return _cipher().decrypt(card.qr_code_enc, _QR_CONTEXT)


def dynamic_code(user_id: int, card_id: int) -> dict:
    """A fresh dynamic code for one of the user's cards, with its expiry and a PNG (base64)."""
    card = get_for(user_id, card_id)
    id_number = _cipher().decrypt(card.patient.id_number_enc, "id_number")
    try:
        code = client().get_dynamic_qr_code(card.health_card_id, id_number, card.patient.id_type)
    except HealthCardError as error:
        raise _platform_error(error) from error
    return {"qr_code_text": code.qr_code_text, "expires_at": code.expires_at, "png": qr_png(code.qr_code_text)}


def qr_png(text: str) -> str:
    """A QR code PNG (base64) a scanner reads at arm's length: error correction M, 8-pixel modules."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=8, border=2)
    return base64.b64encode(out.getvalue()).decode()


# -- usage reports ---------------------------------------------------------------------------------


def report_use(patient_id: int, scene: Scene, channel: CardChannel, key: str, department: str = "") -> None:
    """Queue a usage report for a patient's card in the caller's transaction (nothing when they have none).

    The payload names the card, not its code: the report reads the static code from the card when
    it is sent, so no code lies in clear in the outbox.
    """
    card = card_of_patient(patient_id)
    if card is None:
        return
    outbox.enqueue("report_card_use", f"card-use:{key}"[:128], {
        "card_id": card.id, "scene": str(scene), "channel": str(channel), "department": department,
        "at": clock.now().isoformat(), "request_id": _request_id(key)})


def payment_channel(payment) -> CardChannel:
    """Where a payment was made: a kiosk (face-pay) or the mini-program."""
    return CardChannel.KIOSK if payment.method == "face" else CardChannel.MINI_PROGRAM


def _request_id(key: str) -> str:
    """A stable request id per report, so a retry is counted once by the platform."""
    return _cipher().blind_index(f"card-use:{key}")[:32]


@outbox.handler("report_card_use")
def send_report(payload: dict) -> None:
    """Outbox: send one usage report to the platform (retried with backoff while it is down)."""
    card = db.session.get(HealthCardRecord, payload["card_id"])
    patient = card.patient
    report = UsageReport(qr_code_text=static_code(card), scene=payload["scene"],
                         channel=payload["channel"], at=dt.datetime.fromisoformat(payload["at"]),
                         department=payload["department"], name=patient.name,
                         id_number=_cipher().decrypt(patient.id_number_enc, "id_number"),
                         request_id=payload["request_id"])
    try:
        client().report_his_data(report)
    except HealthCardRejected as error:  # the platform will never take it: log for the regulator, stop trying
        log.error("usage report for card %s refused by the platform: %s", card.id, error.code)
