"""The cashier: take payments for orders, learn they were paid, give money back. The only place that decides.

Invariant: every fen captured ends as a fulfilled order or a refund. The steps that keep it:
a payment row is written before the gateway is asked (so no trade exists that we do not know
of); learning that money was taken (notification, query, face-pay answer) records the capture
in the ledger and queues the order's fulfilment in the same transaction; an order that cannot
be fulfilled queues a refund in the same transaction as the decision; refunds are retried
until the gateway confirms them.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time

from flask import current_app
from sqlalchemy.exc import IntegrityError

from bff import clock, outbox
from bff.auth import service as auth
from bff.errors import AppError
from bff.extensions import db
from bff.payments import orders, records, refunds

# The admin desk's use cases (refunds that need a person), served by bff.staff's admin routes.
from bff.payments.admin import list_refunds, reissue, settle_offline  # noqa: F401
from bff.payments.admin import present as present_refund  # noqa: F401
from bff.payments.models import Payment, new_trade_no
from bff.payments.records import gateways
from payments.interface import (
    PaymentError,
    PaymentOutcomeUnknown,
    PaymentRequest,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeState,
    TradeStatus,
)
from payments.registry import GatewayNotConfigured

log = logging.getLogger("bff.payments")

# A face-pay trade whose reverse is not confirmed yet: the outbox reverses it; no query is believed meanwhile.
REVERSING = "REVERSING"
REVERSED = "REVERSED"  # … and once it is: a late 'paid' is the money the reverse gave back


def get_for(user_id: int, payment_id: int) -> Payment:
    """One of the user's payments; anyone else's is a 404 like a missing one."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.user_id != user_id:
        raise AppError("PAYMENT_NOT_FOUND")
    return payment


_QUERY_EVERY_SECONDS = 2.0
_last_query: dict[int, float] = {}


def refreshed(payment: Payment) -> Payment:
    """A pending payment, asked about at the gateway (at most every 2 s) in case its notification is late.

    The mini-program polls right after the payer paid; asking the gateway then shows the result at
    once instead of when the notification arrives. Any gateway trouble leaves the payment as it is.
    """
    now = time.monotonic()
    if payment.status != "pending" or not payment.pay_params or now - _last_query.get(payment.id, 0.0) < \
            _QUERY_EVERY_SECONDS:
        return payment
    if len(_last_query) > 10_000:
        _last_query.clear()
    _last_query[payment.id] = now
    try:
        query_and_record(payment)
    except (PaymentError, GatewayNotConfigured) as error:
        db.session.rollback()
        log.info("payment %d: query on poll failed (%s)", payment.id, type(error).__name__,
                 extra={"out_trade_no": payment.out_trade_no})
    return payment


def present(payment: Payment) -> dict:
    """A payment as the API shows it: each answer's schema keeps the fields it documents."""
    return {
        "id": payment.id, "out_trade_no": payment.out_trade_no, "order_type": payment.order_type,
        "order_id": payment.order_id, "amount": payment.amount, "channel": payment.channel,
        "status": payment.status, "paid_at": payment.paid_at, "expires_at": payment.expires_at,
        "pay_params": json.loads(payment.pay_params) if payment.pay_params and payment.status == "pending" else None,
        "refunded": payment.refunded,
        "refunds": [{"id": r.id, "out_refund_no": r.out_refund_no, "amount": r.amount, "reason": r.reason,
                     "status": r.status, "created_at": r.created_at, "succeeded_at": r.succeeded_at}
                    for r in payment.refunds],
    }


def get_for_kiosk(kiosk_id: str, payment_id: int) -> Payment:
    """A payment the kiosk made; any other is a 404 like a missing one."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.kiosk_id != kiosk_id:
        raise AppError("PAYMENT_NOT_FOUND")
    return payment


def refund(payment: Payment, amount: int, reason: str):
    """Give money back, all of a payment or part: recorded now, sent from the outbox (caller commits)."""
    return refunds.request_refund(payment, amount, reason)


def receipt(payment: Payment) -> dict:
    """Where the paid order stands and its receipt number, as a kiosk prints it."""
    return orders.of(payment.order_type).receipt(payment.order_id)


def live_payment(order_type: str, order_id: str) -> Payment | None:
    """The order's pending, paid or refunding payment, if any."""
    return db.session.execute(db.select(Payment).where(
        Payment.order_type == order_type, Payment.order_id == str(order_id), Payment.live == 1)).scalar_one_or_none()


def latest_of(order_type: str, order_ids: list[str]) -> dict[str, Payment]:
    """The newest payment of each order that has one, in one query."""
    if not order_ids:
        return {}
    rows = db.session.execute(db.select(Payment).where(
        Payment.order_type == order_type, Payment.order_id.in_([str(i) for i in order_ids]))
        .order_by(Payment.id)).scalars()
    return {p.order_id: p for p in rows}


# -- paying in the mini-program -------------------------------------------------------------------


def create(user_id: int, order_type: str, order_id: str, channel: str, client_ip: str,
           payer_id: str | None = None) -> Payment:
    """Start paying an order in the app: the same pending payment again, or a new trade at the gateway."""
    wanted = payable(order_type, order_id, user_id)
    gateway = gateway_for(channel, "app")
    if channel == "wechat":
        payer_id = auth.openid_of(user_id)  # JSAPI pays as the logged-in WeChat user
    elif not payer_id:
        raise AppError("PAYER_REQUIRED", details={"fields": {"payer_id": ["必填"]}})
    current = settle_current(wanted, channel)  # only once this request is sure to go ahead
    if current is not None:
        return current
    payment = new_payment(wanted, channel, "app", gateway.name, payer_id)
    try:
        prepay = gateway.create(trade_request(payment, client_ip))
    except PaymentOutcomeUnknown as error:
        # The trade may exist: keep the row pending, the stuck-payment job asks the gateway later.
        log.warning("payment %d: create outcome unknown (%s)", payment.id, error.code,
                    extra={"out_trade_no": payment.out_trade_no})
        raise AppError("PAYMENT_UNAVAILABLE", headers={"Retry-After": "5"}) from error
    except PaymentError as error:
        end_unpaid(payment, "failed", failure_code=(error.gateway_code or error.code)[:32])
        raise AppError("PAYMENT_REJECTED", details={"reason": error.code}) from error
    try:  # compare-and-set: a close that slipped in meanwhile (expiry, another channel) wins
        records.change(Payment, payment, pay_params=json.dumps(dict(prepay.pay_params), ensure_ascii=False))
        db.session.commit()
    except records.StatusChanged:
        db.session.rollback()
        close_trade(db.session.get(Payment, payment.id))
        raise AppError("ORDER_NOT_PAYABLE", "该订单已关闭，请刷新后重试") from None
    return payment


def gateway_for(channel: str, method: str):
    """The gateway taking this channel's in-app or face payments; a clear error where there is none."""
    try:
        return gateways().for_app(channel) if method == "app" else gateways().for_face(channel)
    except GatewayNotConfigured:
        raise AppError("PAYMENT_CHANNEL_UNAVAILABLE") from None


def payable(order_type: str, order_id: str, user_id: int | None) -> orders.Payable:
    try:
        kind = orders.of(order_type)
    except KeyError:
        raise AppError("ORDER_TYPE_UNKNOWN") from None
    payable = kind.payable(str(order_id), user_id)
    if payable.amount <= 0:
        raise AppError("NOTHING_TO_PAY")
    return payable


def settle_current(payable: orders.Payable, channel: str, method: str = "app") -> Payment | None:
    """The order's open payment to reuse (the same channel in the app), else None once it is closed."""
    current = live_payment(payable.order_type, payable.order_id)
    if current is None:
        return None
    if current.status != "pending":
        raise AppError("ORDER_ALREADY_PAID")
    if method == "app" and current.channel == channel and current.pay_params and current.method == "app":
        return current
    if current.method == "face":  # a face payment is being charged right now: never close it under its feet
        raise AppError("PAYMENT_IN_PROGRESS", "该订单正在自助机支付，请稍候", transient=True)
    try:
        close_trade(current)  # another channel, or the kiosk takes over from the app
    except PaymentError as error:
        raise AppError("PAYMENT_UNAVAILABLE", headers={"Retry-After": "5"}) from error
    if current.status != "closed":
        raise AppError("ORDER_ALREADY_PAID")
    return None


def new_payment(payable: orders.Payable, channel: str, method: str, gateway_name: str,
                 payer_id: str | None, kiosk_id: str | None = None) -> Payment:
    """Write the payment before the gateway hears of it, so no trade exists that we do not know."""
    payment = Payment(out_trade_no=new_trade_no("YQ"), user_id=payable.user_id, order_type=payable.order_type,
                      order_id=payable.order_id, channel=channel, method=method, gateway=gateway_name,
                      amount=payable.amount, description=payable.description[:128], status="pending", live=1,
                      payer_id=payer_id, expires_at=payable.expires_at, kiosk_id=kiosk_id)
    db.session.add(payment)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AppError("PAYMENT_IN_PROGRESS", transient=True) from None
    return payment


def trade_request(payment: Payment, client_ip: str) -> PaymentRequest:
    return PaymentRequest(out_trade_no=payment.out_trade_no, amount=payment.amount, description=payment.description,
                          notify_url=gateways().notify_url(payment.gateway), client_ip=client_ip,
                          payer_id=payment.payer_id, expires_at=payment.expires_at)


# -- learning the money arrived ---------------------------------------------------------------------


def check_amount(payment: Payment, trade: TradeStatus) -> None:
    """AmountMismatch unless the trade is for exactly what we asked (the payer may pay less: a coupon)."""
    if trade.amount != payment.amount:
        raise records.AmountMismatch(f"payment {payment.out_trade_no}: gateway says {trade.amount} fen, "
                                     f"we asked {payment.amount}")


def record_paid(payment: Payment, trade: TradeStatus) -> bool:
    """The gateway says the trade is paid: capture in the ledger and queue the fulfilment (caller commits).

    Answers False when this was known already (a duplicate notification, a query after one).
    """
    check_amount(payment, trade)
    if payment.status not in ("pending", "closed", "failed"):
        return False
    if payment.failure_code in (REVERSING, REVERSED):  # the reverse undoes (or undid) it: the money goes back
        log.warning("payment %d reads paid, but it is reversed: not recorded", payment.id,
                    extra={"out_trade_no": payment.out_trade_no})
        return False
    paid_at = trade.paid_at or clock.now()
    fields = {"transaction_id": trade.transaction_id or payment.transaction_id, "paid_at": paid_at}
    try:
        if payment.live == 1:  # it stays the order's live payment: no constraint to meet
            records.move(payment, "paid", **fields)
        else:  # closed or failed, yet paid: it is live again, unless another payment of the order is
            with db.session.begin_nested():
                records.move(payment, "paid", live=1, **fields)
    except records.StatusChanged:  # recorded at this moment by another request (the notification, a poll)
        db.session.refresh(payment)
        return False
    except IntegrityError:  # another payment of the order is live: the payer paid twice
        records.move(payment, "paid", live=None, **fields)
        records.add_ledger_entry(payment, "capture", payment.amount, paid_at)
        refunds.request_refund(payment, payment.amount, "重复支付自动退款")
        log.warning("payment %d paid while another payment of the order is live: refunding", payment.id,
                    extra={"out_trade_no": payment.out_trade_no})
        return True
    records.add_ledger_entry(payment, "capture", payment.amount, paid_at)
    outbox.enqueue("fulfil_payment", f"fulfil:{payment.id}", {"payment_id": payment.id})
    log.info("payment %d paid: %d fen", payment.id, payment.amount,
             extra={"payment_id": payment.id, "out_trade_no": payment.out_trade_no, "order_type": payment.order_type,
                    "order_id": payment.order_id})
    return True


def close_trade(payment: Payment) -> None:
    """Close an unpaid trade at the gateway (or learn it was paid meanwhile); commits.

    A face-pay trade is reversed, as the gateways ask for code payments. A trade the gateway does
    not know is closed at once if the payer never received what pays it (an app trade without
    pay_params); otherwise only once it can no longer turn up (a create may still be on its way).
    """
    if payment.status != "pending":
        return
    gateway = gateways().by_name(payment.gateway)
    try:
        if payment.method == "face":
            gateway.reverse(payment.out_trade_no)
        else:
            gateway.close(payment.out_trade_no)
    except TradeNotFound:
        unpayable = payment.method == "app" and not payment.pay_params  # the payer never got what pays it
        if unpayable or payment.created_at < clock.now() - unseen_horizon(payment):
            end_unpaid(payment, "closed")
        else:
            raise PaymentOutcomeUnknown("the trade is not visible at the gateway yet", "NOT_VISIBLE") from None
        return
    except TradeAlreadyPaid:
        query_and_record(payment)
        return
    end_unpaid(payment, "closed", **({"failure_code": REVERSED} if payment.method == "face" else {}))


def end_unpaid(payment: Payment, to_status: str, **fields) -> None:
    """Mark a pending payment closed or failed and commit; one paid at this moment stays paid."""
    try:
        records.move(payment, to_status, **fields)
        db.session.commit()
    except records.StatusChanged:
        db.session.rollback()
        db.session.refresh(payment)


def unseen_horizon(payment: Payment) -> dt.timedelta:
    """How long a trade the gateway does not know may still turn up: a face code dies within a minute
    or two of being read, an app trade's create could be retried by the gateway for minutes."""
    if payment.method == "face":
        return dt.timedelta(seconds=2 * current_app.config["FACEPAY_WAIT_SECONDS"])
    return dt.timedelta(minutes=5)


def query_and_record(payment: Payment) -> TradeStatus | None:
    """Ask the gateway where the trade stands and record what it says; commits."""
    gateway = gateways().by_name(payment.gateway)
    try:
        trade = gateway.query(payment.out_trade_no)
    except TradeNotFound:
        if payment.status == "pending" and payment.created_at < clock.now() - unseen_horizon(payment):
            end_unpaid(payment, "closed")  # the create (or the face charge) never reached the gateway
        return None
    if trade.state in (TradeState.PAID, TradeState.REFUNDED) and trade.transaction_id:
        record_paid(payment, trade)
    elif trade.state in (TradeState.CLOSED, TradeState.FAILED) and payment.status == "pending":
        end_unpaid(payment, "closed" if trade.state == TradeState.CLOSED else "failed")
    db.session.commit()
    outbox.kick()
    return trade


@outbox.handler("fulfil_payment")
def fulfil_payment(payload: dict) -> None:
    """Outbox: the order does what was paid for."""
    payment = db.session.get(Payment, payload["payment_id"])
    if payment.status in ("paid", "refunding") and payment.live == 1:
        orders.of(payment.order_type).fulfil(payment)
        db.session.commit()


def next_check(created_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When to ask about a pending payment again: once its age has grown by half."""
    return now + (now - created_at) / 2


def settle_stuck(older_than: dt.timedelta, limit: int = 100) -> int:
    """Ask the gateway about payments pending for long (a lost notification); close those past expiry.

    A payment is asked about first once older_than, then again each time its age has grown by half
    (so an abandoned one costs a handful of queries, not one per pass), and always once past expiry.
    The next time is written before the gateway is asked, so a gateway that is down is not asked
    more often. Answers how many changed status.
    """
    now = dt.datetime.now(dt.UTC)
    due = db.or_(Payment.next_check_at.is_(None), Payment.next_check_at <= now, Payment.expires_at < clock.now())
    query = (db.select(Payment).where(Payment.status == "pending", Payment.created_at < now - older_than, due,
                                      db.or_(Payment.failure_code.is_(None), Payment.failure_code != REVERSING))
             .order_by(Payment.next_check_at.is_not(None), Payment.next_check_at).limit(limit))
    stuck = db.session.execute(query).scalars().all()
    changed = 0
    for payment in stuck:
        db.session.execute(db.update(Payment).where(Payment.id == payment.id).values(
            next_check_at=next_check(payment.created_at, now)).execution_options(synchronize_session=False))
        db.session.commit()
        try:
            query_and_record(payment)
            if payment.status == "pending" and payment.expires_at and payment.expires_at < clock.now():
                close_trade(payment)
            changed += payment.status != "pending"
        except (PaymentError, GatewayNotConfigured) as error:  # a gateway since removed: asked again later
            db.session.rollback()
            log.warning("stuck payment %d not settled yet: %s", payment.id,
                        getattr(error, "code", type(error).__name__), extra={"out_trade_no": payment.out_trade_no})
    return changed


def refund_trade(out_trade_no: str, amount: int, reason: str) -> None:
    """Queue money back on the payment of out_trade_no (e.g. 退费 of settled bills); the caller commits."""
    payment = db.session.execute(db.select(Payment).where(Payment.out_trade_no == out_trade_no)).scalar_one()
    refunds.request_refund(payment, amount, reason)

