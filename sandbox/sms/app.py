"""Flask app of the Tencent Cloud SMS simulator (API 3.0, ``SendSms`` version 2021-01-11).

Every call is ``POST /`` with a JSON body, signed TC3-HMAC-SHA256 (see ``signing``), answered HTTP
200 ``{"Response": {..., "RequestId"}}`` the way the service does. In order it checks:

- the Authorization header (``AuthFailure.InvalidAuthorization``), ``X-TC-Timestamp`` within
  ``timestamp_tolerance`` seconds of its clock (``AuthFailure.SignatureExpire``), the SecretId
  (``AuthFailure.SecretIdNotFound``), the signature over the Host header it received
  (``AuthFailure.SignatureFailure``);
- ``X-TC-Action: SendSms`` (``InvalidAction``), ``X-TC-Version: 2021-01-11`` (``NoSuchVersion``),
  ``X-TC-Region`` (``UnsupportedRegion``);
- the application's ``SmsSdkAppId``, approved ``SignName`` and ``TemplateId`` and the number of
  ``TemplateParamSet`` values; these refusals are ``Response.Error``;
- each number of ``PhoneNumberSet`` (mainland, ``+86`` and 11 digits, or the 11 digits) and the
  per-number limits: these answer in ``SendStatusSet[i].Code`` as the service does.

Faults (``POST /_control/faults``): ``down`` answers HTTP 503, an error ``InternalError.OtherError``.
"""
from __future__ import annotations

import datetime as dt
import hmac
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from sandbox.faults import Faults, register_fault_routes
from sandbox.keys import SandboxKeys
from sandbox.sms import signing
from sandbox.sms.store import Limits, Outbox

TZ = ZoneInfo("Asia/Shanghai")
SERVICE, ACTION, VERSION = "sms", "SendSms", "2021-01-11"
REGIONS = frozenset({"ap-guangzhou", "ap-beijing", "ap-nanjing"})
# The approved verification-code template: {1} the code, {2} the minutes it is valid.
VERIFICATION_TEMPLATE = "您的验证码为{1}，{2}分钟内有效。如非本人操作，请忽略本短信。"
_MAINLAND = re.compile(r"^(?:\+86)?(1\d{10})$")
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_LIMIT_MESSAGES = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": "单个手机号30秒内下发短信条数超过设定的上限",
    "LimitExceeded.PhoneNumberOneHourLimit": "单个手机号1小时内下发短信条数超过设定的上限",
    "LimitExceeded.PhoneNumberDailyLimit": "单个手机号日下发短信条数超过设定的上限",
}

api = Blueprint("sms_api", __name__)


class ApiError(Exception):
    """A refusal of the whole request: ``Response.Error``."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Account:
    """The Tencent Cloud account the simulator serves: API keys and its SMS application."""

    credentials: dict[str, str]  # SecretId → SecretKey
    sdk_app_id: str
    sign_name: str
    templates: dict[str, str]  # TemplateId → approved text


@dataclass
class Sandbox:
    """One simulated service: account, deliveries, fault knobs, timestamp window."""

    account: Account
    outbox: Outbox
    faults: Faults
    timestamp_tolerance: int


def _sandbox() -> Sandbox:
    return current_app.extensions["sandbox_sms"]


def _reply(request_id: str, body: dict) -> Response:
    return jsonify({"Response": {**body, "RequestId": request_id}})


def _timestamp() -> int:
    raw = request.headers.get("X-TC-Timestamp")
    if not raw:
        raise ApiError("MissingParameter", "缺少必要参数 X-TC-Timestamp")
    try:
        return int(raw)
    except ValueError:
        raise ApiError("InvalidParameter", "X-TC-Timestamp 不是整数秒") from None


def _payload() -> bytes:
    if request.headers.get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD":
        return b"UNSIGNED-PAYLOAD"
    return request.get_data(cache=True)


def _authenticate(box: Sandbox) -> None:
    auth = signing.parse_authorization(request.headers.get("Authorization"))
    if auth is None:
        raise ApiError("AuthFailure.InvalidAuthorization", "Authorization 不符合 TC3-HMAC-SHA256 格式")
    timestamp = _timestamp()
    if abs(box.outbox.clock().timestamp() - timestamp) > box.timestamp_tolerance:
        raise ApiError("AuthFailure.SignatureExpire", "签名过期，请求时间与服务器时间相差超过5分钟")
    secret_key = box.account.credentials.get(auth.secret_id)
    if secret_key is None:
        raise ApiError("AuthFailure.SecretIdNotFound", "密钥不存在，请检查 SecretId")
    failure = ApiError("AuthFailure.SignatureFailure", "签名错误，请检查密钥与签名计算方法")
    if (auth.service != SERVICE or auth.date != signing.utc_date(timestamp)
            or not {"content-type", "host"} <= set(auth.signed_headers)):
        raise failure
    canonical = signing.canonical_request(request.method, request.path, request.query_string.decode("latin-1"),
                                          dict(request.headers.items()), auth.signed_headers, _payload())
    expected = signing.signature(secret_key, auth.date, SERVICE,
                                 signing.string_to_sign(timestamp, auth.date, SERVICE, canonical))
    if not hmac.compare_digest(expected, auth.signature):
        raise failure


def _check_action() -> None:
    action, version = request.headers.get("X-TC-Action", ""), request.headers.get("X-TC-Version", "")
    region = request.headers.get("X-TC-Region", "")
    if action != ACTION:
        raise ApiError("InvalidAction", f"接口 {action or '(空)'} 不存在")
    if version != VERSION:
        raise ApiError("NoSuchVersion", f"接口版本 {version or '(空)'} 不存在")
    if region not in REGIONS:
        raise ApiError("UnsupportedRegion", f"接口不支持地域 {region or '(空)'}")


def _params() -> dict:
    try:
        params = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        raise ApiError("FailedOperation.JsonParseFail", "请求包体不是合法的 JSON") from None
    if not isinstance(params, dict):
        raise ApiError("FailedOperation.JsonParseFail", "请求包体应为 JSON 对象")
    return params


def _template(account: Account, params: dict) -> tuple[str, str, tuple[str, ...]]:
    for name in ("SmsSdkAppId", "SignName", "TemplateId", "PhoneNumberSet"):
        if params.get(name) in (None, ""):
            raise ApiError("MissingParameter", f"缺少必要参数 {name}")
    if str(params["SmsSdkAppId"]) != account.sdk_app_id:
        raise ApiError("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId 校验失败")
    if params["SignName"] != account.sign_name:
        raise ApiError("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误")
    template_id = str(params["TemplateId"])
    text = account.templates.get(template_id)
    if text is None:
        raise ApiError("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配")
    values = params.get("TemplateParamSet") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError("InvalidParameterValue.TemplateParameterFormatError", "TemplateParamSet 应为字符串数组")
    wanted = max((int(n) for n in _PLACEHOLDER.findall(text)), default=0)
    if len(values) != wanted:
        raise ApiError("FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                       "模板变量个数与审核通过的模板内容不匹配")
    if any(len(v) > 12 for v in values):
        raise ApiError("InvalidParameterValue.TemplateParameterLengthLimit", "单个模板变量字符数超过12个")
    body = _PLACEHOLDER.sub(lambda m: values[int(m[1]) - 1], text)
    return template_id, f"【{account.sign_name}】{body}", tuple(values)


def _phones(params: dict) -> list[str]:
    phones = params["PhoneNumberSet"]
    if not isinstance(phones, list) or not phones:
        raise ApiError("MissingParameter.EmptyPhoneNumberSet", "传入的号码列表为空")
    if len(phones) > 200:
        raise ApiError("LimitExceeded.PhoneNumberCountLimit", "单次请求的手机号码数超过200个")
    return [str(p) for p in phones]


def _status(outbox: Outbox, raw: str, template_id: str, values: tuple[str, ...], text: str, context: str) -> dict:
    status = {"SerialNo": "", "PhoneNumber": raw, "Fee": 0, "SessionContext": context, "IsoCode": "CN"}
    match = _MAINLAND.match(raw)
    if match is None:
        if raw.startswith("+") and not raw.startswith("+86"):
            return {**status, "IsoCode": "", "Code": "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone",
                    "Message": "国内短信模板不支持发送国际/港澳台手机号"}
        return {**status, "IsoCode": "", "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                "Message": "手机号格式错误"}
    phone = "+86" + match[1]
    refused = outbox.deliver(phone, template_id, values, text)
    if refused:
        return {**status, "PhoneNumber": phone, "Code": refused, "Message": _LIMIT_MESSAGES[refused]}
    # One fee unit per 70 characters (67 each when a long message is split).
    fee = 1 if len(text) <= 70 else -(-len(text) // 67)
    return {**status, "PhoneNumber": phone, "SerialNo": f"2433:{uuid.uuid4().int % 10**19}", "Fee": fee,
            "Code": "Ok", "Message": "send success"}


def _fault_response(request_id: str) -> Response | None:
    verdict = _sandbox().faults.verdict()
    if verdict == "down":
        return Response("Service Unavailable", status=503, content_type="text/plain")
    if verdict == "error":
        return _reply(request_id, {"Error": {"Code": "InternalError.OtherError", "Message": "内部错误，请稍后重试"}})
    return None


@api.post("/")
def send_sms():
    """The API 3.0 entry point; only SendSms is served."""
    request_id = str(uuid.uuid4())
    failed = _fault_response(request_id)
    if failed is not None:
        return failed
    box = _sandbox()
    try:
        _authenticate(box)
        _check_action()
        params = _params()
        template_id, text, values = _template(box.account, params)
        context = str(params.get("SessionContext") or "")
        statuses = [_status(box.outbox, raw, template_id, values, text, context) for raw in _phones(params)]
    except ApiError as exc:
        return _reply(request_id, {"Error": {"Code": exc.code, "Message": exc.message}})
    return _reply(request_id, {"SendStatusSet": statuses})


def account_from_keys(keys: SandboxKeys) -> Account:
    """The account whose keys and application ``sandbox.keys`` made at set-up (the BFF gets the same)."""
    secrets = keys.secrets
    return Account({secrets["sms_secret_id"]: secrets["sms_secret_key"]}, secrets["sms_sdk_app_id"],
                   secrets["sms_sign_name"], {secrets["sms_template_id"]: VERIFICATION_TEMPLATE})


def create_app(keys: SandboxKeys, *, clock: Callable[[], dt.datetime] | None = None, limits: Limits | None = None,
               timestamp_tolerance: int = 300) -> Flask:
    """The simulator for the sandbox keys; clock answers aware datetimes (default: now in China)."""
    from sandbox.sms import control

    app = Flask("sandbox.sms")
    app.json.ensure_ascii = False
    outbox, faults = Outbox(clock or (lambda: dt.datetime.now(TZ)), limits), Faults()
    app.extensions["sandbox_sms"] = Sandbox(account_from_keys(keys), outbox, faults, timestamp_tolerance)
    register_fault_routes(app, faults)
    app.register_blueprint(api)
    app.register_blueprint(control.bp)
    return app
