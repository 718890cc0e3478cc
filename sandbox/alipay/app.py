"""Flask app of the Alipay open-platform simulator: ``POST /gateway.do``, the bill download, ``/_control/``.

``/gateway.do`` checks the common parameters as the real gateway does (app_id, method, charset,
sign_type RSA2, timestamp within ``timestamp_tolerance`` of Asia/Shanghai time, version, and the
RSA2 signature with the app's public key) and answers ``{"<method>_response": {...}, "sign": ...}``
signed with the platform key. Faults (``/_control/faults``) apply to it and to the bill download.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, request

from sandbox.alipay import control
from sandbox.alipay.bill import build_zip
from sandbox.alipay.methods import METHODS
from sandbox.alipay.notifier import DEFAULT_RETRY_DELAYS, Notifier
from sandbox.alipay.protocol import Signer, now, parse_time
from sandbox.alipay.store import BizError, Store
from sandbox.faults import Faults
from sandbox.keys import SandboxKeys

INVALID_SIGNATURE = "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配"
BILL_LINK_TTL = 30.0  # seconds, as Alipay's download links
_MESSAGES = {"10000": "Success", "20000": "Service Currently Unavailable", "40001": "Missing Required Arguments",
             "40002": "Invalid Arguments", "40004": "Business Failed"}
_REQUIRED = (("app_id", "isv.missing-app-id"), ("method", "isv.missing-method"),
             ("sign_type", "isv.missing-signature-type"), ("sign", "isv.missing-signature"),
             ("timestamp", "isv.missing-timestamp"), ("version", "isv.missing-version"))


class AlipaySandbox:
    """The simulator's state: its ledger, notifier, keys, fault knobs and short-lived bill links."""

    def __init__(self, keys: SandboxKeys, retry_delays, timestamp_tolerance: float, clock):
        self.app_id = keys.secrets["alipay_app_id"]
        self.seller_id = keys.secrets["alipay_seller_id"]
        self.signer = Signer(keys.private_key("alipay_platform"), keys.public_key("alipay_app"))
        self.clock = clock
        self.timestamp_tolerance = timestamp_tolerance
        self.store = Store(clock)
        self.notifier = Notifier(retry_delays)
        self.faults = Faults()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to an empty, healthy gateway."""
        self.store.reset()
        self.notifier.reset()
        self.faults.reset()
        with self._lock:
            self._delays: dict[str, float] = {}
            self._links: dict[str, tuple[dt.date, float]] = {}

    def delay_next(self, out_trade_no: str, seconds: float) -> None:
        """Hold the trade's next notification back for seconds."""
        with self._lock:
            self._delays[out_trade_no] = seconds

    def take_delay(self, out_trade_no: str) -> float:
        """The delay asked for the trade's next notification (used once)."""
        with self._lock:
            return self._delays.pop(out_trade_no, 0.0)

    def bill_link(self, day: dt.date) -> str:
        """A download URL for day's bill, valid BILL_LINK_TTL seconds."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._links[token] = (day, self.clock().timestamp() + BILL_LINK_TTL)
        return (f"{request.host_url}downloadBillFile.resource?bizType=trade&userId={self.seller_id}"
                f"&fileType=csv.zip&bizDates={day:%Y%m%d}&token={token}")

    def bill_for(self, token: str) -> dt.date | None:
        """The day a live link serves, or None."""
        with self._lock:
            day, expires = self._links.get(token, (None, 0.0))
        return day if day and self.clock().timestamp() <= expires else None

    def bill(self, day: dt.date) -> bytes:
        """The bill zip of day."""
        with self.store.lock:
            return build_zip(self.store.snapshot(), day, self.seller_id, self.clock())


gateway = Blueprint("alipay_gateway", __name__)


def _box() -> AlipaySandbox:
    return current_app.extensions["sandbox_alipay"]


def _answer(method: str | None, body: dict, signed: bool = True) -> Response:
    if signed and method:
        text = _box().signer.answer(method, body)
    else:  # nothing to sign for: no method, or an app we do not know
        text = json.dumps({"error_response": body}, ensure_ascii=False, separators=(",", ":"))
    return Response(text, content_type="application/json;charset=utf-8")


def _error(code: str, sub_code: str, sub_msg: str) -> dict:
    return {"code": code, "msg": _MESSAGES[code], "sub_code": sub_code, "sub_msg": sub_msg}


def _timestamp_ok(box: AlipaySandbox, text: str) -> bool:
    try:
        moment = parse_time(text)
    except ValueError:
        return False
    return abs((box.clock() - moment).total_seconds()) <= box.timestamp_tolerance


def _refusal(box: AlipaySandbox, params: dict) -> Response | None:
    """The gateway's own checks, in its order; an answer when the request is refused."""
    method = params.get("method") or None
    for name, sub_code in _REQUIRED:
        if not params.get(name):
            return _answer(method, _error("40001", sub_code, f"缺少{name}参数"), signed=name != "app_id")
    if params["app_id"] != box.app_id:
        return _answer(method, _error("40002", "isv.invalid-app-id", "无效的AppID参数"), signed=False)
    checks = (
        (params["sign_type"] == "RSA2", "isv.invalid-signature-type", "无效的签名类型"),
        (params.get("charset", "utf-8").lower() == "utf-8", "isv.invalid-charset", "字符集错误"),
        (params.get("format", "json").lower() == "json", "isv.invalid-format", "无效的数据格式"),
        (box.signer.verify_request(params), "isv.invalid-signature", INVALID_SIGNATURE),
        (_timestamp_ok(box, params["timestamp"]), "isv.invalid-timestamp", "非法的时间戳参数"),
        (params["version"] == "1.0", "isv.invalid-version", "无效的版本号"),
        (method in METHODS, "isv.invalid-method", "不存在的方法名"),
    )
    for ok, sub_code, sub_msg in checks:
        if not ok:
            return _answer(method, _error("40002", sub_code, sub_msg))
    return None


def _fault() -> Response | None:
    verdict = _box().faults.verdict()
    if verdict == "down":
        return Response("Service Unavailable", status=503, content_type="text/plain")
    if verdict == "error":
        return Response("<html><body><h1>500 Internal Server Error</h1></body></html>", status=500,
                        content_type="text/html")
    return None


@gateway.route("/gateway.do", methods=["GET", "POST"])
def gateway_do():
    """The open-platform entry point: common parameters in the query string, biz_content in the form."""
    failed = _fault()
    if failed is not None:
        return failed
    box = _box()
    params = {key: values[0] for key, values in request.values.lists()}
    refused = _refusal(box, params)
    if refused is not None:
        return refused
    method = params["method"]
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        biz = None
    if not isinstance(biz, dict):
        return _answer(method, _error("40002", "isv.invalid-parameter", "biz_content 不是 JSON 对象"))
    try:
        body = METHODS[method](box, biz, params)
    except BizError as exc:
        body = _error(exc.code, exc.sub_code, exc.sub_msg)
    return _answer(method, body)


@gateway.get("/downloadBillFile.resource")
def download_bill():
    """The bill zip behind a link from bill.downloadurl.query."""
    failed = _fault()
    if failed is not None:
        return failed
    day = _box().bill_for(request.args.get("token", ""))
    if day is None:
        return Response("链接已失效", status=403, content_type="text/plain;charset=utf-8")
    return Response(_box().bill(day), content_type="application/zip")


def create_app(keys: SandboxKeys, *, retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
               timestamp_tolerance: float = 900.0, clock: Callable[[], dt.datetime] | None = None) -> Flask:
    """The Alipay simulator for the sandbox keys; retry_delays are the notification resend intervals (seconds)."""
    app = Flask("sandbox.alipay")
    app.json.ensure_ascii = False
    app.extensions["sandbox_alipay"] = AlipaySandbox(keys, retry_delays, timestamp_tolerance, clock or now)
    app.register_blueprint(gateway)
    app.register_blueprint(control.blueprint)
    return app
