"""wechatpy's ``WeChatPay`` (1.8.18) made safe to build on: our sign type, every reply verified, our errors.

wechatpy signs requests (MD5, or HMAC-SHA256 when the data says ``sign_type``), posts XML and
raises ``WeChatPayException`` for ``return_code``/``result_code`` FAIL, but it never checks the
signature of a reply. :class:`VerifyingWeChatPay` hooks its two internal steps: ``_request``
(to add our ``sign_type`` to every call, including wrappers such as ``micropay.create`` that
take no such argument) and ``_handle_result`` (to verify the reply before wechatpy believes it).
:func:`call` runs one wrapper and lets only ``payments.interface`` errors out.
"""
from __future__ import annotations

from collections.abc import Callable

import requests
from wechatpy.exceptions import WeChatPayException
from wechatpy.pay import WeChatPay

from payments.interface import GatewayRejected, PaymentError
from payments.wechatpay import errors
from payments.wechatpay.v2_protocol import HMAC_SHA256, SIGN_TYPES, ProtocolError, from_xml, verify

RETURN_FAIL = "RETURN_FAIL"


class VerifyingWeChatPay(WeChatPay):
    """WeChatPay that signs with ``sign_type`` and refuses a reply whose signature does not verify."""

    def __init__(self, *, sign_type: str, tls_verify: bool | str, api_base_url: str, **kwargs):
        if sign_type not in SIGN_TYPES:
            raise GatewayRejected(f"sign_type must be one of {SIGN_TYPES}", gateway_code="CONFIG_INVALID")
        super().__init__(**kwargs)
        self.sign_type = sign_type
        self.API_BASE_URL = api_base_url.rstrip("/") + "/"  # wechatpy joins endpoints without a slash
        # Per request, not on the Session: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override
        # Session.verify, which would silently swap the CA we were told to trust.
        self.tls_verify = tls_verify

    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs.setdefault("verify", self.tls_verify)
        data = kwargs.get("data")
        if isinstance(data, dict) and self.sign_type == HMAC_SHA256:
            data.setdefault("sign_type", HMAC_SHA256)
        return super()._request(method, url_or_endpoint, **kwargs)

    def _handle_result(self, res):
        res.encoding = "utf-8"
        if res.text.lstrip().startswith("<"):  # bills come back as plain CSV text, unsigned
            try:
                fields = from_xml(res.text)
            except ProtocolError as exc:
                raise errors.reply_unreadable("not XML") from exc
            if fields.get("return_code") == "SUCCESS" and not verify(fields, self.api_key, self.sign_type):
                raise errors.reply_unreadable("reply signature does not verify")
        return super()._handle_result(res)


def _from_pay_exception(exc: WeChatPayException, refund: bool) -> PaymentError:
    if exc.return_code is None:  # wechatpy raises this for an HTTP error status
        status = exc.response.status_code if exc.response is not None else 502
        return errors.for_http(status, None, "", refund=refund)
    if exc.return_code != "SUCCESS":
        # return_code FAIL: the request itself was refused (signature, XML, parameters, certificate)
        return GatewayRejected(str(exc.return_msg or "FAIL")[:200], gateway_code=RETURN_FAIL)
    return errors.for_code(exc.errcode, str(exc.errmsg or "")[:200], refund=refund)


def call(method: Callable, *args, refund: bool = False, **kwargs) -> dict | str:
    """Run one wechatpy call; answer its verified reply (a dict, or text for bills) or raise our error."""
    try:
        return method(*args, **kwargs)
    except PaymentError:
        raise
    except WeChatPayException as exc:
        raise _from_pay_exception(exc, refund) from exc
    except requests.RequestException as exc:
        raise errors.for_transport(exc) from exc
    except Exception as exc:  # KeyError on a reply without return_code, expat errors …
        raise errors.reply_unreadable(type(exc).__name__) from exc
