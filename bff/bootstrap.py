"""The one place adapters are chosen by configuration: the HIS, WeChat login, gateways, health card, SMS."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bff.auth.wechat import WxLogin
from bff.his.port import HisPort
from bff.his.resilience import ResilientHis
from bff.sms.port import SmsSender
from health_card.client import HealthCardClient
from payments.interface import PaymentGateway
from payments.registry import NOTIFY_PATHS, Gateways


def build_his(config: dict) -> HisPort:
    """The configured HIS adapter, wrapped in the circuit breaker and catalog cache."""
    name = config["HIS_ADAPTER"]
    if name == "xmlws":
        from bff.his.adapters.xmlws import XmlWsHis

        adapter = XmlWsHis.from_config(config["HIS_MAPPING"], config["HIS_WSDL_URL"], config["HIS_TIMEOUT_SECONDS"])
    elif name == "memory":
        from bff.his.adapters.memory import MemoryHis

        adapter = MemoryHis()
    else:
        raise RuntimeError(f"unknown HIS_ADAPTER {name!r} (known: xmlws, memory)")
    return ResilientHis(adapter, failure_threshold=config["HIS_BREAKER_FAILURES"],
                        reset_timeout=config["HIS_BREAKER_COOLDOWN_SECONDS"],
                        probe_interval=config["HIS_BREAKER_PROBE_SECONDS"])


def build_wx_login(config: dict) -> WxLogin:
    """The WeChat login client for the configured API base."""
    return WxLogin(config["WX_APPID"], config["WX_SECRET"], config["WX_API_BASE"])


def _read(path: str, setting: str) -> str:
    if not path:
        raise RuntimeError(f"{setting} must name a key file")
    with open(path, encoding="ascii") as fh:
        return fh.read()


def _notify_url(config: dict, channel: str) -> str:
    return config["PAYMENT_NOTIFY_BASE_URL"].rstrip("/") + NOTIFY_PATHS[channel]


def _wechatpay_v3(config: dict) -> PaymentGateway:
    from payments.wechatpay.v3 import WeChatPayV3Gateway

    return WeChatPayV3Gateway(
        mchid=config["WXPAY_MCHID"], appid=config["WXPAY_APPID"],
        private_key=_read(config["WXPAY_PRIVATE_KEY_FILE"], "WXPAY_PRIVATE_KEY_FILE"),
        merchant_serial=config["WXPAY_MERCHANT_SERIAL"], apiv3_key=config["WXPAY_APIV3_KEY"],
        public_key=_read(config["WXPAY_PUBLIC_KEY_FILE"], "WXPAY_PUBLIC_KEY_FILE"),
        public_key_id=config["WXPAY_PUBLIC_KEY_ID"], notify_url=_notify_url(config, "wechat"),
        api_base_url=config["WXPAY_API_BASE"], timeout=(3.0, config["PAY_TIMEOUT_SECONDS"]))


def _wechatpay_v2(config: dict) -> PaymentGateway:
    from payments.wechatpay.v2 import WeChatPayV2Gateway

    return WeChatPayV2Gateway(
        mchid=config["WXPAY_MCHID"], appid=config["WXPAY_APPID"], api_key=config["WXPAY_V2_API_KEY"],
        notify_url=_notify_url(config, "wechat"), mch_cert=config["WXPAY_V2_CERT_FILE"] or None,
        mch_key=config["WXPAY_V2_KEY_FILE"] or None, api_base_url=config["WXPAY_V2_API_BASE"],
        payapp_base_url=config["WXPAY_FACE_API_BASE"], tls_verify=config["WXPAY_V2_CA_FILE"] or True,
        timeout=(3.0, config["PAY_TIMEOUT_SECONDS"]), poll_interval=config["FACEPAY_POLL_SECONDS"],
        poll_timeout=config["FACEPAY_WAIT_SECONDS"])


def _alipay(config: dict) -> PaymentGateway:
    from payments.alipay import AlipayGateway

    return AlipayGateway(
        app_id=config["ALIPAY_APP_ID"], seller_id=config["ALIPAY_SELLER_ID"],
        app_private_key=_read(config["ALIPAY_APP_PRIVATE_KEY_FILE"], "ALIPAY_APP_PRIVATE_KEY_FILE"),
        alipay_public_key=_read(config["ALIPAY_PUBLIC_KEY_FILE"], "ALIPAY_PUBLIC_KEY_FILE"),
        notify_url=_notify_url(config, "alipay"), server_url=config["ALIPAY_SERVER_URL"],
        timeout=config["PAY_TIMEOUT_SECONDS"], signer=config["ALIPAY_SIGNER"],
        face_poll_interval=config["FACEPAY_POLL_SECONDS"],
        face_poll_attempts=max(1, int(config["FACEPAY_WAIT_SECONDS"] / max(config["FACEPAY_POLL_SECONDS"], 0.01))))


def _dummies() -> list[PaymentGateway]:
    from payments.dummy import DummyGateway

    return [DummyGateway("wechat_dummy"), DummyGateway("alipay_dummy")]


@dataclass(frozen=True)
class GatewaySetup:
    """One gateway a hospital may name in PAYMENT_GATEWAYS: its channel, the settings it reads, its factory."""

    name: str
    channel: str  # one of payments.registry.CHANNELS
    settings: tuple[str, ...]
    build: Callable[[dict], PaymentGateway]


_WXPAY = ("WXPAY_MCHID", "WXPAY_APPID")
GATEWAYS = {setup.name: setup for setup in (
    GatewaySetup("wechatpay_v3", "wechat", (*_WXPAY, "WXPAY_PRIVATE_KEY_FILE", "WXPAY_MERCHANT_SERIAL",
                 "WXPAY_APIV3_KEY", "WXPAY_PUBLIC_KEY_FILE", "WXPAY_PUBLIC_KEY_ID", "WXPAY_API_BASE"), _wechatpay_v3),
    GatewaySetup("wechatpay_v2", "wechat", (*_WXPAY, "WXPAY_V2_API_KEY", "WXPAY_V2_CERT_FILE", "WXPAY_V2_KEY_FILE",
                 "WXPAY_V2_API_BASE", "WXPAY_V2_CA_FILE", "WXPAY_FACE_API_BASE"), _wechatpay_v2),
    GatewaySetup("alipay", "alipay", ("ALIPAY_APP_ID", "ALIPAY_SELLER_ID", "ALIPAY_APP_PRIVATE_KEY_FILE",
                 "ALIPAY_PUBLIC_KEY_FILE", "ALIPAY_SERVER_URL", "ALIPAY_SIGNER"), _alipay),
)}


def build_gateways(config: dict) -> Gateways:
    """The payment gateways PAYMENT_GATEWAYS names, and which serves in-app and face payments per channel."""
    names = [n.strip() for n in config["PAYMENT_GATEWAYS"].split(",") if n.strip()]
    if names == ["dummy"]:  # in-memory, for unit tests and demos without gateways
        built = {g.name: g for g in _dummies()}
        channel_of = {"wechat_dummy": "wechat", "alipay_dummy": "alipay"}
        app = {"wechat": "wechat_dummy", "alipay": "alipay_dummy"}
        face = dict(app)  # its own: a hospital may take one without the other
    else:
        unknown = sorted(set(names) - set(GATEWAYS))
        if unknown:
            raise RuntimeError(f"unknown PAYMENT_GATEWAYS {unknown} (known: {', '.join(GATEWAYS)}, or dummy)")
        built = {name: GATEWAYS[name].build(config) for name in names}
        channel_of = {name: GATEWAYS[name].channel for name in names}
        app = {c: n for c, n in (("wechat", config["PAY_WECHAT_APP_GATEWAY"]), ("alipay", "alipay")) if n in built}
        face = {c: n for c, n in (("wechat", config["PAY_WECHAT_FACE_GATEWAY"]), ("alipay", "alipay")) if n in built}
    if config["PAYMENT_MODE"] == "online" and "wechat" not in app:
        raise RuntimeError("PAYMENT_MODE=online needs a WeChat Pay gateway in PAYMENT_GATEWAYS")
    return Gateways(built, app=app, face=face, notify_base_url=config["PAYMENT_NOTIFY_BASE_URL"],
                    channel_of=channel_of)


def build_health_card(config: dict) -> HealthCardClient:
    """The health card platform client of this hospital's application."""
    return HealthCardClient(config["HEALTH_CARD_API_BASE"], config["HEALTH_CARD_APP_ID"],
                            config["HEALTH_CARD_APP_SECRET"], config["HEALTH_CARD_HOSPITAL_ID"],
                            timeout=config["HEALTH_CARD_TIMEOUT_SECONDS"],
                            hospital_name=config["HEALTH_CARD_HOSPITAL_NAME"])


def build_sms(config: dict) -> SmsSender:
    """The SMS service that sends patients their verification codes."""
    name = config["SMS_ADAPTER"]
    if name != "tencent":
        raise RuntimeError(f"unknown SMS_ADAPTER {name!r} (known: tencent)")
    from bff.sms.tencent import TencentSms

    return TencentSms.from_config(config)
