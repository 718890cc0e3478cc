"""The platform's ISV operations: check ``req`` as the platform does, act on the state, build ``rsp``.

Each handler takes the platform, the authorised call (app, time) and ``req``, answers the
``rsp`` object, and raises PlatformError for a refusal.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.healthcard import ids
from sandbox.healthcard import results as rc
from sandbox.healthcard.results import PlatformError
from sandbox.healthcard.store import DYNAMIC, Card, Platform, SandboxApp

RESIDENT_ID = "01"
PHONE = re.compile(r"1[3-9]\d{9}")
# The platform takes only the usage-scene codes of its published list (7 digits). The simulator keeps
# the list as the platform publishes it, not our client's table (the simulator imports nothing of
# ours); tests/unit/test_health_card_codes.py checks every code the client sends is in it.
SCENE_CODES = frozenset({
    "0101011",  # 预约挂号
    "0101012",  # 当日挂号
    "0101013",  # 挂号记录
    "0101014",  # 挂号（其他环节）
    "0101021",  # 就诊签到
    "0101051",  # 门诊缴费
    "0101053",  # 住院缴费
    "0101081",  # 报告查询
})
CHANNEL = re.compile(r"\d{4}")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Call:
    """An authorised call: who makes it and when."""

    app: SandboxApp
    now: dt.datetime
    request_id: str


def _fields(req: dict, *names: str) -> list[str]:
    values = []
    for name in names:
        value = req.get(name)
        if not isinstance(value, str) or not value.strip():
            raise PlatformError(rc.PARAM_INVALID, f"参数 {name} 不能为空")
        values.append(value.strip())
    return values


def card_fields(card: Card) -> dict:
    """A card as the platform answers it."""
    return {"healthCardId": card.health_card_id, "phid": card.phid, "name": card.name, "gender": card.gender,
            "nation": card.nation, "birthday": card.birthday.isoformat(), "idType": card.id_type,
            "idNumber": card.id_number, "phone1": card.phone, "address": card.address,
            "qrCodeText": card.qr_code_text}


def _holder(req: dict, today: dt.date) -> dict:
    name, id_type, id_number, phone = _fields(req, "name", "idType", "idNumber", "phone1")
    if id_type != RESIDENT_ID:
        raise PlatformError(rc.PARAM_INVALID, "沙箱仅支持居民身份证(idType 01)")
    id_number = id_number.upper()
    problem = ids.problem(id_number, today)
    if problem:
        raise PlatformError(rc.ID_INVALID, problem)
    if not PHONE.fullmatch(phone):
        raise PlatformError(rc.PARAM_INVALID, "手机号码无效")
    born, gender = ids.birth_date(id_number), ids.gender(id_number)
    if req.get("birthday") and str(req["birthday"]).replace("-", "") != born.strftime("%Y%m%d"):
        raise PlatformError(rc.PARAM_INVALID, "出生日期与证件号码不符")
    if req.get("gender") and req["gender"] != gender:
        raise PlatformError(rc.PARAM_INVALID, "性别与证件号码不符")
    return {"id_type": id_type, "id_number": id_number, "name": name, "gender": gender, "birthday": born,
            "phone": phone, "nation": str(req.get("nation") or ""), "address": str(req.get("address") or "")}


def register_health_card(platform: Platform, call: Call, req: dict) -> dict:
    """registerHealthCard: one card per ID number; the same ID again answers the same card."""
    card = platform.register(call.app, _holder(req, call.now.date()), call.now)
    if isinstance(req.get("patid"), str) and req["patid"].strip():
        platform.bind(call.app.hospital_id, req["patid"].strip(), card, call.now)
    return {"qrCodeText": card.qr_code_text, "healthCardId": card.health_card_id, "phid": card.phid}


def get_health_card_by_health_code(platform: Platform, call: Call, req: dict) -> dict:
    """getHealthCardByHealthCode: spends a one-time health code."""
    (health_code,) = _fields(req, "healthCode")
    return {"card": card_fields(platform.use_health_code(health_code, call.now))}


def get_health_card_by_qr_code(platform: Platform, call: Call, req: dict) -> dict:
    """getHealthCardByQRCode: the card behind a static or live dynamic code."""
    (text,) = _fields(req, "qrCodeText")
    _, card = platform.resolve(text, call.app.hospital_id, call.now)
    return {"card": card_fields(card)}


def get_dynamic_qr_code(platform: Platform, call: Call, req: dict) -> dict:
    """getDynamicQRCode: a code of the card for the calling hospital, valid qr_ttl seconds."""
    card_id, id_type, id_number = _fields(req, "healthCardId", "idType", "idNumber")
    code = platform.issue_dynamic(platform.card(card_id, id_type, id_number), call.app.hospital_id, call.now)
    return {"qrCodeText": code.text, "healthCardId": card_id, "expiresIn": platform.qr_ttl}


def verify_qr_code(platform: Platform, call: Call, req: dict) -> dict:
    """verifyQRCode: a scanned code checked, its holder answered."""
    (text,) = _fields(req, "qrCodeText")
    if req.get("hospitalCode") and req["hospitalCode"] != call.app.hospital_id:
        raise PlatformError(rc.PARAM_INVALID, "hospitalCode 与 hospitalId 不符")
    if req.get("medicalStep") and req["medicalStep"] not in SCENE_CODES:
        raise PlatformError(rc.PARAM_INVALID, "medicalStep 不在用卡环节代码表中")
    _, card = platform.resolve(text, call.app.hospital_id, call.now)
    return {**card_fields(card), "result": True}


def bind_card_relation(platform: Platform, call: Call, req: dict) -> dict:
    """bindCardRelation: the HIS patient id bound to the card behind the code."""
    patid, text = _fields(req, "patid", "qrCodeText")
    _, card = platform.resolve(text, call.app.hospital_id, call.now)
    platform.bind(call.app.hospital_id, patid, card, call.now)
    return {"result": True}


def report_his_data(platform: Platform, call: Call, req: dict) -> dict:
    """reportHISData: a usage report kept (once per requestId); late reports of expired codes count."""
    text, when, hospital_code, scene, card_type, channel = _fields(
        req, "qrCodeText", "time", "hospitalCode", "scene", "cardType", "cardChannel")
    if hospital_code != call.app.hospital_id:
        raise PlatformError(rc.PARAM_INVALID, "hospitalCode 与 hospitalId 不符")
    if scene not in SCENE_CODES or not CHANNEL.fullmatch(channel):
        raise PlatformError(rc.PARAM_INVALID, "scene 不在用卡环节代码表中，或 cardChannel 格式错误")
    try:
        dt.datetime.strptime(when, TIME_FORMAT)
    except ValueError:
        raise PlatformError(rc.PARAM_INVALID, "time 格式应为 yyyy-MM-dd HH:mm:ss") from None
    code, card = platform.resolve(text, call.app.hospital_id, call.now, allow_expired=True)
    platform.record_report(call.app, call.request_id, {
        "hospital_id": call.app.hospital_id, "health_card_id": card.health_card_id, "qr_code_text": text,
        "dynamic": code.kind == DYNAMIC, "scene": scene, "card_channel": channel, "card_type": card_type,
        "department": str(req.get("department") or ""), "card_cost_types": str(req.get("cardCostTypes") or ""),
        "time": when, "received_at": call.now.isoformat()})
    return {}


OPERATIONS: dict[str, Callable[[Platform, Call, dict], dict]] = {
    "registerHealthCard": register_health_card,
    "getHealthCardByHealthCode": get_health_card_by_health_code,
    "getHealthCardByQRCode": get_health_card_by_qr_code,
    "getDynamicQRCode": get_dynamic_qr_code,
    "verifyQRCode": verify_qr_code,
    "bindCardRelation": bind_card_relation,
    "reportHISData": report_his_data,
}
