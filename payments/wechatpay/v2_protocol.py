"""WeChat Pay API v2 wire rules the wechatpy library leaves to us: signatures, XML, refund req_info.

Signature (签名算法): the non-empty fields except ``sign``, sorted by name, joined as
``k=v&k=v``, then ``&key=<API key>``; MD5 or HMAC-SHA256 (keyed with the API key), upper-case
hex. A reply or notification says HMAC-SHA256 in its ``sign_type`` field when it uses it;
replies use the algorithm of the request. wechatpy checks only MD5 and only where asked to.

Refund notifications are not signed: their ``req_info`` is AES-256-ECB with the key
md5(API key) as 32 lower-case hex characters, PKCS#7 padded. ECB authenticates nothing, so the
padding and the XML inside are checked strictly, and a refund believed from it should still be
confirmed by a refund query before money decisions that matter.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from payments.interface import RefundState, TradeStatus
from payments.wechatpay.common import SHANGHAI, TRADE_STATES

MD5, HMAC_SHA256 = "MD5", "HMAC-SHA256"
SIGN_TYPES = (MD5, HMAC_SHA256)
REFUND_STATES = {
    "SUCCESS": RefundState.SUCCEEDED, "PROCESSING": RefundState.PROCESSING,
    "CHANGE": RefundState.FAILED, "REFUNDCLOSE": RefundState.CLOSED,
}


class ProtocolError(ValueError):
    """A v2 message that is not what the protocol says (bad XML, signature, padding …)."""


def _sign_text(params: Mapping[str, object], key: str) -> bytes:
    pairs = [f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] not in (None, "")]
    return ("&".join(pairs) + f"&key={key}").encode("utf-8")


def sign(params: Mapping[str, object], key: str, sign_type: str = MD5) -> str:
    """The ``sign`` of params with the API key (MD5 or HMAC-SHA256)."""
    text = _sign_text(params, key)
    if sign_type == HMAC_SHA256:
        return hmac.new(key.encode("utf-8"), text, hashlib.sha256).hexdigest().upper()
    if sign_type == MD5:
        return hashlib.md5(text).hexdigest().upper()  # noqa: S324 - the protocol's MD5 signature
    raise ProtocolError(f"unsupported sign_type {sign_type!r}")


def verify(params: Mapping[str, str], key: str, sign_type: str | None = None) -> bool:
    """Whether params carry a valid ``sign``; the algorithm is sign_type, else the message's own, else MD5."""
    algorithm = sign_type or params.get("sign_type") or MD5
    if algorithm not in SIGN_TYPES or not params.get("sign"):
        return False
    # Hex digests: the case of the letters carries no meaning.
    return hmac.compare_digest(sign(params, key, algorithm), str(params["sign"]).upper())


def to_xml(params: Mapping[str, object]) -> bytes:
    """A flat ``<xml>`` document, every value escaped text."""
    parts = [f"<{k}>{escape(str(v))}</{k}>" for k, v in params.items() if v not in (None, "")]
    return ("<xml>" + "".join(parts) + "</xml>").encode("utf-8")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def from_xml(data: bytes | str, root: str = "xml") -> dict[str, str]:
    """The fields of a flat ``<xml>`` (or ``<root>``) document; ProtocolError for anything else."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        element = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise ProtocolError("not XML") from exc
    if element is None or element.tag != root:
        raise ProtocolError(f"root element is not <{root}>")
    return {child.tag: (child.text or "").strip() for child in element if isinstance(child.tag, str)}


def decrypt_req_info(req_info: str, api_key: str) -> dict[str, str]:
    """The ``<root>`` fields inside a refund notification's req_info."""
    key = hashlib.md5(api_key.encode("utf-8")).hexdigest().encode("ascii")  # noqa: S324 - protocol's key
    try:
        ciphertext = base64.b64decode(req_info, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError("req_info is not base64") from exc
    if not ciphertext or len(ciphertext) % 16:
        raise ProtocolError("req_info is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 - the protocol's ECB
    plain = decryptor.update(ciphertext) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
        raise ProtocolError("req_info padding is wrong (wrong key or tampered)")
    return from_xml(plain[:-pad], root="root")


def time_of(text: str | None, fmt: str = "%Y%m%d%H%M%S") -> dt.datetime | None:
    """A v2 time (``20141030133525`` or ``2017-12-15 09:46:01``), which is Asia/Shanghai."""
    if not text:
        return None
    return dt.datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI)


def trade_status(fields: Mapping[str, str], state: str) -> TradeStatus:
    """A v2 order (query, micropay or notification fields) as our TradeStatus."""
    paid = fields.get("cash_fee")
    return TradeStatus(
        out_trade_no=fields["out_trade_no"], state=TRADE_STATES[state], amount=int(fields["total_fee"]),
        gateway_state=state, transaction_id=fields.get("transaction_id") or None,
        paid_amount=int(paid) if paid and state in ("SUCCESS", "REFUND") else None,
        paid_at=time_of(fields.get("time_end")), payer_id=fields.get("openid") or None,
        merchant_id=fields.get("mch_id", ""), app_id=fields.get("appid", ""))
