"""The error envelope of API.md: every error answers `{"error": {code, message, details}}`."""
from __future__ import annotations

import logging

from flask import jsonify
from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from bff.his.port import HisUnavailable

log = logging.getLogger("bff.errors")

# Stable codes and the Chinese message a patient sees when the caller gives none.
MESSAGES = {
    "BAD_REQUEST": "请求格式有误",
    "VALIDATION_ERROR": "填写的信息有误，请检查后重试",
    "UNAUTHORIZED": "请先登录",
    "TOKEN_EXPIRED": "登录已过期，请重新登录",
    "FORBIDDEN": "没有权限执行此操作",
    "NOT_FOUND": "请求的内容不存在",
    "METHOD_NOT_ALLOWED": "不支持该请求方式",
    "CONFLICT": "操作冲突，请刷新后重试",
    "PAYLOAD_TOO_LARGE": "提交的内容过大",
    "UNSUPPORTED_MEDIA_TYPE": "请求内容类型不受支持",
    "RATE_LIMITED": "操作过于频繁，请稍后再试",
    "INTERNAL_ERROR": "系统繁忙，请稍后再试",
    "HIS_UNAVAILABLE": "医院系统暂时无法连接，请稍后再试",
    "HIS_REJECTED": "医院系统拒绝了该操作",
    "WX_CODE_INVALID": "微信登录凭证无效，请重新进入小程序",
    "WX_UNAVAILABLE": "微信服务暂时无法连接，请稍后再试",
    "IDEMPOTENCY_KEY_REUSED": "该请求编号已用于其他内容",
    "IDEMPOTENCY_IN_PROGRESS": "相同的请求正在处理中，请稍候",
}

_STATUS_CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED",
}


class AppError(Exception):
    """An error the user can act on: stable code, Chinese message, matching status."""

    def __init__(self, code: str, status: int = 400, message: str | None = None, details: dict | None = None,
                 headers: dict | None = None, transient: bool = False):
        super().__init__(code)
        self.transient = transient  # true when the same request may well succeed soon
        self.code = code
        self.status = status
        self.message = message or MESSAGES.get(code, MESSAGES["INTERNAL_ERROR"])
        self.details = details or {}
        self.headers = headers or {}


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def error_response(code: str, status: int, message: str | None = None, details: dict | None = None,
                   headers: dict | None = None):
    """Build the envelope response."""
    body = {"error": {"code": code, "message": message or MESSAGES.get(code, MESSAGES["INTERNAL_ERROR"]),
                      "details": details or {}}}
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class EnvelopeApi(Api):
    """flask-smorest Api answering every HTTP error in our envelope."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        """Turn werkzeug/smorest/limiter HTTP errors into the envelope."""
        if getattr(error, "response", None) is not None and error.code != 429:
            return error.response
        status = error.code or 500
        code = _STATUS_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
        details = {}
        data = getattr(error, "data", None) or {}
        if "messages" in data:
            details = {"fields": _flatten_messages(data["messages"])}
            code, status = "VALIDATION_ERROR", 422
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        if status == 429 and getattr(error, "response", None) is not None:
            headers.update({k: v for k, v in error.response.headers.items()
                            if k.startswith(("Retry-After", "X-RateLimit"))})
        return error_response(code, status, details=details, headers=headers)


def _flatten_messages(messages: dict) -> dict:
    """webargs nests messages by location (json/query/headers); the client wants field → messages."""
    flat: dict = {}
    for location, fields_ in messages.items():
        if isinstance(fields_, dict):
            flat.update(fields_)
        else:
            flat[location] = fields_
    return flat


def register(app) -> None:
    """Install handlers for our own errors and for anything unexpected."""

    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        return error_response(error.code, error.status, error.message, error.details, error.headers)

    @app.errorhandler(HisUnavailable)
    def _his_unavailable(error: HisUnavailable):
        log.warning("his unavailable: %s", error)
        return error_response("HIS_UNAVAILABLE", 503, headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response("INTERNAL_ERROR", 500)
