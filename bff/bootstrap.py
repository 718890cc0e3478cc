"""The one place adapters are chosen by configuration: the HIS and the WeChat login client."""
from __future__ import annotations

from bff.auth.wechat import WxLogin
from bff.his.port import HisPort
from bff.his.resilience import ResilientHis
from health_card.client import HealthCardClient
from payments.registry import Gateways


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
                        reset_timeout=config["HIS_BREAKER_COOLDOWN_SECONDS"])


def build_wx_login(config: dict) -> WxLogin:
    """The WeChat login client for the configured API base."""
    return WxLogin(config["WX_APPID"], config["WX_SECRET"], config["WX_API_BASE"])


def build_gateways(config: dict) -> Gateways:
    """The configured payment gateways (real SDK gateways against the sandbox or production)."""
    name = config["PAYMENT_GATEWAYS"]
    if name == "dummy":  # in-memory, for unit tests and demos without gateways
        from payments.dummy import DummyGateway

        wechat, alipay = DummyGateway("wechat_dummy"), DummyGateway("alipay_dummy")
        return Gateways({g.name: g for g in (wechat, alipay)}, app={"wechat": wechat.name, "alipay": alipay.name},
                        face={"wechat": wechat.name, "alipay": alipay.name},
                        notify_base_url=config["PAYMENT_NOTIFY_BASE_URL"],
                        channel_of={wechat.name: "wechat", alipay.name: "alipay"})
    raise RuntimeError(f"unknown PAYMENT_GATEWAYS {name!r} (known: dummy)")


def build_health_card(config: dict) -> HealthCardClient:
    """The health card platform client of this hospital's application."""
    return HealthCardClient(config["HEALTH_CARD_API_BASE"], config["HEALTH_CARD_APP_ID"],
                            config["HEALTH_CARD_APP_SECRET"], config["HEALTH_CARD_HOSPITAL_ID"],
                            timeout=config["HEALTH_CARD_TIMEOUT_SECONDS"],
                            hospital_name=config["HEALTH_CARD_HOSPITAL_NAME"])
