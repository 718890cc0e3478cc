"""WeChat Pay gateways: API v3 for mini-program payments, API v2 for v2 merchants and face-pay.

``WeChatPayV3Gateway(**config)`` and ``WeChatPayV2Gateway(**config)`` take plain values (keys
documented on their constructors); neither imports Flask.
"""
from payments.wechatpay.common import expect_amount
from payments.wechatpay.v2 import WeChatPayV2Gateway
from payments.wechatpay.v2_facepay import FaceAuthInfo
from payments.wechatpay.v3 import WeChatPayV3Gateway

__all__ = ["FaceAuthInfo", "WeChatPayV2Gateway", "WeChatPayV3Gateway", "expect_amount"]
