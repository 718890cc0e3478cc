"""What the simulator says about trades: v3 JSON objects, v2 fields, and notifications.

A notification's content is fixed when its event happens (:class:`Notice`); every delivery
renders it afresh (:func:`render`): v3 signs each attempt with a new timestamp and nonce, as the
real gateway does. ``forge`` renders deliberately wrong variants for tests (a bad signature, an
unknown key serial, a stale timestamp, a tampered ciphertext, another merchant or app, another
amount), the wrong ones still correctly signed and encrypted where that is the point.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from sandbox.wechatpay import crypto
from sandbox.wechatpay.trades import TZ, Refund, Trade

FORGERIES = ("signature", "serial", "timestamp", "ciphertext", "mchid", "appid", "amount")
_REFUND_EVENTS = {"SUCCESS": ("REFUND.SUCCESS", "退款成功"), "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
                  "CLOSED": ("REFUND.CLOSED", "退款关闭")}


def v3_time(moment: dt.datetime | None) -> str | None:
    """RFC 3339 in Asia/Shanghai, as v3 writes times."""
    return moment.astimezone(TZ).isoformat(timespec="seconds") if moment else None


def v2_time(moment: dt.datetime | None, fmt: str = "%Y%m%d%H%M%S") -> str:
    """v2 times: yyyyMMddHHmmss in Asia/Shanghai."""
    return moment.astimezone(TZ).strftime(fmt) if moment else ""


def transaction_json(trade: Trade) -> dict:
    """A v3 transaction object (query answer and payment notification resource)."""
    data = {"appid": trade.appid, "mchid": trade.mchid, "out_trade_no": trade.out_trade_no,
            "trade_type": trade.trade_type, "trade_state": trade.state, "trade_state_desc": trade.state_desc,
            "attach": trade.attach, "amount": {"total": trade.amount, "currency": "CNY"}}
    if trade.paid_at:
        data.update(transaction_id=trade.transaction_id, bank_type="OTHERS", success_time=v3_time(trade.paid_at),
                    payer={"openid": trade.openid})
        data["amount"].update(payer_total=trade.amount, payer_currency="CNY")
    return data


def refund_json(trade: Trade, refund: Refund, notification: bool = False) -> dict:
    """A v3 refund object; notifications call the state refund_status and carry less."""
    data = {"mchid": trade.mchid, "out_trade_no": trade.out_trade_no, "transaction_id": trade.transaction_id,
            "out_refund_no": refund.out_refund_no, "refund_id": refund.refund_id,
            "user_received_account": "支付用户零钱",
            "amount": {"total": trade.amount, "refund": refund.amount, "payer_total": trade.amount,
                       "payer_refund": refund.amount}}
    if refund.success_at:
        data["success_time"] = v3_time(refund.success_at)
    if notification:
        data["refund_status"] = refund.state
        return data
    data.pop("mchid")
    data.update(status=refund.state, channel="ORIGINAL", create_time=v3_time(refund.created_at),
                funds_account="AVAILABLE")
    data["amount"].update(currency="CNY", settlement_refund=refund.amount, settlement_total=trade.amount,
                          discount_refund=0)
    return data


def order_fields(trade: Trade) -> dict:
    """v2 order fields (orderquery, micropay, payment notification)."""
    fields = {"appid": trade.appid, "mch_id": trade.mchid, "out_trade_no": trade.out_trade_no,
              "trade_type": trade.trade_type, "total_fee": trade.amount, "fee_type": "CNY", "attach": trade.attach,
              "device_info": trade.device_info}
    if trade.paid_at:
        fields.update(transaction_id=trade.transaction_id, openid=trade.openid, is_subscribe="N", bank_type="OTHERS",
                      cash_fee=trade.amount, time_end=v2_time(trade.paid_at))
    return fields


def v2_xml(fields: dict) -> bytes:
    """A flat ``<xml>`` reply (values as CDATA-free escaped text)."""
    body = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items() if v not in (None, ""))
    return f"<xml>{body}</xml>".encode()


def parse_v2_xml(data: bytes, root: str = "xml") -> dict:
    """The fields of a flat v2 document (ValueError when it is not one); entities and DTDs are not loaded."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        element = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError("XML格式错误") from exc
    if element is None or element.tag != root:
        raise ValueError("XML格式错误")
    return {child.tag: (child.text or "") for child in element if isinstance(child.tag, str)}


@dataclass
class Notice:
    """One notification's content, fixed when its event happened."""

    kind: str  # payment | refund
    api: str  # v3 | v2
    out_trade_no: str
    url: str
    content: dict
    sign_type: str = "MD5"
    out_refund_no: str = ""
    id: str = field(default_factory=lambda: secrets.token_hex(18))


def payment_notice(trade: Trade) -> Notice:
    """The notice of a paid trade."""
    if trade.api == "v3":
        content = {"event_type": "TRANSACTION.SUCCESS", "summary": "支付成功", "original_type": "transaction",
                   "resource": transaction_json(trade)}
    else:
        content = {"return_code": "SUCCESS", "result_code": "SUCCESS", **order_fields(trade)}
        content.pop("device_info", None)
    return Notice("payment", trade.api, trade.out_trade_no, trade.notify_url, content, trade.sign_type)


def refund_notice(trade: Trade, refund: Refund) -> Notice:
    """The notice of a refund that reached a final state."""
    if trade.api == "v3":
        event, summary = _REFUND_EVENTS[refund.state]
        content = {"event_type": event, "summary": summary, "original_type": "refund",
                   "resource": refund_json(trade, refund, notification=True)}
    else:
        content = {"return_code": "SUCCESS", "appid": trade.appid, "mch_id": trade.mchid, "inner": {
            "transaction_id": trade.transaction_id, "out_trade_no": trade.out_trade_no,
            "refund_id": refund.refund_id, "out_refund_no": refund.out_refund_no, "total_fee": trade.amount,
            "settlement_total_fee": trade.amount, "refund_fee": refund.amount,
            "settlement_refund_fee": refund.amount,
            "refund_status": {"SUCCESS": "SUCCESS", "ABNORMAL": "CHANGE"}.get(refund.state, "REFUNDCLOSE"),
            "success_time": v2_time(refund.success_at, "%Y-%m-%d %H:%M:%S"),
            "refund_recv_accout": "支付用户零钱", "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
            "refund_request_source": "API"}}
    return Notice("refund", trade.api, trade.out_trade_no, refund.notify_url, content, trade.sign_type,
                  refund.out_refund_no)


@dataclass
class Message:
    """A rendered delivery: body fixed, headers signed per attempt."""

    notice: Notice
    body: bytes
    headers: object  # () -> dict
    content_type: str


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _forged_content(notice: Notice, forge: str | None) -> dict:
    content = json.loads(json.dumps(notice.content))  # a deep copy that stays JSON-shaped
    target = content.get("resource") or content.get("inner") or content
    if forge in ("mchid", "appid"):
        outer = content if notice.api == "v2" else target
        key = "mch_id" if (forge == "mchid" and notice.api == "v2") else forge
        outer[key] = "1900009999" if forge == "mchid" else "wx-another-app"
    elif forge == "amount":
        if notice.api == "v3":
            money = target["amount"]
            money["refund" if notice.kind == "refund" else "total"] += 100
            money["payer_refund" if notice.kind == "refund" else "payer_total"] += 100
        else:
            keys = ("refund_fee", "settlement_refund_fee") if notice.kind == "refund" else ("total_fee", "cash_fee")
            for key in keys:
                target[key] = int(target[key]) + 100
    return content


def render(notice: Notice, sandbox, forge: str | None = None) -> Message:
    """The delivery of a notice (optionally forged), ready to post."""
    content = _forged_content(notice, forge)
    if notice.api == "v3":
        return _render_v3(notice, content, sandbox, forge)
    return _render_v2(notice, content, sandbox, forge)


def _render_v3(notice: Notice, content: dict, sandbox, forge: str | None) -> Message:
    original_type = content.pop("original_type")
    resource = crypto.gcm_encrypt(sandbox.apiv3_key, json.dumps(content.pop("resource"), ensure_ascii=False),
                                  original_type)
    resource["original_type"] = original_type
    if forge == "ciphertext":
        resource["ciphertext"] = _flip(resource["ciphertext"])
    body_obj = {"id": notice.id, "create_time": v3_time(dt.datetime.now(TZ)), "resource_type": "encrypt-resource",
                **content, "resource": resource}
    body = json.dumps(body_obj, ensure_ascii=False)

    def headers() -> dict:
        stamp = str(int(time.time()) - (3600 if forge == "timestamp" else 0))
        return sandbox.signature_headers(body, stamp, forged_signature=forge == "signature",
                                         serial="PUB_KEY_ID_0000UNKNOWN" if forge == "serial" else None)

    return Message(notice, body.encode(), headers, "application/json")


def _render_v2(notice: Notice, content: dict, sandbox, forge: str | None) -> Message:
    content["nonce_str"] = secrets.token_hex(16)
    if notice.kind == "refund":
        inner = content.pop("inner")
        xml = "<root>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in inner.items() if v != "") + "</root>"
        content["req_info"] = crypto.ecb_encrypt(sandbox.apiv2_key, xml)
        if forge == "ciphertext":
            content["req_info"] = _flip(content["req_info"])
    else:
        if notice.sign_type == "HMAC-SHA256":
            content["sign_type"] = "HMAC-SHA256"
        content["sign"] = crypto.v2_sign(content, sandbox.apiv2_key, notice.sign_type)
        if forge == "signature":
            content["sign"] = content["sign"][::-1]
    return Message(notice, v2_xml(content), dict, "application/xml")
