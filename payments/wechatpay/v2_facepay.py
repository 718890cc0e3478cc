"""WeChat face-pay (刷脸) on API v2: authinfo for the kiosk's face SDK, micropay with the face code.

The micropay rules from WeChat Pay's own guidance:

* SUCCESS → paid.
* USERPAYING (the payer confirms on the device, e.g. enters a password) → query every
  ``poll_interval`` until ``poll_timeout``; still not paid → reverse (撤销), then declined.
* SYSTEMERROR, BANKERROR, a timeout, any unclear answer → query before deciding; the same rules
  follow. Nothing is assumed failed until a reverse went through; if even the reverse cannot be
  confirmed the outcome is unknown (the caller must query later).
* Reverse answers ``recall=Y`` when it must be called again.

``get_wxpayface_authinfo`` (host payapp.weixin.qq.com) is not wrapped by wechatpy and its reply
has no ``result_code`` (wechatpy's result handling would raise on it): it is signed, sent and
verified here.
"""
from __future__ import annotations

import secrets
import time

import requests

from payments.interface import (
    FaceAuthInfo,
    FacePayRequest,
    GatewayRejected,
    GatewayUnavailable,
    PaymentDeclined,
    PaymentError,
    PaymentOutcomeUnknown,
    ReversalUnconfirmed,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeState,
    TradeStatus,
)
from payments.wechatpay import errors, v2_protocol
from payments.wechatpay.common import check_number
from payments.wechatpay.v2_client import RETURN_FAIL, call

AUTHINFO_PATH = "face/get_wxpayface_authinfo"


class FacePayFlow:
    """Micropay by face code with polling and reverse, for a WeChatPayV2Gateway."""

    def __init__(self, gateway, poll_interval: float, poll_timeout: float, reverse_attempts: int, sleep, clock):
        self.gw, self.sleep, self.clock = gateway, sleep, clock
        self.poll_interval, self.poll_timeout, self.reverse_attempts = poll_interval, poll_timeout, reverse_attempts

    def pay(self, request: FacePayRequest) -> TradeStatus:
        """Charge the face code; answer a PAID status or raise a decline / unknown outcome."""
        p = request.payment
        check_number(p.out_trade_no)
        if p.amount <= 0 or not request.auth_code:
            raise GatewayRejected("a face payment needs a positive amount and a face code", gateway_code="PARAM_ERROR")
        try:
            reply = call(self.gw._client.micropay.create, body=p.description[:128], total_fee=p.amount,
                         auth_code=request.auth_code, client_ip=p.client_ip, out_trade_no=p.out_trade_no,
                         attach=p.attach or None, device_info=request.device_id or None)
        except TradeAlreadyPaid as exc:  # ORDERPAID: an earlier attempt with this number went through
            return self._settle(p.out_trade_no, exc)
        except PaymentOutcomeUnknown as exc:
            if exc.gateway_code == errors.NOT_SENT:
                raise
            if exc.gateway_code == "USERPAYING":
                self.sleep(self.poll_interval)
            return self._settle(p.out_trade_no, exc)
        try:
            trade = v2_protocol.trade_status(self.gw._ours(reply, p.out_trade_no), "SUCCESS")
        except (KeyError, ValueError, PaymentOutcomeUnknown) as exc:
            return self._settle(p.out_trade_no, errors.reply_unreadable(type(exc).__name__))
        if trade.amount != p.amount:
            raise errors.reply_unreadable(f"charged {trade.amount} fen for an order of {p.amount}")
        return trade

    def _settle(self, out_trade_no: str, cause: PaymentError) -> TradeStatus:
        """Query until paid, no longer paying, or out of time; then reverse and say why it failed.

        An order WeChat Pay does not know (yet) after a charge whose answer was lost may still be on
        its way: reversing it would not stop it, so that stays an unknown outcome, asked about later.
        """
        deadline = self.clock() + self.poll_timeout
        last, reached = cause.gateway_code or "UNKNOWN", False
        while True:
            try:
                trade = self.gw.query(out_trade_no)
            except TradeNotFound:
                last = "ORDERNOTEXIST"  # not visible yet, or never arrived: ask again until the deadline
            except PaymentOutcomeUnknown:
                pass  # cannot tell yet: keep asking until the deadline
            else:
                if trade.state is TradeState.PAID:
                    return trade
                last, reached = trade.gateway_state, True
                if trade.state is not TradeState.PAYING:
                    break
            if self.clock() + self.poll_interval > deadline:
                break
            self.sleep(self.poll_interval)
        if not reached:
            error = GatewayUnavailable if isinstance(cause, GatewayUnavailable) else PaymentOutcomeUnknown
            raise error("the charge was not seen at WeChat Pay; it may still land", gateway_code=last)
        try:
            self.reverse(out_trade_no)
        except PaymentError as exc:
            raise ReversalUnconfirmed("payment not confirmed and the reverse not confirmed",
                                      gateway_code=exc.gateway_code or last) from exc
        if last == "USERPAYING":
            raise PaymentDeclined("the payer did not confirm in time; reversed", gateway_code="USERPAYING_TIMEOUT")
        raise PaymentDeclined("payment did not complete; reversed", gateway_code=last)

    def reverse(self, out_trade_no: str) -> None:
        """Reverse (refunds it if paid); again while the answer is recall=Y or unclear."""
        for attempt in range(self.reverse_attempts):
            if attempt:
                self.sleep(self.poll_interval)
            try:
                reply = call(self.gw._client.order.reverse, out_trade_no=out_trade_no)
            except PaymentDeclined as exc:
                if exc.gateway_code == "ORDERREVERSED":
                    return
                raise
            except PaymentOutcomeUnknown:
                continue
            if self.gw._ours(reply).get("recall") != "Y":
                return
        raise PaymentOutcomeUnknown("reverse not confirmed", gateway_code="REVERSE_RECALL")

    def authinfo(self, rawdata: str, *, store_id: str, store_name: str, device_id: str, attach: str) -> FaceAuthInfo:
        """Sign and send get_wxpayface_authinfo; verify the signed reply."""
        gw = self.gw
        params = {"store_id": store_id, "store_name": store_name, "device_id": device_id, "attach": attach,
                  "rawdata": rawdata, "appid": gw.app_id, "mch_id": gw.merchant_id, "now": str(int(time.time())),
                  "version": "1", "sign_type": gw.sign_type, "nonce_str": secrets.token_hex(16)}
        params["sign"] = v2_protocol.sign(params, gw.api_key, gw.sign_type)
        try:
            res = gw._session().post(gw.payapp_base_url + AUTHINFO_PATH, data=v2_protocol.to_xml(params),
                                     headers={"Content-Type": "text/xml"}, timeout=gw.timeout,
                                     verify=gw._client.tls_verify, cert=gw._client_cert())
        except requests.RequestException as exc:
            raise errors.for_transport(exc) from exc
        if res.status_code != 200:
            raise errors.for_http(res.status_code, None, "")
        try:
            fields = v2_protocol.from_xml(res.content)
        except v2_protocol.ProtocolError as exc:
            raise errors.reply_unreadable("not XML") from exc
        return self._authinfo_reply(fields)

    def _authinfo_reply(self, fields: dict[str, str]) -> FaceAuthInfo:
        if fields.get("return_code") != "SUCCESS":
            raise GatewayRejected(fields.get("return_msg", "FAIL")[:200], gateway_code=RETURN_FAIL)
        if not v2_protocol.verify(fields, self.gw.api_key, self.gw.sign_type):
            raise errors.reply_unreadable("reply signature does not verify")
        self.gw._ours(fields)
        if not fields.get("authinfo"):
            raise errors.reply_unreadable("no authinfo")
        try:
            expires_in = int(fields.get("expires_in") or 3600)
        except ValueError as exc:
            raise errors.reply_unreadable("expires_in") from exc
        return FaceAuthInfo(fields["authinfo"], expires_in)

