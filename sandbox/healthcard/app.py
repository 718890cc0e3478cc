"""Flask app of the health card platform simulator: the envelope, its checks, and the factory.

Every call is ``POST`` JSON ``{"commonIn": {...}, "req": {...}}`` answered HTTP 200
``{"commonOut": {requestId, resultCode, errMsg}, "rsp": {...}}``, the way the platform does:

- ``.../HealthOpenAuth/AuthObj/getAppToken`` — the app named by ``req.appId`` must exist, the
  sign must be made with its secret, ``commonIn.hospitalId`` must be its hospital;
- ``.../HealthOpenPlatform/ISVOpenObj/<operation>`` — the app token must be one we issued
  (10002), the sign made with its app's secret (10001), the hospital the app's (10005) and the
  token unexpired (10003).

Any request's ``timestamp`` must be within ``timestamp_tolerance`` seconds of the platform's
clock (10006). Faults (``POST /_control/faults``) apply to these endpoints only.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from sandbox.faults import Faults
from sandbox.healthcard import control
from sandbox.healthcard import results as rc
from sandbox.healthcard.operations import OPERATIONS, Call
from sandbox.healthcard.results import PlatformError
from sandbox.healthcard.signing import sign_matches
from sandbox.healthcard.store import Platform, SandboxApp

TZ = ZoneInfo("Asia/Shanghai")
AUTH_PATH = "/rest/auth/HealthCard/HealthOpenAuth/AuthObj/getAppToken"
ISV_PATH = "/rest/auth/HealthCard/HealthOpenPlatform/ISVOpenObj/<operation>"

api = Blueprint("healthcard_api", __name__)


@dataclass
class Sandbox:
    """One simulated platform: state, fault knobs, timestamp window."""

    platform: Platform
    faults: Faults
    timestamp_tolerance: int


def _sandbox() -> Sandbox:
    return current_app.extensions["sandbox_healthcard"]


def _reply(request_id: str, code: int = rc.OK, message: str = "成功", rsp: dict | None = None,
           status: int = 200) -> tuple[Response, int]:
    body: dict = {"commonOut": {"requestId": request_id, "resultCode": code, "errMsg": message}}
    if rsp is not None:
        body["rsp"] = rsp
    return jsonify(body), status


def _fault_response():
    verdict = _sandbox().faults.verdict()
    if verdict == "down":
        return Response("Service Unavailable", status=503, content_type="text/plain")
    if verdict == "error":
        return _reply("", rc.SYSTEM_BUSY, "系统繁忙，请稍后重试", status=500)
    return None


def _envelope() -> tuple[dict, dict]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("commonIn"), dict):
        raise PlatformError(rc.PARAM_INVALID, "请求应为 {commonIn, req}")
    req = body.get("req") or {}
    if not isinstance(req, dict):
        raise PlatformError(rc.PARAM_INVALID, "req 应为对象")
    return body["commonIn"], req


def _check_timestamp(common_in: dict, now: dt.datetime) -> None:
    try:
        sent = int(str(common_in.get("timestamp")))
    except ValueError:
        raise PlatformError(rc.PARAM_INVALID, "timestamp 无效") from None
    if abs(now.timestamp() - sent) > _sandbox().timestamp_tolerance:
        raise PlatformError(rc.TIMESTAMP_OUT_OF_WINDOW, "请求时间戳超出允许范围")


def _check_app(app: SandboxApp, common_in: dict, req: dict) -> None:
    if not sign_matches(common_in, req, app.app_secret):
        raise PlatformError(rc.SIGN_INVALID, "签名错误")
    if common_in.get("hospitalId") != app.hospital_id:
        raise PlatformError(rc.HOSPITAL_MISMATCH, "hospitalId 与应用不符")


def _serve(operation: str, handle: Callable[[dict, dict, dt.datetime], dict]):
    _sandbox().platform.count_call(operation)
    failed = _fault_response()
    if failed is not None:
        return failed
    request_id = ""
    try:
        common_in, req = _envelope()
        request_id = str(common_in.get("requestId") or "")
        now = _sandbox().platform.clock()
        _check_timestamp(common_in, now)
        return _reply(request_id, rsp=handle(common_in, req, now))
    except PlatformError as exc:
        return _reply(request_id, exc.code, exc.message)


@api.post(AUTH_PATH)
def get_app_token():
    """getAppToken: a token valid token_ttl seconds (7200 by default)."""

    def issue(common_in: dict, req: dict, now: dt.datetime) -> dict:
        platform = _sandbox().platform
        app = platform.apps.get(req.get("appId"))
        if app is None:
            raise PlatformError(rc.APP_UNKNOWN, "appId 不存在")
        _check_app(app, common_in, req)
        token, ttl = platform.issue_token(app, now)
        return {"appToken": token, "expiresIn": ttl}

    return _serve("getAppToken", issue)


@api.post(ISV_PATH)
def isv_operation(operation: str):
    """One of the card operations, after the token and signature checks."""
    handler = OPERATIONS.get(operation)
    if handler is None:
        return _reply("", rc.PARAM_INVALID, f"未知接口 {operation}", status=404)

    def run(common_in: dict, req: dict, now: dt.datetime) -> dict:
        platform = _sandbox().platform
        app, expires_at = platform.token_owner(common_in.get("appToken"))
        _check_app(app, common_in, req)
        if now >= expires_at:
            raise PlatformError(rc.TOKEN_EXPIRED, "appToken 已过期")
        return handler(platform, Call(app, now, str(common_in.get("requestId") or "")), req)

    return _serve(operation, run)


def default_apps() -> list[SandboxApp]:
    """The one sandbox app, from the environment or the sandbox-only defaults."""
    return [SandboxApp(app_id=os.environ.get("HEALTH_CARD_APP_ID") or "hc-sandbox-appid",
                       app_secret=os.environ.get("HEALTH_CARD_APP_SECRET") or "hc-sandbox-secret",
                       hospital_id=os.environ.get("HEALTH_CARD_HOSPITAL_ID") or "10001",
                       hospital_name="医桥沙箱医院")]


def _as_app(app: SandboxApp | Mapping) -> SandboxApp:
    return app if isinstance(app, SandboxApp) else SandboxApp(**dict(app))


def create_app(apps: Sequence[SandboxApp | Mapping] | None = None, clock: Callable[[], dt.datetime] | None = None,
               qr_ttl_seconds: int = 60, token_ttl_seconds: int = 7200, timestamp_tolerance: int = 300) -> Flask:
    """The simulator; apps are {app_id, app_secret, hospital_id[, hospital_name]} (default: one sandbox app)."""
    app = Flask("sandbox.healthcard")
    app.json.ensure_ascii = False
    platform = Platform([_as_app(a) for a in (apps or default_apps())], clock or (lambda: dt.datetime.now(TZ)),
                        qr_ttl=qr_ttl_seconds, token_ttl=token_ttl_seconds)
    app.extensions["sandbox_healthcard"] = Sandbox(platform, Faults(), timestamp_tolerance)
    app.register_blueprint(api)
    app.register_blueprint(control.bp)
    return app
