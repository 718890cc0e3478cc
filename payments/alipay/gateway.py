"""Alipay behind our ``PaymentGateway``: mini-program trades, refunds, notifications, the daily bill.

Built on the official ``alipay-sdk-python`` (request, model and response classes, request building,
answer verification) through ``client.SdkClient``, which wraps the SDK's defects. Kiosk payment by
face (smile-to-pay) is in ``facepay.FacePay``, mixed in here.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote

from alipay.aop.api.domain.AlipayDataDataserviceBillDownloadurlQueryModel import (
    AlipayDataDataserviceBillDownloadurlQueryModel,
)
from alipay.aop.api.domain.AlipayTradeCloseModel import AlipayTradeCloseModel
from alipay.aop.api.domain.AlipayTradeCreateModel import AlipayTradeCreateModel
from alipay.aop.api.domain.AlipayTradeFastpayRefundQueryModel import AlipayTradeFastpayRefundQueryModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
from alipay.aop.api.request.AlipayDataDataserviceBillDownloadurlQueryRequest import (
    AlipayDataDataserviceBillDownloadurlQueryRequest,
)
from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
from alipay.aop.api.request.AlipayTradeCreateRequest import AlipayTradeCreateRequest
from alipay.aop.api.request.AlipayTradeFastpayRefundQueryRequest import AlipayTradeFastpayRefundQueryRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest

from payments.alipay import bill, notify
from payments.alipay.client import SdkClient, make_config
from payments.alipay.errors import REFUND_ERRORS, SUCCESS, error_for
from payments.alipay.facepay import FacePay
from payments.alipay.keys import load_alipay_public_key, load_app_key, make_signer
from payments.alipay.money import format_time, parse_time, yuan_of
from payments.alipay.trades import refund_from_query, trade_status
from payments.interface import (
    Ack,
    BillLine,
    GatewayRejected,
    Notification,
    PaymentGateway,
    PaymentOutcomeUnknown,
    PaymentRequest,
    Prepay,
    RefundRequest,
    RefundState,
    RefundStatus,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeState,
    TradeStatus,
)

PRODUCTION_URL = "https://openapi.alipay.com/gateway.do"

MINI_PROGRAM_PRODUCT = "JSAPI_PAY"


class AlipayGateway(FacePay, PaymentGateway):
    """Alipay open platform (RSA2, public-key mode) for one app and one seller."""

    name = "alipay"

    def __init__(self, app_id: str, seller_id: str, app_private_key: str, alipay_public_key: str, notify_url: str,
                 server_url: str = PRODUCTION_URL, timeout: float = 10.0, signer: str = "cryptography",
                 face_poll_interval: float = 3.0, face_poll_attempts: int = 10,
                 sleep: Callable[[float], None] = time.sleep):
        if not app_id or not seller_id:
            raise ValueError("Alipay needs app_id and seller_id")
        key, pkcs1 = load_app_key(app_private_key)
        self._alipay_key, spki = load_alipay_public_key(alipay_public_key)
        self.app_id, self.merchant_id, self.notify_url = app_id, seller_id, notify_url
        self.timeout = timeout
        self.client = SdkClient(make_config(app_id, server_url, pkcs1, spki, timeout), make_signer(signer, key, pkcs1))
        self.face_poll_interval, self.face_poll_attempts, self._sleep = face_poll_interval, face_poll_attempts, sleep

    def _call(self, request, overrides=None, accept: tuple[str, ...] = (SUCCESS,)) -> dict:
        """Execute and answer the fields; our error unless the code is one of accept."""
        data = self.client.call(request)
        if str(data.get("code")) not in accept:
            raise error_for(data, overrides)
        return data

    def _status(self, fields: Mapping, trade_status_text: str | None = None) -> TradeStatus:
        try:
            return trade_status(fields, self.merchant_id, self.app_id, trade_status_text)
        except (KeyError, ValueError) as exc:
            raise PaymentOutcomeUnknown("支付宝交易信息不完整", "RESPONSE_MALFORMED") from exc

    def create(self, request: PaymentRequest) -> Prepay:
        """``alipay.trade.create`` for the Alipay mini-program; pay params are what ``my.tradePay`` takes."""
        if not request.payer_id:
            raise GatewayRejected("支付宝小程序支付需要买家 ID", "BUYER_ID_MISSING")
        model = AlipayTradeCreateModel()
        model.out_trade_no, model.subject = request.out_trade_no, request.description[:256]
        model.total_amount, model.product_code = yuan_of(request.amount), MINI_PROGRAM_PRODUCT
        # Alipay user ids are 2088 + 12 digits; newer apps get an OpenID-style buyer_open_id instead.
        if request.payer_id.startswith("2088") and request.payer_id.isdigit():
            model.buyer_id = request.payer_id
        else:
            model.buyer_open_id = request.payer_id
        if request.expires_at:
            if request.expires_at.tzinfo is None:
                raise GatewayRejected("过期时间须带时区", "EXPIRES_AT_NAIVE")
            model.time_expire = format_time(request.expires_at)
        if request.attach:
            model.passback_params = quote(request.attach)
        sdk_request = AlipayTradeCreateRequest(biz_model=model)
        sdk_request.notify_url = request.notify_url or self.notify_url
        data = self._call(sdk_request)
        trade_no = str(data.get("trade_no") or "")
        if not trade_no:
            raise PaymentOutcomeUnknown("支付宝未返回交易号", "RESPONSE_MALFORMED")
        return Prepay(out_trade_no=request.out_trade_no, gateway_ref=trade_no, pay_params={"tradeNO": trade_no})

    def query(self, out_trade_no: str) -> TradeStatus:
        """``alipay.trade.query``; TradeNotFound for ACQ.TRADE_NOT_EXIST."""
        model = AlipayTradeQueryModel()
        model.out_trade_no = out_trade_no
        return self._status(self._call(AlipayTradeQueryRequest(biz_model=model)))

    def close(self, out_trade_no: str) -> None:
        """``alipay.trade.close``; a trade never created or already closed is left alone."""
        model = AlipayTradeCloseModel()
        model.out_trade_no = out_trade_no
        try:
            self._call(AlipayTradeCloseRequest(biz_model=model))
        except TradeNotFound:
            return  # nothing was created, so nothing can be paid
        except GatewayRejected as exc:
            if exc.gateway_code != "ACQ.TRADE_STATUS_ERROR":
                raise
            # Not closable: either closed already or paid. Only the trade itself can say which.
            if self.query(out_trade_no).state in (TradeState.PAID, TradeState.REFUNDED):
                raise TradeAlreadyPaid("交易已支付，不能关闭", exc.gateway_code) from exc

    def refund(self, request: RefundRequest) -> RefundStatus:
        """``alipay.trade.refund`` with out_request_no = out_refund_no, so asking again is safe."""
        model = AlipayTradeRefundModel()
        model.out_trade_no, model.out_request_no = request.out_trade_no, request.out_refund_no
        model.refund_amount = yuan_of(request.amount)
        if request.reason:
            model.refund_reason = request.reason[:256]
        data = self._call(AlipayTradeRefundRequest(biz_model=model), REFUND_ERRORS)
        if data.get("fund_change") == "Y":
            return RefundStatus(out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
                                state=RefundState.SUCCEEDED, amount=request.amount, gateway_state="REFUND_SUCCESS",
                                succeeded_at=parse_time(data.get("gmt_refund_pay")))
        # fund_change N: a repeat of a done refund, or not done yet. Alipay says: ask the refund query.
        try:
            return self.query_refund(request.out_refund_no, request.out_trade_no)
        except TradeNotFound:
            return RefundStatus(out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
                                state=RefundState.PROCESSING, amount=request.amount, gateway_state="fund_change=N")

    def query_refund(self, out_refund_no: str, out_trade_no: str) -> RefundStatus:
        """``alipay.trade.fastpay.refund.query``; TradeNotFound when Alipay has no such refund."""
        model = AlipayTradeFastpayRefundQueryModel()
        model.out_trade_no, model.out_request_no = out_trade_no, out_refund_no
        model.query_options = ["gmt_refund_pay"]
        request = AlipayTradeFastpayRefundQueryRequest(biz_model=model)
        data = self._call(request)
        if not data.get("refund_amount"):
            # Alipay answers 10000 without refund fields for a refund it does not have.
            raise TradeNotFound("退款不存在", "REFUND_NOT_EXIST")
        try:
            return refund_from_query(data, out_refund_no, out_trade_no)
        except (KeyError, ValueError) as exc:
            raise PaymentOutcomeUnknown("支付宝退款信息不完整", "RESPONSE_MALFORMED") from exc

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify an asynchronous notification (RSA2, app_id, seller_id, amounts) and decode it."""
        return notify.parse(headers, body, public_key=self._alipay_key, app_id=self.app_id,
                            seller_id=self.merchant_id, gateway=self.name)

    def ack(self, accepted: bool) -> Ack:
        """Alipay stops resending only on the exact body ``success``."""
        return Ack(status=200, body=b"success" if accepted else b"fail", content_type="text/plain")

    def download_bill(self, date: dt.date) -> list[BillLine]:
        """The day's trade bill: ``alipay.data.dataservice.bill.downloadurl.query``, then the zip of GBK CSV."""
        model = AlipayDataDataserviceBillDownloadurlQueryModel()
        model.bill_type, model.bill_date = "trade", date.isoformat()
        request = AlipayDataDataserviceBillDownloadurlQueryRequest(biz_model=model)
        data = self._call(request)
        url = str(data.get("bill_download_url") or "")
        if not url:
            raise PaymentOutcomeUnknown("支付宝未返回账单地址", "RESPONSE_MALFORMED")
        return bill.parse_zip(bill.download(url, self.timeout), gateway=self.name)
