"""WeChat Pay API v2 over wechatpy (1.8.18): JSAPI payments for merchants still on v2, and face-pay.

Every call goes through :mod:`payments.wechatpay.v2_client` (our sign type, every reply's
signature verified, our errors). Notifications are verified here: payment notifications by their
``sign`` (MD5 or HMAC-SHA256, as their ``sign_type`` says), refund notifications by decrypting
``req_info`` strictly. ``client_ip`` is always passed (without it wechatpy resolves
api.mch.weixin.qq.com to guess one). Refunds and reverse go to ``/secapi/`` and need the
merchant certificate (``mch_cert`` + ``mch_key`` files: mutual TLS).
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping

import requests

from payments.interface import (
    Ack,
    BillLine,
    FacePayGateway,
    FacePayRequest,
    GatewayRejected,
    Notification,
    NotificationInvalid,
    NotificationKind,
    PaymentDeclined,
    PaymentGateway,
    PaymentRequest,
    Prepay,
    RefundRequest,
    RefundState,
    RefundStatus,
    TradeStatus,
)
from payments.wechatpay import errors, v2_protocol
from payments.wechatpay.common import check_number, parse_trade_bill, shanghai
from payments.wechatpay.v2_client import RETURN_FAIL, VerifyingWeChatPay, call
from payments.wechatpay.v2_facepay import FaceAuthInfo, FacePayFlow
from payments.wechatpay.v2_protocol import HMAC_SHA256, REFUND_STATES, ProtocolError, time_of, trade_status

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com/"
DEFAULT_PAYAPP_URL = "https://payapp.weixin.qq.com/"
_XML = "application/xml"


def _ack_xml(code: str, message: str) -> bytes:
    return f"<xml><return_code><![CDATA[{code}]]></return_code><return_msg><![CDATA[{message}]]></return_msg></xml>" \
        .encode()


class WeChatPayV2Gateway(PaymentGateway, FacePayGateway):
    """WeChat Pay v2: JSAPI, micropay by face code, query, close, reverse, refund, notifications, bill."""

    name = "wechatpay_v2"
    speaks_xml = True  # its notifications are XML; v3's, on the same URL, are JSON

    def __init__(self, *, mchid: str, appid: str, api_key: str, notify_url: str, mch_cert: str | None = None,
                 mch_key: str | None = None, api_base_url: str = DEFAULT_BASE_URL,
                 payapp_base_url: str = DEFAULT_PAYAPP_URL, sign_type: str = HMAC_SHA256,
                 timeout: float | tuple[float, float] = (3.0, 10.0), tls_verify: bool | str = True,
                 poll_interval: float = 5.0, poll_timeout: float = 30.0, reverse_attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.merchant_id, self.app_id, self.notify_url = mchid, appid, notify_url
        self.api_key, self.sign_type, self.timeout = api_key, sign_type, timeout
        self.payapp_base_url = payapp_base_url.rstrip("/") + "/"
        self._client = VerifyingWeChatPay(
            appid=appid, api_key=api_key, mch_id=mchid, mch_cert=mch_cert, mch_key=mch_key, timeout=timeout,
            sign_type=sign_type, tls_verify=tls_verify, api_base_url=api_base_url)
        self._face = FacePayFlow(self, poll_interval, poll_timeout, reverse_attempts, sleep, clock)

    def _ours(self, fields: Mapping[str, str], out_trade_no: str | None = None) -> Mapping[str, str]:
        """Refuse a (verified) reply about another merchant, app or trade."""
        if fields.get("mch_id") != self.merchant_id or fields.get("appid") != self.app_id:
            raise errors.reply_unreadable("reply for another merchant or app")
        if out_trade_no is not None and fields.get("out_trade_no") != out_trade_no:
            raise errors.reply_unreadable("reply about another trade")
        return fields

    # -- payments -------------------------------------------------------------------------------

    def create(self, request: PaymentRequest) -> Prepay:
        """unifiedorder (JSAPI) → the wx.requestPayment parameters (wechatpy's MD5 paySign)."""
        check_number(request.out_trade_no)
        if not request.payer_id or request.amount <= 0:
            raise GatewayRejected("a JSAPI payment needs the payer's openid and a positive amount",
                                  gateway_code="PARAM_ERROR")
        expire = shanghai(request.expires_at) if request.expires_at else None  # wechatpy formats it as given
        start = dt.datetime.now(v2_protocol.SHANGHAI)
        reply = call(self._client.order.create, trade_type="JSAPI", body=request.description[:128],
                     total_fee=request.amount, notify_url=request.notify_url or self.notify_url,
                     client_ip=request.client_ip, user_id=request.payer_id, out_trade_no=request.out_trade_no,
                     attach=request.attach or None, time_start=start, time_expire=expire)
        prepay_id = self._ours(reply).get("prepay_id")
        if not prepay_id:
            raise errors.reply_unreadable("no prepay_id")
        params = self._client.jsapi.get_jsapi_params(prepay_id)
        pay_params = {k: params[k] for k in ("timeStamp", "nonceStr", "package", "signType", "paySign")}
        return Prepay(request.out_trade_no, prepay_id, pay_params)

    def query(self, out_trade_no: str) -> TradeStatus:
        """orderquery: the trade as WeChat Pay sees it now."""
        reply = self._ours(call(self._client.order.query, out_trade_no=check_number(out_trade_no)), out_trade_no)
        try:
            return trade_status(reply, reply["trade_state"])
        except (KeyError, ValueError) as exc:
            raise errors.reply_unreadable("order fields") from exc

    def close(self, out_trade_no: str) -> None:
        """closeorder; already closed is fine, paid raises TradeAlreadyPaid."""
        try:
            self._ours(call(self._client.order.close, out_trade_no=check_number(out_trade_no)))
        except PaymentDeclined as exc:
            if exc.gateway_code != "ORDERCLOSED":
                raise

    def refund(self, request: RefundRequest) -> RefundStatus:
        """secapi/pay/refund (merchant certificate): accepted refunds are PROCESSING until the query says more."""
        check_number(request.out_trade_no)
        check_number(request.out_refund_no, "out_refund_no")
        reply = self._ours(call(
            self._client.refund.apply, total_fee=request.total_amount, refund_fee=request.amount,
            out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
            refund_desc=request.reason[:80] or None, notify_url=request.notify_url or self.notify_url,
            refund=True), request.out_trade_no)
        if reply.get("out_refund_no") != request.out_refund_no or not str(reply.get("refund_fee", "")).isdigit():
            raise errors.reply_unreadable("reply about another refund, or no refund_fee")
        return RefundStatus(out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
                            state=RefundState.PROCESSING, amount=int(reply["refund_fee"]),
                            gateway_state="PROCESSING", refund_id=reply.get("refund_id") or None)

    def query_refund(self, out_refund_no: str, out_trade_no: str) -> RefundStatus:
        """refundquery: the refund as WeChat Pay sees it now."""
        reply = self._ours(call(self._client.refund.query, out_refund_no=check_number(out_refund_no, "out_refund_no"),
                                refund=True))
        try:
            count = int(reply.get("refund_count") or 0)
            n = next(i for i in range(count) if reply.get(f"out_refund_no_{i}") == out_refund_no)
            state = reply[f"refund_status_{n}"]
            return RefundStatus(
                out_refund_no=out_refund_no, out_trade_no=reply["out_trade_no"], state=REFUND_STATES[state],
                amount=int(reply[f"refund_fee_{n}"]), gateway_state=state, refund_id=reply.get(f"refund_id_{n}"),
                succeeded_at=time_of(reply.get(f"refund_success_time_{n}"), "%Y-%m-%d %H:%M:%S"))
        except (StopIteration, KeyError, ValueError) as exc:
            raise errors.reply_unreadable("refund fields") from exc

    # -- face-pay -------------------------------------------------------------------------------

    def pay_by_face(self, request: FacePayRequest) -> TradeStatus:
        """micropay with the face code; USERPAYING is polled, then reversed; unknown outcomes queried first."""
        return self._face.pay(request)

    def reverse(self, out_trade_no: str) -> None:
        """secapi/pay/reverse (merchant certificate), again while WeChat Pay answers recall=Y."""
        self._face.reverse(check_number(out_trade_no))

    def get_facepay_authinfo(self, rawdata: str, *, store_id: str, store_name: str, device_id: str,
                             attach: str = "") -> FaceAuthInfo:
        """get_wxpayface_authinfo for a kiosk's face SDK ``rawdata`` (not wrapped by wechatpy)."""
        return self._face.authinfo(rawdata, store_id=store_id, store_name=store_name, device_id=device_id,
                                   attach=attach)

    # -- notifications --------------------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """A payment (signed) or refund (req_info) notification, verified; NotificationInvalid otherwise."""
        try:
            fields = v2_protocol.from_xml(body)
        except ProtocolError as exc:
            raise NotificationInvalid("not a v2 notification", gateway_code="UNDECODABLE") from exc
        if fields.get("return_code") != "SUCCESS":
            raise NotificationInvalid("return_code is not SUCCESS", gateway_code="RETURN_FAIL")
        if fields.get("mch_id") != self.merchant_id:
            raise NotificationInvalid("notification for another merchant", gateway_code="MCHID_MISMATCH")
        if fields.get("appid") != self.app_id:
            raise NotificationInvalid("notification for another app", gateway_code="APPID_MISMATCH")
        try:
            if "req_info" in fields:
                return self._refund_notification(fields)
            return self._payment_notification(fields)
        except (KeyError, ValueError) as exc:  # ProtocolError is a ValueError
            raise NotificationInvalid("undecodable or incomplete notification", gateway_code="FIELDS") from exc

    def _payment_notification(self, fields: dict[str, str]) -> Notification:
        if not v2_protocol.verify(fields, self.api_key):
            raise NotificationInvalid("signature does not verify", gateway_code="SIGNATURE")
        state = "SUCCESS" if fields.get("result_code") == "SUCCESS" else "PAYERROR"
        trade = trade_status(fields, state)
        return Notification(kind=NotificationKind.PAYMENT, gateway=self.name, notification_id=fields["transaction_id"],
                            merchant_id=self.merchant_id, app_id=self.app_id, trade=trade, raw=fields)

    def _refund_notification(self, fields: dict[str, str]) -> Notification:
        info = v2_protocol.decrypt_req_info(fields["req_info"], self.api_key)
        state = info["refund_status"]
        refund = RefundStatus(
            out_refund_no=info["out_refund_no"], out_trade_no=info["out_trade_no"], state=REFUND_STATES[state],
            amount=int(info["refund_fee"]), gateway_state=state, refund_id=info.get("refund_id") or None,
            succeeded_at=time_of(info.get("success_time"), "%Y-%m-%d %H:%M:%S"))
        return Notification(kind=NotificationKind.REFUND, gateway=self.name, notification_id=info["refund_id"],
                            merchant_id=self.merchant_id, app_id=self.app_id, refund=refund, raw=info)

    def ack(self, accepted: bool) -> Ack:
        """v2 reads the XML: return_code SUCCESS stops the retries, FAIL asks for them."""
        return Ack(200, _ack_xml("SUCCESS", "OK") if accepted else _ack_xml("FAIL", "ERROR"), _XML)

    # -- bill -----------------------------------------------------------------------------------

    def download_bill(self, date: dt.date) -> list[BillLine]:
        """downloadbill (ALL): the day's payments and refunds; empty when WeChat Pay says No Bill Exist."""
        try:
            text = call(self._client.tools.download_bill, bill_date=date.strftime("%Y%m%d"), bill_type="ALL")
        except GatewayRejected as exc:
            if exc.gateway_code == RETURN_FAIL and exc.message == "No Bill Exist":
                return []
            raise
        if not isinstance(text, str):
            raise errors.reply_unreadable("bill is not text")
        try:
            return parse_trade_bill(self.name, text)
        except (ValueError, IndexError) as exc:
            raise errors.reply_unreadable("bill lines") from exc

    def _session(self) -> requests.Session:
        """The HTTP session of the wechatpy client, for the calls wechatpy lacks."""
        return self._client._http

    def _client_cert(self) -> tuple[str, str] | None:
        """The merchant certificate and key files, when configured (wechatpy sends them on every call)."""
        client = self._client
        return (client.mch_cert, client.mch_key) if client.mch_cert and client.mch_key else None

