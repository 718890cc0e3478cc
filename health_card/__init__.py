"""Electronic health card (电子健康卡) platform client: no Flask, no bff.

``HealthCardClient`` signs and sends the platform's operations and answers frozen dataclasses
(``health_card.models``); scene and channel codes are in ``health_card.codes``; every failure is
one of ``health_card.errors``.
"""
from health_card.client import HealthCardClient
from health_card.codes import CardChannel, CardType, ChannelNum, CostType, IdType, Scene
from health_card.errors import (
    AppCredentialsInvalid,
    AppTokenInvalid,
    BindingConflict,
    CardNotFound,
    HealthCardAuthError,
    HealthCardError,
    HealthCardRejected,
    HealthCardUnavailable,
    HealthCodeInvalid,
    IdNumberInvalid,
    QRCodeExpired,
    QRCodeInvalid,
    QRCodeOtherHospital,
    RequestInvalid,
    SignatureInvalid,
)
from health_card.models import CardHolder, DynamicQRCode, HealthCard, RegisteredCard, ReportReceipt, UsageReport

__all__ = [
    "AppCredentialsInvalid", "AppTokenInvalid", "BindingConflict", "CardChannel", "CardHolder", "CardNotFound",
    "CardType", "ChannelNum", "CostType", "DynamicQRCode", "HealthCard", "HealthCardAuthError", "HealthCardClient",
    "HealthCardError", "HealthCardRejected", "HealthCardUnavailable", "HealthCodeInvalid", "IdNumberInvalid",
    "IdType", "QRCodeExpired", "QRCodeInvalid", "QRCodeOtherHospital", "RegisteredCard", "ReportReceipt",
    "RequestInvalid", "Scene", "SignatureInvalid", "UsageReport",
]
