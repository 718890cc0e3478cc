"""The Alipay open-platform wire rules, written from Alipay's documentation (not from our client).

* Request signature: every parameter but ``sign`` (``sign_type`` included), values empty or only
  white space dropped, sorted by name, ``k=v`` joined by ``&``, SHA256withRSA (RSA2) with the
  app's key, Base64.
* Answer: ``{"<method with _>_response": {...}, "sign": "..."}``, the signature over the exact JSON
  text of the inner object, made with Alipay's platform key.
* Notification: a form whose signature covers every non-empty field but ``sign`` and ``sign_type``.
* Money is yuan text with two decimals; times are Asia/Shanghai ``yyyy-MM-dd HH:mm:ss``, except
  a refund notification's ``gmt_refund``, which carries milliseconds (``yyyy-MM-dd HH:mm:ss.SSS``).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_YUAN = re.compile(r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def sign_content(params: dict, exclude: tuple[str, ...]) -> str:
    """Sorted ``k=v&…`` of the parameters not in exclude, those empty or only white space left out."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in exclude and not _blank(v))


class Signer:
    """Alipay's side of RSA2: the platform private key signs, the app public key verifies."""

    def __init__(self, platform_private_pem: str, app_public_pem: str):
        self._private = serialization.load_pem_private_key(platform_private_pem.encode(), password=None)
        self._app_public = serialization.load_pem_public_key(app_public_pem.encode())

    def sign(self, text: str) -> str:
        """Base64 RSA2 signature of text (UTF-8) with the platform key."""
        raw = self._private.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode("ascii")

    def verify_request(self, params: dict) -> bool:
        """True when the request's ``sign`` is the app's RSA2 signature of its other parameters."""
        try:
            signature = base64.b64decode(params.get("sign", ""), validate=True)
            self._app_public.verify(signature, sign_content(params, ("sign",)).encode("utf-8"),
                                    padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def answer(self, method: str, body: dict) -> str:
        """The signed answer text for method."""
        inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        key = method.replace(".", "_") + "_response"
        return '{"%s":%s,"sign":"%s"}' % (key, inner, self.sign(inner))  # noqa: UP031 - the exact bytes signed

    def sign_notification(self, fields: dict) -> dict:
        """The notification form with sign_type and sign added."""
        signed = {**fields, "sign_type": "RSA2"}
        signed["sign"] = self.sign(sign_content(signed, ("sign", "sign_type")))
        return signed


def yuan(fen: int) -> str:
    """2500 → "25.00"."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen(text) -> int:
    """ "25.00" → 2500; ValueError for anything else (more decimals, signs, floats in JSON)."""
    if not isinstance(text, str) or not _YUAN.fullmatch(text):
        raise ValueError(f"bad amount {text!r}")
    whole, _, part = text.partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


def now() -> dt.datetime:
    """Now in Asia/Shanghai."""
    return dt.datetime.now(SHANGHAI)


def format_time(moment: dt.datetime) -> str:
    """Alipay's time text."""
    return moment.astimezone(SHANGHAI).strftime(TIME_FORMAT)


def format_time_ms(moment: dt.datetime) -> str:
    """Alipay's time text with milliseconds, as in a refund notification's gmt_refund."""
    return f"{format_time(moment)}.{moment.microsecond // 1000:03d}"


def parse_time(text: str) -> dt.datetime:
    """Alipay's time text (Shanghai wall clock) as an aware datetime; ValueError when malformed."""
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=SHANGHAI)
