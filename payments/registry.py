"""The gateways a hospital configured, and which one serves what.

A hospital names one gateway per use: in-app payments per channel (``wechat``: WeChat Pay v3 or
v2; ``alipay``) and face-pay at kiosks per channel. Every configured gateway stays reachable by
name, because a payment keeps talking to the gateway that took it (queries, refunds, bills).
The BFF's bootstrap builds the gateways from its settings and hands them to :class:`Gateways`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from payments.interface import FacePayGateway, PaymentGateway

# Where each channel's notifications come in, below the BFF's public base URL.
NOTIFY_PATHS = {"wechat": "/notify/wechatpay", "alipay": "/notify/alipay"}
# The channels a payer can choose: one per notification path (each gateway serves one of them).
CHANNELS = tuple(NOTIFY_PATHS)


class GatewayNotConfigured(LookupError):
    """No gateway is configured for what was asked."""


@dataclass
class Gateways:
    """The configured gateways by name, and the choice per use."""

    by_name_: dict[str, PaymentGateway]
    app: dict[str, str]  # channel -> gateway name for in-app payments
    face: dict[str, str] = field(default_factory=dict)  # channel -> gateway name for kiosk face-pay
    notify_base_url: str = ""
    channel_of: dict[str, str] = field(default_factory=dict)  # gateway name -> channel

    def by_name(self, name: str) -> PaymentGateway:
        """The gateway that took a payment."""
        try:
            return self.by_name_[name]
        except KeyError:
            raise GatewayNotConfigured(f"gateway {name!r} is not configured") from None

    def for_app(self, channel: str) -> PaymentGateway:
        """The gateway for in-app payments of a channel."""
        if channel not in self.app:
            raise GatewayNotConfigured(f"no in-app gateway for channel {channel!r}")
        return self.by_name(self.app[channel])

    def for_face(self, channel: str) -> FacePayGateway:
        """The gateway for kiosk face-pay of a channel."""
        gateway = self.by_name(self.face[channel]) if channel in self.face else None
        if not isinstance(gateway, FacePayGateway):
            raise GatewayNotConfigured(f"no face-pay gateway for channel {channel!r}")
        return gateway

    def for_notification(self, channel: str, headers: Mapping[str, str], body: bytes) -> PaymentGateway:
        """The gateway a notification to a channel's URL speaks for (v2 XML or v3 JSON on one WeChat URL)."""
        names = [n for n, c in self.channel_of.items() if c == channel]
        if not names:
            raise GatewayNotConfigured(f"no gateway for channel {channel!r}")
        xml = body.lstrip()[:1] == b"<"
        for name in names:
            if getattr(self.by_name_[name], "speaks_xml", False) == xml:
                return self.by_name_[name]
        return self.by_name_[names[0]]

    def notify_url(self, gateway_name: str) -> str:
        """The notification URL to give the gateway when creating a trade or a refund."""
        return self.notify_base_url.rstrip("/") + NOTIFY_PATHS[self.channel_of[gateway_name]]

    def all(self) -> Iterable[PaymentGateway]:
        """Every configured gateway (for bills and reconciliation)."""
        return self.by_name_.values()

