"""The health card open platform client: app token, the seven operations, typed results.

    client = HealthCardClient(base_url, app_id, app_secret, hospital_id)
    card = client.register_health_card(CardHolder(name="张三", id_number=..., phone=...))
    code = client.get_dynamic_qr_code(card.health_card_id, id_number)
    holder = client.verify_qr_code(code.qr_code_text, Scene.SAME_DAY_REGISTRATION, CardChannel.COUNTER)

Thread-safe: one client serves every request thread of a process. Only our errors
(``health_card.errors``) leave it. A call refused for its app token fetches a new token and
is sent once more.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import requests

from health_card import identity
from health_card.codes import VERIFY_USE_TYPE, CardChannel, ChannelNum, IdType, QRCodeType, Scene
from health_card.errors import AppTokenInvalid, HealthCardUnavailable
from health_card.models import (
    AppToken,
    CardHolder,
    DynamicQRCode,
    HealthCard,
    RegisteredCard,
    ReportReceipt,
    UsageReport,
)
from health_card.tokens import AppTokenCache
from health_card.transport import AUTH_PATH, ISV_PATH, Transport

HOSPITAL_TZ = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _new_request_id() -> str:
    return uuid.uuid4().hex


def _required(rsp: Mapping[str, Any], name: str) -> str:
    value = rsp.get(name)
    if value in (None, ""):
        raise HealthCardUnavailable(f"health card platform reply lacks {name}")
    return str(value)


def _date(value: Any) -> dt.date | None:
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def card_from(data: Mapping[str, Any]) -> HealthCard:
    """A HealthCard from the platform's card fields (``rsp.card`` or a flat verifyQRCode rsp)."""
    return HealthCard(
        health_card_id=_required(data, "healthCardId"), phid=str(data.get("phid") or ""),
        name=str(data.get("name") or ""), gender=str(data.get("gender") or ""), birthday=_date(data.get("birthday")),
        id_type=str(data.get("idType") or ""), id_number=str(data.get("idNumber") or ""),
        phone=str(data.get("phone1") or data.get("phone") or ""), nation=str(data.get("nation") or ""),
        address=str(data.get("address") or ""), qr_code_text=str(data.get("qrCodeText") or ""))


class HealthCardClient:
    """Client of one hospital's application on the health card platform."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, hospital_id: str,
                 channel_num: int = ChannelNum.MINI_PROGRAM, timeout: float = 5.0,
                 clock: Callable[[], dt.datetime] | None = None, *, retries: int = 1, retry_backoff: float = 0.1,
                 token_refresh_margin: float = 300.0, qr_validity_seconds: int = 60, hospital_name: str = "",
                 session: requests.Session | None = None):
        self.clock = clock or (lambda: dt.datetime.now(HOSPITAL_TZ))
        self.hospital_id = hospital_id
        self.hospital_name = hospital_name
        self.qr_validity_seconds = qr_validity_seconds
        self._transport = Transport(base_url, app_id, app_secret, hospital_id, channel_num, timeout, self.clock,
                                    retries=retries, retry_backoff=retry_backoff, session=session)
        self._tokens = AppTokenCache(self._fetch_app_token, self.clock, token_refresh_margin)

    # -- the app token ---------------------------------------------------------------------------

    def _fetch_app_token(self) -> AppToken:
        asked_at = self.clock()
        rsp = self._transport.call(AUTH_PATH, {"appId": self._transport.app_id}, "", idempotent=True,
                                   request_id=_new_request_id())
        try:
            ttl = int(rsp.get("expiresIn", 7200))
        except (TypeError, ValueError):
            ttl = 7200
        return AppToken(_required(rsp, "appToken"), asked_at + dt.timedelta(seconds=ttl))

    def check(self) -> None:
        """Make sure a token can be had (for readiness checks); raises our errors."""
        self._tokens.current()

    def _call(self, operation: str, req: Mapping[str, Any], *, idempotent: bool = True,
              request_id: str | None = None) -> dict:
        request_id = request_id or _new_request_id()
        token = self._tokens.current()
        try:
            return self._transport.call(ISV_PATH + operation, req, token, idempotent=idempotent,
                                        request_id=request_id)
        except AppTokenInvalid:
            # the platform dropped the token before its time (or another process replaced it):
            # nothing happened on its side, so one more try with a fresh token is safe
            self._tokens.invalidate(token)
            return self._transport.call(ISV_PATH + operation, req, self._tokens.current(), idempotent=idempotent,
                                        request_id=request_id)

    # -- operations ------------------------------------------------------------------------------

    def register_health_card(self, holder: CardHolder) -> RegisteredCard:
        """Register a card (registerHealthCard); an ID registered before answers its existing card."""
        gender, birthday = identity.gender_and_birthday(holder)
        req = {"wechatCode": holder.wechat_code, "name": holder.name, "gender": gender, "nation": holder.nation,
               "birthday": birthday.isoformat() if birthday else "", "idType": holder.id_type,
               "idNumber": holder.id_number, "phone1": holder.phone, "address": holder.address,
               "patid": holder.his_patient_id, "relation": holder.relation}
        rsp = self._call("registerHealthCard", req)
        return RegisteredCard(health_card_id=_required(rsp, "healthCardId"),
                              qr_code_text=_required(rsp, "qrCodeText"), phid=str(rsp.get("phid") or ""))

    def get_health_card_by_health_code(self, health_code: str) -> HealthCard:
        """The card a one-time health authorisation code stands for (not retried: the code is single-use)."""
        rsp = self._call("getHealthCardByHealthCode", {"healthCode": health_code}, idempotent=False)
        return card_from(self._card_part(rsp))

    def get_health_card_by_qr_code(self, qr_code_text: str) -> HealthCard:
        """The card behind a static or (unexpired, this hospital's) dynamic code."""
        rsp = self._call("getHealthCardByQRCode", {"qrCodeText": qr_code_text})
        return card_from(self._card_part(rsp))

    def get_dynamic_qr_code(self, health_card_id: str, id_number: str,
                            id_type: str = IdType.RESIDENT_ID) -> DynamicQRCode:
        """A fresh dynamic code for the card; expires_at errs on the early side."""
        issued_at = self.clock()
        rsp = self._call("getDynamicQRCode", {"healthCardId": health_card_id, "idType": id_type,
                                              "idNumber": id_number, "codeType": QRCodeType.DYNAMIC})
        try:
            validity = int(rsp.get("expiresIn") or self.qr_validity_seconds)
        except (TypeError, ValueError):
            validity = self.qr_validity_seconds
        return DynamicQRCode(qr_code_text=_required(rsp, "qrCodeText"),
                             health_card_id=str(rsp.get("healthCardId") or health_card_id),
                             issued_at=issued_at, expires_at=issued_at + dt.timedelta(seconds=validity))

    def verify_qr_code(self, qr_code_text: str, scene: Scene | str, channel: CardChannel | str,
                       terminal_id: str = "") -> HealthCard:
        """Check a scanned code with the platform (verifyQRCode) and answer its holder."""
        req = {"qrCodeText": qr_code_text, "terminalId": terminal_id, "time": self._now_text(),
               "medicalStep": str(scene), "channelCode": str(channel), "hospitalCode": self.hospital_id,
               "hospitalName": self.hospital_name, "useType": VERIFY_USE_TYPE}
        return card_from(self._card_part(self._call("verifyQRCode", req)))

    def bind_card_relation(self, his_patient_id: str, qr_code_text: str) -> None:
        """Bind the card to the hospital's patient id (bindCardRelation); binding again is harmless."""
        self._call("bindCardRelation", {"patid": his_patient_id, "qrCodeText": qr_code_text})

    def report_his_data(self, report: UsageReport) -> ReportReceipt:
        """Report one use of a card (reportHISData); the same request_id again is counted once."""
        request_id = report.request_id or _new_request_id()
        req = {"qrCodeText": report.qr_code_text, "idCardNumber": report.id_number, "name": report.name,
               "time": report.at.astimezone(HOSPITAL_TZ).strftime(TIME_FORMAT), "hospitalCode": self.hospital_id,
               "scene": str(report.scene), "department": report.department, "cardType": str(report.card_type),
               "cardChannel": str(report.channel), "cardCostTypes": str(report.cost_type)}
        self._call("reportHISData", req, request_id=request_id)
        return ReportReceipt(request_id=request_id)

    # -- helpers ---------------------------------------------------------------------------------

    def _now_text(self) -> str:
        return self.clock().astimezone(HOSPITAL_TZ).strftime(TIME_FORMAT)

    @staticmethod
    def _card_part(rsp: Mapping[str, Any]) -> Mapping[str, Any]:
        card = rsp.get("card")
        return card if isinstance(card, Mapping) else rsp
