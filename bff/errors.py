"""The error envelope of API.md: every error answers `{"error": {code, message, details}}`."""
from __future__ import annotations

import logging

from flask import jsonify
from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from bff.error_catalogue import CATALOGUE, spec
from bff.his.port import FeatureOff, HisUnavailable, HisUnsupported

log = logging.getLogger("bff.errors")

_STATUS_CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED",
}


class AppError(Exception):
    """An error the user can act on: a catalogued code, which fixes the status, and a Chinese message.

    ``message`` overrides the catalogue's default when the moment allows a more precise one.
    """

    def __init__(self, code: str, message: str | None = None, details: dict | None = None, *,
                 headers: dict | None = None, transient: bool = False):
        super().__init__(code)
        known = spec(code)  # an uncatalogued code is a bug, found by the first test that meets it
        self.transient = transient  # true when the same request may well succeed soon
        self.code = code
        self.status = known.status
        self.message = message or known.message
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
    body = {"error": {"code": code, "message": message or CATALOGUE.get(code, CATALOGUE["INTERNAL_ERROR"]).message,
                      "details": details or {}}}
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class EnvelopeApi(Api):
    """flask-smorest Api answering every HTTP error in our envelope."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" answer: bff.openapi lists the statuses each route really gives.
    DEFAULT_ERROR_RESPONSE_NAME = None

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

    @app.errorhandler(FeatureOff)
    def _feature_off(error: FeatureOff):
        return error_response("FEATURE_UNAVAILABLE", 501, f"本院暂未开通线上{error.label}，请到医院窗口办理",
                              details={"feature": error.feature})

    @app.errorhandler(HisUnsupported)
    def _his_unsupported(error: HisUnsupported):  # a use case that forgot features.require: still no 500
        log.warning("HIS operation not offered: %s", error.operation)
        return error_response("FEATURE_UNAVAILABLE", 501)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response("INTERNAL_ERROR", 500)
