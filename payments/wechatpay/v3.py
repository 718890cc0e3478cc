"""WeChat Pay API v3 for mini-program (JSAPI) payments, over the ``wechatpayv3`` SDK (2.0.4).

The SDK signs our requests (``Authorization: WECHATPAY2-SHA256-RSA2048 …``), verifies the
signature of every 2xx answer with the platform public key, and verifies + decrypts
notifications (``callback``). Around it this adapter:

* always passes ``public_key`` + ``public_key_id`` (without them the constructor downloads
  ``/v3/certificates`` from the real gateway), and checks a notification's serial itself before
  the SDK sees it (an unknown serial makes the SDK download certificates, a network call inside
  notification handling);
* sets the base URL in one place (:func:`_point_at`, the SDK has no parameter for it);
* checks what the SDK does not: the notification timestamp window, the merchant and app ids, the
  AEAD associated data against the event kind, the bill file's SHA-1;
* turns every answer and failure into ``payments.interface`` types and errors.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import requests
from wechatpayv3 import WeChatPay, WeChatPayType

from payments.interface import (
    Ack,
    BillLine,
    GatewayRejected,
    Notification,
    NotificationInvalid,
    NotificationKind,
    PaymentDeclined,
    PaymentError,
    PaymentGateway,
    PaymentRequest,
    Prepay,
    RefundRequest,
    RefundState,
    RefundStatus,
    TradeState,
    TradeStatus,
)
from payments.wechatpay import errors
from payments.wechatpay.common import TRADE_STATES, check_number, parse_trade_bill, shanghai

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
_NOTIFY_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
                   "Wechatpay-Signature-Type")
REFUND_STATES = {
    "SUCCESS": RefundState.SUCCEEDED, "PROCESSING": RefundState.PROCESSING,
    "ABNORMAL": RefundState.FAILED, "CLOSED": RefundState.CLOSED,
}
_ACK_OK = json.dumps({"code": "SUCCESS", "message": "成功"}, ensure_ascii=False).encode()
_ACK_FAIL = json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False).encode()


def _point_at(wp: WeChatPay, base_url: str) -> None:
    """The one place that moves the SDK off api.mch.weixin.qq.com (it keeps the host privately)."""
    wp._core._gate_way = base_url.rstrip("/")


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _json_object(body) -> dict:
    try:
        data = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise errors.reply_unreadable("not JSON") from exc
    if not isinstance(data, dict):
        raise errors.reply_unreadable("not a JSON object")
    return data


def _error_fields(body) -> tuple[str | None, str]:
    try:
        data = json.loads(body)
        return str(data.get("code") or "") or None, str(data.get("message") or "")[:200]
    except (TypeError, ValueError, AttributeError):
        return None, ""


def trade_status(data: Mapping) -> TradeStatus:
    """A v3 transaction object (query answer or decrypted notification) as our TradeStatus."""
    amount = data.get("amount") or {}
    state = data["trade_state"]
    if state not in TRADE_STATES:
        raise ValueError(f"unknown trade_state {state!r}")
    paid = amount.get("payer_total")
    return TradeStatus(
        out_trade_no=data["out_trade_no"], state=TRADE_STATES[state], amount=int(amount["total"]),
        gateway_state=state, transaction_id=data.get("transaction_id") or None,
        paid_amount=int(paid) if paid is not None else None, paid_at=_moment(data.get("success_time")),
        payer_id=(data.get("payer") or {}).get("openid"), merchant_id=data.get("mchid", ""),
        app_id=data.get("appid", ""))


def refund_status(data: Mapping) -> RefundStatus:
    """A v3 refund object (answer or decrypted notification, which says refund_status) as our RefundStatus."""
    state = data.get("status") or data["refund_status"]
    if state not in REFUND_STATES:
        raise ValueError(f"unknown refund status {state!r}")
    return RefundStatus(
        out_refund_no=data["out_refund_no"], out_trade_no=data["out_trade_no"], state=REFUND_STATES[state],
        amount=int(data["amount"]["refund"]), gateway_state=state, refund_id=data.get("refund_id") or None,
        succeeded_at=_moment(data.get("success_time")))


class WeChatPayV3Gateway(PaymentGateway):
    """Mini-program payments with WeChat Pay API v3; every call has a timeout and raises only our errors."""

    name = "wechatpay_v3"

    def __init__(self, *, mchid: str, appid: str, private_key: str, merchant_serial: str, apiv3_key: str,
                 public_key: str, public_key_id: str, notify_url: str, api_base_url: str = DEFAULT_BASE_URL,
                 timeout: float | tuple[float, float] = (3.0, 10.0), notification_tolerance: int = 300,
                 clock: Callable[[], float] = time.time):
        if not (public_key and public_key_id):
            raise GatewayRejected("public_key and public_key_id are required", gateway_code="CONFIG_INVALID")
        if len(apiv3_key.encode()) != 32:
            raise GatewayRejected("apiv3_key must be 32 bytes", gateway_code="CONFIG_INVALID")
        self.merchant_id, self.app_id, self.notify_url = mchid, appid, notify_url
        self.public_key_id, self.tolerance, self.clock = public_key_id, notification_tolerance, clock
        try:
            self._wp = WeChatPay(wechatpay_type=WeChatPayType.MINIPROG, mchid=mchid, private_key=private_key,
                                 cert_serial_no=merchant_serial, appid=appid, apiv3_key=apiv3_key,
                                 notify_url=notify_url, timeout=timeout, public_key=public_key,
                                 public_key_id=public_key_id)
        except Exception as exc:  # the SDK raises bare Exception for unreadable keys
            raise GatewayRejected("unreadable merchant private key or platform public key",
                                  gateway_code="CONFIG_INVALID") from exc
        self.base_url = api_base_url.rstrip("/")
        _point_at(self._wp, self.base_url)

    # -- transport ------------------------------------------------------------------------------

    def _call(self, method, *args, refund: bool = False, **kwargs) -> tuple[int, object]:
        """One SDK call: a 2xx (status, body) whose signature the SDK verified, or our error."""
        try:
            status, body = method(*args, **kwargs)
        except requests.RequestException as exc:
            raise errors.for_transport(exc) from exc
        except PaymentError:
            raise
        except Exception as exc:  # "failed to verify the signature" and friends are bare Exceptions
            raise errors.reply_unreadable(str(exc)[:100]) from exc
        if 200 <= status < 300:
            return status, body
        code, message = _error_fields(body)
        raise errors.for_http(status, code, message, refund=refund)

    def _belongs_to_us(self, trade: TradeStatus, out_trade_no: str) -> TradeStatus:
        if (trade.merchant_id, trade.app_id, trade.out_trade_no) != (self.merchant_id, self.app_id, out_trade_no):
            raise errors.reply_unreadable("answer is about another merchant, app or trade")
        return trade

    # -- payments -------------------------------------------------------------------------------

    def create(self, request: PaymentRequest) -> Prepay:
        """Prepay a mini-program payment; answer the wx.requestPayment parameters (RSA paySign)."""
        check_number(request.out_trade_no)
        if not request.payer_id:
            raise GatewayRejected("a mini-program payment needs the payer's openid", gateway_code="PARAM_ERROR")
        if request.amount <= 0:
            raise GatewayRejected("amount must be positive fen", gateway_code="PARAM_ERROR")
        expire = shanghai(request.expires_at).isoformat(timespec="seconds") if request.expires_at else None
        _, body = self._call(
            self._wp.pay, description=request.description[:127], out_trade_no=request.out_trade_no,
            amount={"total": request.amount, "currency": "CNY"}, payer={"openid": request.payer_id},
            time_expire=expire, attach=request.attach or None, notify_url=request.notify_url or self.notify_url,
            scene_info={"payer_client_ip": request.client_ip}, pay_type=WeChatPayType.MINIPROG)
        prepay_id = _json_object(body).get("prepay_id")
        if not prepay_id:
            raise errors.reply_unreadable("no prepay_id")
        return Prepay(request.out_trade_no, prepay_id, self.pay_params(prepay_id))

    def pay_params(self, prepay_id: str) -> dict[str, str]:
        """What wx.requestPayment takes: paySign is RSA-SHA256 over appid, timeStamp, nonceStr, package."""
        stamp, nonce, package = str(int(self.clock())), secrets.token_hex(16), f"prepay_id={prepay_id}"
        pay_sign = self._wp.sign([self.app_id, stamp, nonce, package])
        return {"timeStamp": stamp, "nonceStr": nonce, "package": package, "signType": "RSA", "paySign": pay_sign}

    def query(self, out_trade_no: str) -> TradeStatus:
        """The trade as WeChat Pay sees it now."""
        _, body = self._call(self._wp.query, out_trade_no=check_number(out_trade_no))
        try:
            trade = trade_status(_json_object(body))
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.reply_unreadable("trade fields") from exc
        return self._belongs_to_us(trade, out_trade_no)

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade; already closed is fine, paid raises TradeAlreadyPaid."""
        try:
            self._call(self._wp.close, out_trade_no=check_number(out_trade_no))
        except PaymentDeclined as exc:
            if exc.gateway_code not in ("ORDER_CLOSED", "ORDERCLOSED"):
                raise

    def refund(self, request: RefundRequest) -> RefundStatus:
        """Ask for a refund (the same out_refund_no answers the same refund)."""
        check_number(request.out_trade_no)
        check_number(request.out_refund_no, "out_refund_no")
        _, body = self._call(
            self._wp.refund, out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
            amount={"refund": request.amount, "total": request.total_amount, "currency": "CNY"},
            reason=request.reason[:80] or None, notify_url=request.notify_url or self.notify_url, refund=True)
        return self._refund_answer(body, request.out_refund_no)

    def query_refund(self, out_refund_no: str, out_trade_no: str) -> RefundStatus:
        """The refund as WeChat Pay sees it now."""
        _, body = self._call(self._wp.query_refund, out_refund_no=check_number(out_refund_no, "out_refund_no"),
                             refund=True)
        return self._refund_answer(body, out_refund_no)

    def _refund_answer(self, body, out_refund_no: str) -> RefundStatus:
        try:
            status = refund_status(_json_object(body))
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.reply_unreadable("refund fields") from exc
        if status.out_refund_no != out_refund_no:
            raise errors.reply_unreadable("answer is about another refund")
        return status

    # -- notifications --------------------------------------------------------------------------

    def _notify_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The signature headers, checked for what the SDK leaves out (type, serial, time window)."""
        lowered = {str(k).lower(): v for k, v in headers.items()}
        picked = {name: lowered.get(name.lower(), "") for name in _NOTIFY_HEADERS}
        # The official SDKs read a missing type as the RSA one; any other named type is refused.
        picked["Wechatpay-Signature-Type"] = picked["Wechatpay-Signature-Type"] or SIGNATURE_TYPE
        if picked["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
            raise NotificationInvalid("unsupported signature type", gateway_code="SIGNATURE_TYPE")
        if not hmac.compare_digest(picked["Wechatpay-Serial"], self.public_key_id):
            raise NotificationInvalid("unknown platform key serial", gateway_code="SERIAL_UNKNOWN")
        try:
            skew = abs(self.clock() - int(picked["Wechatpay-Timestamp"]))
        except ValueError as exc:
            raise NotificationInvalid("bad timestamp", gateway_code="TIMESTAMP") from exc
        if skew > self.tolerance:
            raise NotificationInvalid("timestamp outside the window", gateway_code="TIMESTAMP")
        return picked

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify (signature, key serial, time, merchant, app) and decrypt; NotificationInvalid when anything is off."""
        picked = self._notify_headers(headers)
        try:
            data = self._wp.callback(picked, body)
        except Exception as exc:  # bad JSON, bad base64, unsupported algorithm …
            raise NotificationInvalid("undecodable notification", gateway_code="UNDECODABLE") from exc
        if not data or not isinstance(data.get("resource"), dict):
            raise NotificationInvalid("signature or decryption failed", gateway_code="SIGNATURE")
        try:
            return self._notification(data, json.loads(body)["resource"].get("associated_data", ""))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise NotificationInvalid("missing or malformed fields", gateway_code="FIELDS") from exc

    def _notification(self, data: dict, associated_data: str) -> Notification:
        event, resource = data.get("event_type", ""), data["resource"]
        if resource.get("mchid") != self.merchant_id:
            raise NotificationInvalid("notification for another merchant", gateway_code="MCHID_MISMATCH")
        common = {"gateway": self.name, "notification_id": str(data["id"]), "merchant_id": self.merchant_id,
                  "raw": resource}
        if event == "TRANSACTION.SUCCESS" and associated_data == "transaction":
            if resource.get("appid") != self.app_id:
                raise NotificationInvalid("notification for another app", gateway_code="APPID_MISMATCH")
            trade = trade_status(resource)
            if trade.state is not TradeState.PAID:
                raise NotificationInvalid("success event for an unpaid trade", gateway_code="STATE")
            return Notification(kind=NotificationKind.PAYMENT, app_id=self.app_id, trade=trade, **common)
        if event.startswith("REFUND.") and associated_data == "refund":
            # refund notifications carry no appid: the merchant id is all there is to check
            return Notification(kind=NotificationKind.REFUND, app_id="", refund=refund_status(resource), **common)
        raise NotificationInvalid(f"unsupported event {event[:40]!r}", gateway_code="EVENT")

    def ack(self, accepted: bool) -> Ack:
        """2xx tells WeChat Pay we took it; anything else makes it send again later."""
        return Ack(200, _ACK_OK) if accepted else Ack(500, _ACK_FAIL)

    # -- bill -----------------------------------------------------------------------------------

    def download_bill(self, date: dt.date) -> list[BillLine]:
        """The day's trade bill (payments and refunds); an empty list when WeChat Pay has none."""
        try:
            _, body = self._call(self._wp.trade_bill, bill_date=date.isoformat(), bill_type="ALL", tar_type="GZIP")
        except GatewayRejected as exc:
            if exc.gateway_code == "NO_STATEMENT_EXIST":
                return []
            raise
        info = _json_object(body)
        parts = urlsplit(str(info.get("download_url", "")))
        if not parts.path.startswith("/v3/billdownload/"):
            raise errors.reply_unreadable("bill download_url")
        # Only ever our own gateway host gets our signed request, whatever host the URL names.
        _, content = self._call(self._wp.download_bill, self.base_url + parts.path + "?" + parts.query)
        return self._bill_lines(content, info)

    def _bill_lines(self, content, info: dict) -> list[BillLine]:
        try:
            raw = gzip.decompress(content if isinstance(content, bytes) else content.encode())
        except (OSError, EOFError) as exc:
            raise errors.reply_unreadable("bill file is not gzip") from exc
        digest = hashlib.sha1(raw).hexdigest()  # noqa: S324 - WeChat Pay states the bill's SHA-1
        stated = str(info.get("hash_value", "")).strip().lower()  # hex: either case is the same digest
        if info.get("hash_type") != "SHA1" or not hmac.compare_digest(digest, stated):
            raise errors.reply_unreadable("bill file hash differs")
        try:
            return parse_trade_bill(self.name, raw.decode("utf-8"))
        except (ValueError, IndexError) as exc:
            raise errors.reply_unreadable("bill lines") from exc
