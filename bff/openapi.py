"""The OpenAPI document says who may call each route and every error it answers.

Nothing is written per route: an apispec plugin reads the route's decorators (`login_required`,
`staff_required`, `kiosk_required`, `idempotent`, a rate limit, `blp.arguments`) and its path,
and adds the security requirement and the error answers they imply. A route added tomorrow with the
same decorators is documented the same way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from apispec import BasePlugin

ERROR_REF = {"$ref": "#/components/schemas/Error"}

SECURITY_SCHEMES = {
    "patientToken": {"type": "http", "scheme": "bearer",
                     "description": "患者: the token from `POST /api/v1/auth/wx-login`."},
    "staffToken": {"type": "http", "scheme": "bearer",
                   "description": "医护人员: the token from `POST /api/v1/staff/login`; each route names its roles."},
    "kioskId": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Id",
                "description": "自助机: the device id hospital IT provisioned."},
    "kioskTimestamp": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Timestamp",
                       "description": "自助机: Unix seconds; outside the window the request is refused."},
    "kioskNonce": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Nonce",
                   "description": "自助机: a fresh random value per request; seen again in the window → replay."},
    "kioskSignature": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Signature",
                       "description": "自助机: HMAC-SHA256 with the device key over method, path, timestamp, "
                                      "nonce and body."},
    "gatewaySignature": {"type": "apiKey", "in": "header", "name": "Wechatpay-Signature",
                         "description": "支付网关: WeChat Pay v3 signs with `Wechatpay-Signature` (and "
                                        "`-Timestamp`, `-Nonce`, `-Serial`), v2 with `sign` in the XML; Alipay "
                                        "with `sign` in the form. Verified with the gateway's own key."},
}
KIOSK = {"kioskId": [], "kioskTimestamp": [], "kioskNonce": [], "kioskSignature": []}
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "description": "the same key with the same body answers the first result; with another body 409 "
                                  "IDEMPOTENCY_KEY_REUSED",
                   "schema": {"type": "string", "minLength": 1, "maxLength": 64}}

_MEANINGS = {
    400: "请求格式有误 (BAD_REQUEST): malformed JSON, or an unusable Idempotency-Key",
    401: "未登录或凭证无效 (UNAUTHORIZED, TOKEN_EXPIRED, STAFF_UNAUTHORIZED, KIOSK_UNAUTHORIZED …)",
    403: "没有权限 (FORBIDDEN) or not allowed yet (e.g. NOT_RELEASED)",
    404: "不存在, or another user's (…_NOT_FOUND); an id that cannot exist is 404 too",
    409: "与当前状态冲突 (IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_IN_PROGRESS, and the route's business codes)",
    402: "支付未成功 (PAYMENT_DECLINED, INSUFFICIENT_FUNDS, AUTH_CODE_INVALID): the kiosk says what to do next",
    410: "已过期 (e.g. QR_EXPIRED, VERIFICATION_EXPIRED)",
    413: "请求体过大或嵌套过深 (PAYLOAD_TOO_LARGE)",
    415: "请求内容类型不受支持 (UNSUPPORTED_MEDIA_TYPE)",
    422: "填写的信息有误 (VALIDATION_ERROR with details.fields, or the route's own code)",
    429: "操作过于频繁 (RATE_LIMITED, STAFF_LOCKED); see Retry-After",
    502: "支付网关拒绝了下单 (PAYMENT_REJECTED, details.reason)",
    503: "外部系统暂不可用 (HIS_UNAVAILABLE, HEALTH_CARD_UNAVAILABLE, PAYMENT_UNAVAILABLE …); see Retry-After",
}


@dataclass(frozen=True)
class Contract:
    """What one decorator adds to a route's document."""

    security: tuple[dict, ...] | None = None
    statuses: tuple[int, ...] = ()
    headers: tuple[dict, ...] = ()


# Recognised by the code of the wrapper each decorator makes (functools.wraps copies the name,
# not the code), so other modules' decorators need no change to be documented.
_DECORATORS = {
    "login_required.<locals>.wrapper": Contract(({"patientToken": []},), (401,)),
    "staff_required.<locals>.decorate.<locals>.wrapper": Contract(({"staffToken": []},), (401, 403)),
    "kiosk_required.<locals>.wrapper": Contract((KIOSK,), (401,)),
    "idempotent.<locals>.decorate.<locals>.wrapper": Contract(statuses=(400, 409), headers=(IDEMPOTENCY_KEY,)),
    "RouteLimit.__call__.<locals>.__inner": Contract(statuses=(429,)),
    "ArgumentsMixin.arguments.<locals>.decorator.<locals>.wrapper": Contract(statuses=(422,)),
}

# What the decorators cannot tell: business answers of particular routes (endpoint → statuses).
ROUTE_STATUSES: dict[str, tuple[int, ...]] = {
    "appointments.book": (403, 404, 409, 422),
    "appointments.cancel": (409,),
    "appointments.check_in": (409, 422),
    "appointments.queue": (409,),
    "patients.add_patient": (404, 409, 422),
    "patients.delete_patient": (409,),
    "payments.create_payment": (404, 409, 422, 502),
    "billing.list_bills": (404,),
    "billing.create_settlement": (404, 409, 422),
    "health_cards.apply": (404, 409, 422),
    "health_cards.qrcode": (409, 422),
    "kiosk.face_pay": (402, 404, 409, 422, 502),
    "kiosk.face_authinfo": (422,),
    "staff.scan": (404, 410, 422),
    "staff.login": (401,),
    "auth.wx_login": (401,),
}

_PATH_PARAM = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def _wrappers(view):
    while view is not None:
        code = getattr(view, "__code__", None)
        if code is not None:
            yield code.co_qualname
        view = getattr(view, "__wrapped__", None)


def route_contract(view, endpoint: str, has_path_params: bool, has_body: bool) -> tuple[list, set[int], list]:
    """The security requirement, error statuses and headers a route's decorators, path and body imply."""
    security: list = []
    statuses: set[int] = {503}
    headers: list = []
    for qualname in _wrappers(view):
        contract = _DECORATORS.get(qualname)
        if contract is not None:
            security.extend(contract.security or ())
            statuses.update(contract.statuses)
            headers.extend(contract.headers)
    if has_path_params:
        statuses.add(404)
    if has_body:
        statuses.update((400, 413, 415, 422))
    statuses.update(ROUTE_STATUSES.get(endpoint, ()))
    return security, statuses, headers


def error_response(status: int) -> dict:
    """The envelope answer for one status."""
    return {"description": _MEANINGS.get(status, "错误"), "content": {"application/json": {"schema": ERROR_REF}}}


class ContractPlugin(BasePlugin):
    """Adds `security` and the error answers to every operation as flask-smorest registers it."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def init_spec(self, spec):
        """Declare the security schemes once."""
        super().init_spec(spec)
        for name, scheme in SECURITY_SCHEMES.items():
            spec.components.security_scheme(name, scheme)

    def operation_helper(self, path=None, operations=None, **kwargs):
        """Complete each operation of a Flask rule."""
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions.get(rule.endpoint)
        for operation in operations.values():
            if "security" in operation:  # documented by hand (the gateways' callbacks)
                continue
            security, statuses, headers = route_contract(
                view, rule.endpoint, bool(_PATH_PARAM.search(rule.rule)), "requestBody" in operation)
            operation["security"] = security  # [] says: no credentials (wx-login, staff login)
            named = {p.get("name") for p in operation.get("parameters", [])}
            operation.setdefault("parameters", []).extend(h for h in headers if h["name"] not in named)
            if not operation["parameters"]:
                del operation["parameters"]
            responses = operation.setdefault("responses", {})
            responses.pop("default", None)
            for status in sorted(statuses):
                responses.setdefault(str(status), error_response(status))


def add_gateway_notifications(app, spec) -> None:
    """`/notify/*` are the gateways' callbacks (plain Flask, their own answer formats): document them."""
    answers = {"200": {"description": "taken (WeChat Pay v3 JSON, v2 XML, Alipay `success`); "
                                      "or refused as Alipay/v2 expect (`fail`, FAIL)"},
               "404": {"description": "no gateway of that kind is configured"},
               "500": {"description": "WeChat Pay v3: not taken, send again later"}}
    for channel, media in (("wechatpay", ("application/json", "text/xml")),
                           ("alipay", ("application/x-www-form-urlencoded",))):
        rule = next(app.url_map.iter_rules(f"payment_notify.{channel}"))
        spec.path(rule=rule, operations={"post": {
            "tags": ["payment_notify"], "summary": f"{channel} asynchronous notifications",
            "security": [{"gatewaySignature": []}],
            "requestBody": {"required": True, "content": {m: {"schema": {"type": "string"}} for m in media}},
            "responses": answers}})
