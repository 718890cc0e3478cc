"""WeChat Pay API v2 endpoints (XML): unifiedorder, orderquery, closeorder, micropay, reverse,
refund, refundquery, downloadbill, and face-pay's get_wxpayface_authinfo.

Requests are verified as the real gateway does: the ``sign`` (MD5, or HMAC-SHA256 when the
request's ``sign_type`` says so) over every non-empty field with the API key; ``/secapi/``
also needs the merchant certificate (mutual TLS; see :mod:`sandbox.wechatpay.tls`). A refusal
of the request itself answers ``return_code`` FAIL, unsigned; everything else is signed with
the request's algorithm, business failures as ``result_code`` FAIL with an ``err_code``.
"""
from __future__ import annotations

import datetime as dt
import secrets

from flask import Blueprint, Response, current_app, g, request

from sandbox.wechatpay import crypto, messages, tls
from sandbox.wechatpay.bill import bill_text
from sandbox.wechatpay.trades import TZ, BizError, Trade

bp = Blueprint("wechatpay_v2", __name__)


def _box():
    return current_app.extensions["sandbox_wechatpay"]


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/xml; charset=utf-8")


class Refused(Exception):
    """The request itself is refused: return_code FAIL."""


def _reply(fields: dict, err: BizError | None = None) -> Response:
    box = _box()
    reply = {"return_code": "SUCCESS", "return_msg": "OK", "appid": box.appid, "mch_id": box.mchid,
             "nonce_str": secrets.token_hex(16), "result_code": "FAIL" if err else "SUCCESS", **fields}
    if err:
        reply.update(err_code=err.v2, err_code_des=err.message)
    sign_type = g.get("sign_type", "MD5")
    if sign_type == "HMAC-SHA256":
        reply["sign_type"] = sign_type
    reply["sign"] = crypto.v2_sign(reply, box.apiv2_key, sign_type)
    return _xml(messages.v2_xml(reply))


def _fail(message: str) -> Response:
    return _xml(messages.v2_xml({"return_code": "FAIL", "return_msg": message}))


def _fields(appid_key: str = "appid") -> dict:
    """The verified request fields, or Refused."""
    box = _box()
    try:
        fields = messages.parse_v2_xml(request.get_data())
    except ValueError as exc:
        raise Refused("XML格式错误") from exc
    sign_type = fields.get("sign_type") or "MD5"
    if sign_type not in ("MD5", "HMAC-SHA256"):
        raise Refused("签名类型错误")
    if fields.get("mch_id") != box.mchid or fields.get(appid_key) != box.appid:
        raise Refused("appid和mch_id不匹配")
    if not fields.get("nonce_str") or len(fields["nonce_str"]) > 32:
        raise Refused("nonce_str参数格式错误")
    if not crypto.v2_sign_ok(fields, box.apiv2_key, sign_type):
        raise Refused("签名错误")
    g.sign_type = sign_type
    return fields


def _peek_sign_type() -> str:
    try:
        return messages.parse_v2_xml(request.get_data()).get("sign_type") or "MD5"
    except ValueError:
        return "MD5"


@bp.before_request
def _gate():
    """Faults, then the merchant certificate for /secapi/."""
    verdict = _box().faults.verdict()
    if verdict == "down":
        return Response("Service Unavailable", status=503, content_type="text/plain")
    if verdict == "error":
        g.sign_type = _peek_sign_type()
        return _reply({}, BizError("SYSTEMERROR", "SYSTEM_ERROR", 500, "系统超时"))
    if request.path.startswith("/secapi/") and _box().secapi_requires_cert:
        if tls.client_merchant_id(request.environ.get("SSL_CLIENT_CERT")) != _box().mchid:
            return _fail("证书不存在或不是本商户的证书")
    return None


@bp.errorhandler(Refused)
def _refused(exc: Refused):
    return _fail(str(exc))


@bp.errorhandler(BizError)
def _biz(exc: BizError):
    return _reply({}, exc)


def _fen(fields: dict, key: str) -> int:
    value = fields.get(key, "")
    if not value.isdigit() or int(value) <= 0:
        raise BizError("PARAM_ERROR", "PARAM_ERROR", 400, f"{key}参数错误")
    return int(value)


def _new_trade(fields: dict, trade_type: str) -> Trade:
    for key in ("body", "out_trade_no", "spbill_create_ip"):
        if not fields.get(key):
            raise BizError("LACK_PARAMS", "PARAM_ERROR", 400, f"缺少参数{key}")
    expire = fields.get("time_expire")
    return Trade(out_trade_no=fields["out_trade_no"], api="v2", trade_type=trade_type, appid=fields["appid"],
                 mchid=fields["mch_id"], description=fields["body"], amount=_fen(fields, "total_fee"),
                 notify_url=fields.get("notify_url", ""), openid=fields.get("openid", ""),
                 attach=fields.get("attach", ""), created_at=dt.datetime.now(TZ), sign_type=g.sign_type,
                 device_info=fields.get("device_info", ""),
                 expires_at=dt.datetime.strptime(expire, "%Y%m%d%H%M%S").replace(tzinfo=TZ) if expire else None)


@bp.post("/pay/unifiedorder")
def unifiedorder():
    """JSAPI prepay → prepay_id."""
    fields = _fields()
    if fields.get("trade_type") != "JSAPI" or not fields.get("openid") or not fields.get("notify_url"):
        raise BizError("PARAM_ERROR", "PARAM_ERROR", 400, "JSAPI 下单需要 openid 与 notify_url")
    trade = _box().trades.create_jsapi(_new_trade(fields, "JSAPI"))
    return _reply({"trade_type": "JSAPI", "prepay_id": trade.prepay_id})


@bp.post("/pay/micropay")
def micropay():
    """Charge a payment code / face code (see facecodes for the magic ones)."""
    fields = _fields()
    if not fields.get("auth_code"):
        raise BizError("LACK_PARAMS", "PARAM_ERROR", 400, "缺少参数auth_code")
    trade, answer = _box().trades.micropay(_new_trade(fields, "MICROPAY"), fields["auth_code"])
    if answer == "SUCCESS":
        return _reply(messages.order_fields(trade))
    return _reply({}, BizError(answer, answer, 400, _MICROPAY_WORDS.get(answer, answer)))


_MICROPAY_WORDS = {"USERPAYING": "需要用户输入支付密码", "NOTENOUGH": "余额不足", "TRADE_ERROR": "交易错误",
                   "AUTHCODEEXPIRE": "二维码已过期，请用户在微信上刷新后再试", "SYSTEMERROR": "系统超时",
                   "AUTH_CODE_INVALID": "授权码检验错误", "ORDERPAID": "订单已支付", "ORDERREVERSED": "订单已撤销",
                   "ORDERCLOSED": "订单已关闭"}


@bp.post("/pay/orderquery")
def orderquery():
    """Query by out_trade_no or transaction_id."""
    fields, trades = _fields(), _box().trades
    trade = trades.query(fields.get("out_trade_no", "")) if fields.get("out_trade_no") else \
        trades.query(trades.by_transaction_id(fields.get("transaction_id", "")).out_trade_no)
    return _reply({**messages.order_fields(trade), "trade_state": trade.state, "trade_state_desc": trade.state_desc})


@bp.post("/pay/closeorder")
def closeorder():
    """Close an unpaid order."""
    _box().trades.close(_fields().get("out_trade_no", ""))
    return _reply({})


@bp.post("/secapi/pay/reverse")
def reverse():
    """Reverse a face payment (refunds it when it was paid)."""
    box = _box()
    _, recall, refund = box.trades.reverse(_fields().get("out_trade_no", ""))
    return _reply({"recall": "Y" if recall else "N"})


@bp.post("/secapi/pay/refund")
def refund():
    """Apply for a refund."""
    box, fields = _box(), _fields()
    trade = box.trades.get(fields.get("out_trade_no") or box.trades.by_transaction_id(
        fields.get("transaction_id", "")).out_trade_no)
    if not fields.get("out_refund_no"):
        raise BizError("LACK_PARAMS", "PARAM_ERROR", 400, "缺少参数out_refund_no")
    refund, new = box.trades.refund(trade.out_trade_no, fields["out_refund_no"], _fen(fields, "refund_fee"),
                                    _fen(fields, "total_fee"), fields.get("refund_desc", ""),
                                    fields.get("notify_url", ""))
    if new:
        box.refund_created(refund)
    return _reply({"transaction_id": trade.transaction_id, "out_trade_no": trade.out_trade_no,
                   "out_refund_no": refund.out_refund_no, "refund_id": refund.refund_id,
                   "refund_fee": refund.amount, "total_fee": trade.amount, "cash_fee": trade.amount,
                   "cash_refund_fee": refund.amount})


@bp.post("/pay/refundquery")
def refundquery():
    """Query one refund by out_refund_no (the numbered _0 fields, as the API answers)."""
    box, fields = _box(), _fields()
    refund = box.trades.find_refund(fields.get("out_refund_no", ""))
    trade = box.trades.get(refund.out_trade_no)
    state = {"SUCCESS": "SUCCESS", "PROCESSING": "PROCESSING", "ABNORMAL": "CHANGE"}.get(refund.state, "REFUNDCLOSE")
    return _reply({"transaction_id": trade.transaction_id, "out_trade_no": trade.out_trade_no,
                   "total_fee": trade.amount, "cash_fee": trade.amount, "refund_count": 1,
                   "out_refund_no_0": refund.out_refund_no, "refund_id_0": refund.refund_id,
                   "refund_fee_0": refund.amount, "refund_status_0": state,
                   "refund_success_time_0": messages.v2_time(refund.success_at, "%Y-%m-%d %H:%M:%S"),
                   "refund_recv_accout_0": "支付用户零钱"})


@bp.post("/pay/downloadbill")
def downloadbill():
    """The day's bill as plain text; an unsigned FAIL when there is none."""
    fields = _fields()
    try:
        day = dt.datetime.strptime(fields.get("bill_date", ""), "%Y%m%d").date()
    except ValueError:
        return _fail("invalid bill_date")
    text = bill_text(_box().trades, day)
    if text is None:
        return _xml(messages.v2_xml({"return_code": "FAIL", "return_msg": "No Bill Exist", "error_code": "20002"}))
    return Response(text.encode("utf-8"), content_type="text/plain; charset=utf-8")


@bp.post("/face/get_wxpayface_authinfo")
def wxpayface_authinfo():
    """Face SDK credentials for a device's rawdata (host payapp.weixin.qq.com; the reply has no result_code)."""
    box, fields = _box(), _fields()
    missing = [k for k in ("store_id", "store_name", "device_id", "rawdata", "now", "version") if not fields.get(k)]
    if missing:
        return _fail(f"缺少参数{missing[0]}")
    reply = {"return_code": "SUCCESS", "return_msg": "请求成功", "appid": box.appid, "mch_id": box.mchid,
             "nonce_str": secrets.token_hex(16), "authinfo": "sandbox-authinfo-" + secrets.token_urlsafe(24),
             "expires_in": 3600}
    if g.sign_type == "HMAC-SHA256":
        reply["sign_type"] = g.sign_type
    reply["sign"] = crypto.v2_sign(reply, box.apiv2_key, g.sign_type)
    return _xml(messages.v2_xml(reply))
