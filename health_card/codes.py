"""Code values of the health card platform: usage scenes, card channels, ID and card types.

They are strings with leading zeros, sent as they are. Where a value comes from is said next to
it: "INTEGRATIONS" (``shared/docs/INTEGRATIONS.md``), "public SDKs" (the platform's open-source
client code and hospital apps that call ``reportHISData``), or "inferred" (our best reading of
the code pattern, to confirm against the platform's code table before going live).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class SceneCode:
    """One row of the platform's usage-scene list: our name for it, the code, its name, where it comes from."""

    member: str
    code: str
    name: str
    source: str


# The one table of usage scenes (用卡环节) we send: 7 digits each, as in the platform's published list.
# Every user goes through Scene (made from it below), and the simulator refuses a code not in it.
SCENE_TABLE: tuple[SceneCode, ...] = (
    SceneCode("BOOKING", "0101011", "预约挂号", "INTEGRATIONS"),
    SceneCode("SAME_DAY_REGISTRATION", "0101012", "当日挂号", "INTEGRATIONS"),
    SceneCode("REGISTRATION_RECORD", "0101013", "挂号记录", "INTEGRATIONS"),
    SceneCode("REGISTRATION_OTHER", "0101014", "挂号（其他环节）", "INTEGRATIONS - the code is in the platform's "
              "list; its exact name is to confirm against the platform's code table"),
    SceneCode("CHECK_IN", "0101021", "就诊签到", "inferred - first code of the 010102 (就诊) group; confirm"),
    SceneCode("OUTPATIENT_PAYMENT", "0101051", "门诊缴费", "public SDKs"),
    SceneCode("INPATIENT_PAYMENT", "0101053", "住院缴费", "public SDKs"),
    SceneCode("REPORT_QUERY", "0101081", "报告查询", "INTEGRATIONS (not the 6-digit group 010108)"),
)

Scene = enum.StrEnum("Scene", [(row.member, row.code) for row in SCENE_TABLE], module=__name__)
Scene.__doc__ = "Usage scene (用卡环节) of ``reportHISData.scene`` and ``verifyQRCode.medicalStep``: SCENE_TABLE."
SCENE_CODES = frozenset(row.code for row in SCENE_TABLE)


class CardChannel(enum.StrEnum):
    """Where the card was used (``reportHISData.cardChannel``, ``verifyQRCode.channelCode``); INTEGRATIONS."""

    COUNTER = "0100"  # 窗口
    KIOSK = "0200"  # 自助机
    DOCTOR_WORKSTATION = "0300"  # 医生工作站
    OFFICIAL_ACCOUNT = "0401"  # 公众号
    MINI_PROGRAM = "0402"  # 小程序


class ChannelNum(enum.IntEnum):
    """``commonIn.channelNum``: the channel the calling application is (public SDKs)."""

    OFFICIAL_ACCOUNT = 0  # 微信服务号
    MINI_PROGRAM = 1  # 微信小程序
    FACE_TERMINAL = 3  # 刷脸终端
    SCAN_TERMINAL = 4  # 扫码终端


class IdType(enum.StrEnum):
    """Identity document type (``idType``)."""

    RESIDENT_ID = "01"  # 居民身份证 - INTEGRATIONS


class CardType(enum.StrEnum):
    """Card presented (``reportHISData.cardType``)."""

    ELECTRONIC_HEALTH_CARD = "11"  # 电子健康卡 - public SDKs


class CostType(enum.StrEnum):
    """Fee category of the visit (``reportHISData.cardCostTypes``)."""

    SELF_PAY = "0100"  # 自费 - the value public SDKs send; its meaning is inferred


class QRCodeType(enum.StrEnum):
    """``getDynamicQRCode.codeType``."""

    DYNAMIC = "1"  # the public SDKs' default - meaning inferred


VERIFY_USE_TYPE = "01"  # verifyQRCode.useType as the public SDKs send it; its meaning is not documented there
