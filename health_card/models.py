"""What the health card client takes and gives: frozen dataclasses, never the platform's raw dicts.

Personal fields (ID number, phone, address) are left out of ``repr`` so that logging a result
never writes them. Times are timezone-aware.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from health_card.codes import CardChannel, CardType, CostType, IdType, Scene


@dataclass(frozen=True)
class CardHolder:
    """The person to register a card for; gender and birthday come from a resident ID when omitted."""

    name: str
    id_number: str = field(repr=False)
    phone: str = field(repr=False)
    id_type: str = IdType.RESIDENT_ID
    gender: str | None = None  # "男" / "女"
    birthday: dt.date | None = None
    nation: str = ""  # e.g. "汉族"
    address: str = field(default="", repr=False)
    relation: str = ""  # family relation to the WeChat user, as the platform codes it
    his_patient_id: str = ""  # patid: binds the card to the HIS patient at registration
    wechat_code: str = field(default="", repr=False)  # 微信身份码 from the card plug-in, when there is one


@dataclass(frozen=True)
class RegisteredCard:
    """A card as registration answers it (the same card again for an ID already registered)."""

    health_card_id: str
    qr_code_text: str  # the static code of the card
    phid: str  # the platform's person id


@dataclass(frozen=True)
class HealthCard:
    """A card's holder as the platform knows them."""

    health_card_id: str
    phid: str
    name: str
    gender: str
    birthday: dt.date | None
    id_type: str
    id_number: str = field(repr=False)
    phone: str = field(default="", repr=False)
    nation: str = ""
    address: str = field(default="", repr=False)
    qr_code_text: str = ""  # the static code, when the platform gives it


@dataclass(frozen=True)
class DynamicQRCode:
    """A short-lived code to show instead of the static one."""

    qr_code_text: str
    health_card_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class UsageReport:
    """One use of a card, for ``reportHISData`` (用卡数据监测)."""

    qr_code_text: str
    scene: Scene | str
    channel: CardChannel | str
    at: dt.datetime
    department: str = ""  # the hospital's department code
    card_type: str = CardType.ELECTRONIC_HEALTH_CARD
    cost_type: str = CostType.SELF_PAY
    id_number: str = field(default="", repr=False)
    name: str = ""
    request_id: str = ""  # stable per report: a retry with it is not counted twice


@dataclass(frozen=True)
class ReportReceipt:
    """The platform took the report; request_id is the one it was sent under."""

    request_id: str


@dataclass(frozen=True)
class AppToken:
    """The platform's app token and when we stop trusting it."""

    value: str = field(repr=False)
    expires_at: dt.datetime
