"""Flask's JSON through orjson (the catalog answers are JSON-heavy and the stdlib encoder is slow),
and a bound on how deeply a request body may nest."""
from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from itertools import accumulate

import orjson
from flask import request
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_NON_STR_KEYS

# No body the BFF takes nests deeper than a few levels; the stdlib parser webargs uses recurses per
# level and dies at about a thousand, so anything deeper than this is refused before anyone parses it.
MAX_JSON_DEPTH = 32

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # an odd number of backslashes, then u0000


def nesting_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets inside strings do not count)."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(1 if c in _OPENERS else -1 for c in brackets), default=0)


def too_deep(raw: bytes) -> bool:
    """True when the text nests deeper than MAX_JSON_DEPTH (cheap when it has few brackets)."""
    return raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and nesting_depth(raw) > MAX_JSON_DEPTH


def has_nul(raw: bytes) -> bool:
    """True when a JSON text holds a NUL character (written `\\u0000`; a raw one is malformed anyway)."""
    return b"u0000" in raw and _ESCAPED_NUL.search(raw) is not None


def refuse_unusable_input() -> None:
    """Before any parser: a JSON body nested too deeply is 413 PAYLOAD_TOO_LARGE (API.md); a NUL
    character in the body or the query is 422 (no text column can hold one: PostgreSQL refuses it)."""
    from bff.errors import AppError

    if request.is_json:
        raw = request.get_data(cache=True)
        if too_deep(raw):
            raise AppError("PAYLOAD_TOO_LARGE", "提交的内容层级过深")
        if has_nul(raw):
            raise AppError("VALIDATION_ERROR", "提交的内容含有无效字符")
    if b"%00" in request.query_string or b"\x00" in request.query_string:
        raise AppError("VALIDATION_ERROR", "查询条件含有无效字符")


def _default(value):
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class OrjsonProvider(DefaultJSONProvider):
    """Same output as Flask's provider for our data (UTF-8, ISO 8601 times), a lot faster."""

    def dumps(self, obj, **kwargs) -> str:
        """Serialize to a str."""
        return orjson.dumps(obj, default=_default, option=_OPTIONS).decode()

    def loads(self, s, **kwargs):
        """Parse JSON text or bytes; too deep a text is refused like a malformed one (ValueError)."""
        if too_deep(s.encode() if isinstance(s, str) else bytes(s)):
            raise ValueError("JSON nested too deeply")
        return orjson.loads(s)

    def response(self, *args, **kwargs):
        """A JSON response whose body is encoded once, straight to bytes."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(orjson.dumps(obj, default=_default, option=_OPTIONS),
                                        mimetype=self.mimetype)
