"""Smile-to-pay at a kiosk: ``alipay.trade.pay`` with ``scene=security_code`` and the device's ftoken.

Alipay's rules for a code payment, followed here: 10000 is paid; 10003 means the payer is still
confirming, so query until paid or closed and cancel (``alipay.trade.cancel``) when it never ends;
20000 or no answer at all means nobody knows, so query before deciding. A trade Alipay does not
show (yet) after an unclear answer may still be on its way: that stays an unknown outcome, asked
about again later, rather than a decline. A cancelled trade is refunded by Alipay if it had been
paid, so after a confirmed cancel the payment is declined for sure; a cancel that is not confirmed
is ReversalUnconfirmed.
"""
from __future__ import annotations

from alipay.aop.api.domain.AlipayTradeCancelModel import AlipayTradeCancelModel
from alipay.aop.api.domain.AlipayTradePayModel import AlipayTradePayModel
from alipay.aop.api.request.AlipayTradeCancelRequest import AlipayTradeCancelRequest
from alipay.aop.api.request.AlipayTradePayRequest import AlipayTradePayRequest

from payments.alipay.errors import SUCCESS, WAITING_FOR_PAYER
from payments.alipay.money import yuan_of
from payments.interface import (
    FacePayGateway,
    FacePayRequest,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    ReversalUnconfirmed,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeState,
    TradeStatus,
)

FACE_PRODUCT = "FACE_TO_FACE_PAYMENT"
CANCEL_ATTEMPTS = 3


class FacePay(FacePayGateway):
    """Mixed into AlipayGateway: needs ``_call``, ``_status``, ``query``, ``_sleep`` and the poll settings."""

    def pay_by_face(self, request: FacePayRequest) -> TradeStatus:
        """Charge the ftoken; poll while the payer confirms; cancel what never completes."""
        payment = request.payment
        model = AlipayTradePayModel()
        model.out_trade_no, model.scene, model.auth_code = payment.out_trade_no, "security_code", request.auth_code
        model.product_code, model.subject = FACE_PRODUCT, payment.description[:256]
        model.total_amount = yuan_of(payment.amount)
        if request.device_id:
            model.terminal_id = request.device_id[:32]
        sdk_request = AlipayTradePayRequest(biz_model=model)
        sdk_request.notify_url = payment.notify_url or self.notify_url
        try:
            data = self._call(sdk_request, accept=(SUCCESS, WAITING_FOR_PAYER))
        except (PaymentOutcomeUnknown, TradeAlreadyPaid) as exc:  # 20000, no answer, or a retry of a paid trade
            return self._settle_unknown(payment.out_trade_no, exc.gateway_code)
        if str(data.get("code")) == SUCCESS:
            return self._status(data, "TRADE_SUCCESS")
        return self._await_payer(payment.out_trade_no)

    def _settle_unknown(self, out_trade_no: str, gateway_code: str | None = None) -> TradeStatus:
        """No clear answer from trade.pay: the query decides, and a cancel when it cannot."""
        for attempt in range(self.face_poll_attempts):
            if attempt:
                self._sleep(self.face_poll_interval)
            try:
                return self._decide(self.query(out_trade_no))
            except (TradeNotFound, PaymentOutcomeUnknown):
                continue  # not visible yet, or the query failed too: ask again
        raise PaymentOutcomeUnknown("支付结果未知，请稍后查询", gateway_code or "TRADE_NOT_EXIST")

    def _decide(self, status: TradeStatus) -> TradeStatus:
        if status.state is TradeState.PAID:
            return status
        if status.state is TradeState.PENDING:
            return self._await_payer(status.out_trade_no)
        raise PaymentDeclined("支付未完成", status.gateway_state)

    def _await_payer(self, out_trade_no: str) -> TradeStatus:
        """Query every face_poll_interval seconds, face_poll_attempts times; then cancel."""
        for _ in range(self.face_poll_attempts):
            self._sleep(self.face_poll_interval)
            try:
                status = self.query(out_trade_no)
            except (TradeNotFound, PaymentOutcomeUnknown):
                continue  # not visible yet, or a failed query: the next poll may tell
            if status.state is TradeState.PAID:
                return status
            if status.state is not TradeState.PENDING:
                raise PaymentDeclined("支付未完成", status.gateway_state)
        return self._cancel_then_decline(out_trade_no, "付款超时，交易已撤销", "WAIT_BUYER_PAY")

    def _cancel_then_decline(self, out_trade_no: str, message: str, gateway_code: str | None) -> TradeStatus:
        try:
            self.reverse(out_trade_no)
        except PaymentOutcomeUnknown as exc:
            raise ReversalUnconfirmed("交易撤销结果未知", exc.gateway_code or gateway_code) from exc
        raise PaymentDeclined(message, gateway_code)

    def reverse(self, out_trade_no: str) -> None:
        """``alipay.trade.cancel``, again while Alipay says retry_flag=Y or cannot answer; refunds a paid trade."""
        model = AlipayTradeCancelModel()
        model.out_trade_no = out_trade_no
        last: PaymentOutcomeUnknown | None = None
        for attempt in range(CANCEL_ATTEMPTS):
            if attempt:
                self._sleep(self.face_poll_interval)
            try:
                data = self._call(AlipayTradeCancelRequest(biz_model=model))
            except TradeNotFound:
                return  # nothing at Alipay to cancel
            except PaymentOutcomeUnknown as exc:
                last = exc
                continue
            if data.get("retry_flag") != "Y":
                return
            last = PaymentOutcomeUnknown("撤销未完成", "RETRY_FLAG_Y")
        raise PaymentOutcomeUnknown("交易撤销结果未知，请稍后重试", last.gateway_code if last else None)
