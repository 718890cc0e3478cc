"""WeChat Pay API v3 endpoints: JSAPI prepay, query, close, refund, refund query, trade bill.

Every request is verified as the real gateway verifies it: the ``Authorization`` header
``WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,timestamp=…,serial_no=…`` must
name our merchant and its certificate serial, be at most 5 minutes old, not reuse a nonce, and
carry an RSA-SHA256 signature by the merchant key over ``METHOD\\nURL\\nts\\nnonce\\nbody\\n``
(URL = path and query as sent). Every answer is signed with the platform key.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
import secrets
import time

from flask import Blueprint, Response, current_app, g, request

from sandbox.wechatpay import crypto, messages
from sandbox.wechatpay.bill import bill_text
from sandbox.wechatpay.trades import TZ, BizError, Trade

bp = Blueprint("wechatpay_v3", __name__, url_prefix="/v3")
_AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')
_NUMBER = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
MAX_SKEW = 300


def _box():
    return current_app.extensions["sandbox_wechatpay"]


def _json(obj, status: int = 200) -> Response:
    return Response(json.dumps(obj, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"code": code, "message": message}, status)


class ParamError(Exception):
    """A request field that breaks the API's rules (400 PARAM_ERROR)."""


def _refuse_auth(message: str) -> Response:
    return _error(401, "SIGN_ERROR", message)


def _raw_url() -> str:
    return request.environ.get("RAW_URI") or request.full_path.rstrip("?")


def _check_authorization() -> Response | None:
    box = _box()
    scheme, _, rest = request.headers.get("Authorization", "").partition(" ")
    if scheme != "WECHATPAY2-SHA256-RSA2048":
        return _refuse_auth("错误的签名方式")
    auth = dict(_AUTH_PARAM.findall(rest))
    missing = {"mchid", "nonce_str", "signature", "timestamp", "serial_no"} - auth.keys()
    if missing:
        return _refuse_auth(f"Authorization 缺少 {','.join(sorted(missing))}")
    if auth["mchid"] != box.mchid:
        return _refuse_auth("商户号不存在")
    if auth["serial_no"] != box.merchant_serial:
        return _refuse_auth("商户证书序列号有误")
    if not auth["timestamp"].isdigit() or abs(time.time() - int(auth["timestamp"])) > MAX_SKEW:
        return _refuse_auth("签名时间戳已过期或无效")
    body = request.get_data(as_text=True)
    text = f"{request.method}\n{_raw_url()}\n{auth['timestamp']}\n{auth['nonce_str']}\n{body}\n"
    if not crypto.rsa_verify(box.merchant_public, text, auth["signature"]):
        return _refuse_auth("签名错误")
    if not box.fresh_nonce(auth["nonce_str"]):
        return _refuse_auth("重复的请求随机串")
    serial = request.headers.get("Wechatpay-Serial")
    if serial is not None and serial != box.public_key_id:
        return _error(400, "PARAM_ERROR", "Wechatpay-Serial 不是有效的微信支付公钥ID")
    g.mchid = auth["mchid"]
    return None


@bp.before_request
def _gate():
    """Faults first (the gateway is down or failing), then the signature check."""
    verdict = _box().faults.verdict()
    if verdict == "down":
        return Response("Service Unavailable", status=503, content_type="text/plain")
    if verdict == "error":
        return _error(500, "SYSTEM_ERROR", "系统错误")
    return _check_authorization()


@bp.after_request
def _sign(response: Response) -> Response:
    """Sign every answer with the platform key (the bill file stream excepted, as in reality)."""
    if request.path != "/v3/billdownload/file" and not response.direct_passthrough:
        response.headers.update(_box().signature_headers(response.get_data(as_text=True)))
        response.headers["Request-ID"] = secrets.token_hex(16)
    return response


@bp.errorhandler(BizError)
def _biz(exc: BizError):
    return _error(exc.status, exc.v3, exc.message)


@bp.errorhandler(ParamError)
def _param(exc: ParamError):
    return _error(400, "PARAM_ERROR", str(exc))


def _body() -> dict:
    try:
        data = json.loads(request.get_data(as_text=True))
    except ValueError as exc:
        raise ParamError("请求体不是合法的 JSON") from exc
    if not isinstance(data, dict):
        raise ParamError("请求体不是 JSON 对象")
    return data


def _require(data: dict, *path: str):
    value = data
    for key in path:
        if not isinstance(value, dict) or value.get(key) in (None, ""):
            raise ParamError(f"缺少参数 {'.'.join(path)}")
        value = value[key]
    return value


def _positive_fen(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ParamError("金额必须为正整数（单位：分）")
    return value


def _number(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NUMBER.match(value):
        raise ParamError(f"{what} 须为 6-32 位数字、字母或 _-|*")
    return value


def _check_mchid(mchid: str | None) -> None:
    if mchid != g.mchid:
        raise ParamError("mchid 与 Authorization 中的商户号不一致")


@bp.post("/pay/transactions/jsapi")
def jsapi():
    """JSAPI / mini-program prepay → prepay_id."""
    box, data = _box(), _body()
    _check_mchid(_require(data, "mchid"))
    if _require(data, "appid") != box.appid:
        raise BizError("APPID_MCHID_NOT_MATCH", "APPID_MCHID_NOT_MATCH", 400, "appid和mch_id不匹配")
    notify_url = _require(data, "notify_url")
    if not notify_url.startswith(("https://", "http://")) or "?" in notify_url:
        raise ParamError("notify_url 须为不带参数的 http(s) 地址")
    description = _require(data, "description")
    if len(description) > 127:
        raise ParamError("description 超过 127 个字符")
    expire = data.get("time_expire")
    try:
        expires_at = dt.datetime.fromisoformat(expire) if expire else None
    except ValueError as exc:
        raise ParamError("time_expire 须为 RFC 3339 格式") from exc
    trade = Trade(out_trade_no=_number(_require(data, "out_trade_no"), "out_trade_no"), api="v3",
                  trade_type="JSAPI", appid=box.appid, mchid=box.mchid, description=description,
                  amount=_positive_fen(_require(data, "amount", "total")), notify_url=notify_url,
                  openid=_require(data, "payer", "openid"), attach=data.get("attach", ""),
                  created_at=dt.datetime.now(TZ), expires_at=expires_at)
    return _json({"prepay_id": box.trades.create_jsapi(trade).prepay_id})


@bp.get("/pay/transactions/out-trade-no/<out_trade_no>")
def query(out_trade_no: str):
    """Query by our order number."""
    _check_mchid(request.args.get("mchid"))
    return _json(messages.transaction_json(_box().trades.query(out_trade_no)))


@bp.post("/pay/transactions/out-trade-no/<out_trade_no>/close")
def close(out_trade_no: str):
    """Close an unpaid order: 204."""
    _check_mchid(_body().get("mchid"))
    _box().trades.close(out_trade_no)
    return Response(status=204)


def _trade_of_refund(data: dict) -> Trade:
    trades = _box().trades
    try:
        if data.get("out_trade_no"):
            return trades.get(data["out_trade_no"])
        return trades.by_transaction_id(_require(data, "transaction_id"))
    except BizError as exc:
        raise BizError(exc.v2, "RESOURCE_NOT_EXISTS", 404, exc.message) from None


@bp.post("/refund/domestic/refunds")
def refund():
    """Apply for a refund (the same out_refund_no answers the same refund)."""
    box, data = _box(), _body()
    trade = _trade_of_refund(data)
    amount = _positive_fen(_require(data, "amount", "refund"))
    total = _positive_fen(_require(data, "amount", "total"))
    out_refund_no = _number(_require(data, "out_refund_no"), "out_refund_no")
    refund, new = box.trades.refund(trade.out_trade_no, out_refund_no, amount, total, data.get("reason", ""),
                                    data.get("notify_url", ""))
    if new:
        box.refund_created(refund)
    return _json(messages.refund_json(trade, refund))


@bp.get("/refund/domestic/refunds/<out_refund_no>")
def refund_query(out_refund_no: str):
    """Query a refund by our refund number."""
    box = _box()
    refund = box.trades.find_refund(out_refund_no)
    return _json(messages.refund_json(box.trades.get(refund.out_trade_no), refund))


@bp.get("/bill/tradebill")
def trade_bill():
    """Apply for a day's trade bill: its SHA-1 and where to download it."""
    box = _box()
    try:
        day = dt.date.fromisoformat(request.args.get("bill_date", ""))
    except ValueError as exc:
        raise ParamError("bill_date 须为 YYYY-MM-DD") from exc
    if request.args.get("bill_type", "ALL") != "ALL":
        raise ParamError("模拟器只提供 ALL 类型账单")
    text = bill_text(box.trades, day) if day <= dt.datetime.now(TZ).date() else None
    if text is None:
        return _error(400, "NO_STATEMENT_EXIST", "账单文件不存在")
    raw = text.encode("utf-8")
    token = secrets.token_urlsafe(24)
    box.bill_files[token] = gzip.compress(raw) if request.args.get("tar_type") == "GZIP" else raw
    return _json({"hash_type": "SHA1", "hash_value": hashlib.sha1(raw).hexdigest(),  # noqa: S324 - as the API states
                  "download_url": f"{request.host_url}v3/billdownload/file?token={token}"})


@bp.get("/billdownload/file")
def bill_file():
    """Download the bill file applied for."""
    content = _box().bill_files.get(request.args.get("token", ""))
    if content is None:
        return _error(400, "INVALID_REQUEST", "账单下载地址无效或已过期")
    return Response(content, content_type="application/octet-stream")
