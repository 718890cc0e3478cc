"""Alipay gateway (official alipay-sdk-python): mini-program trades, smile-to-pay, refunds, notifications, bills."""
from payments.alipay.gateway import PRODUCTION_URL, AlipayGateway

__all__ = ["AlipayGateway", "PRODUCTION_URL"]
