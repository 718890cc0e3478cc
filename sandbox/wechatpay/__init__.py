"""Sandbox of WeChat Pay: API v3 (mini-program payments), API v2 (XML, micropay, refunds over
mutual TLS), face-pay authinfo, signed and retried notifications, daily bills, ``/_control/``."""
from sandbox.wechatpay.app import create_app

__all__ = ["create_app"]
