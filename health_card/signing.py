"""The platform's request signature (``commonIn.sign``).

Merge ``commonIn`` (without ``sign``) and ``req``; drop empty values (None, "", empty lists and
objects); render strings as they are, numbers and booleans as JSON (``1``, ``true``) and lists
and objects as compact JSON in their own order; sort by key; join ``k=v`` with ``&``; append
the app secret; the sign is Base64(SHA-256(UTF-8 bytes)).
"""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

SIGN_FIELD = "sign"


def render(value: Any) -> str | None:
    """A value as it enters the signed text; None when it is left out."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, Mapping | list | tuple):
        if not value:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def signed_params(common_in: Mapping[str, Any], req: Mapping[str, Any]) -> dict[str, Any]:
    """commonIn without its sign, merged with req (a req field wins a name clash)."""
    merged = {k: v for k, v in common_in.items() if k != SIGN_FIELD}
    merged.update(req)
    return merged


def sign_content(params: Mapping[str, Any]) -> str:
    """The ``k=v&...`` text, sorted by key, empty values dropped."""
    parts = []
    for key in sorted(params):
        text = render(params[key])
        if text is not None:
            parts.append(f"{key}={text}")
    return "&".join(parts)


def sign(params: Mapping[str, Any], app_secret: str) -> str:
    """Base64(SHA-256(content + secret)) of already merged params."""
    digest = hashlib.sha256((sign_content(params) + app_secret).encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_request(common_in: Mapping[str, Any], req: Mapping[str, Any], app_secret: str) -> str:
    """The sign of one request envelope."""
    return sign(signed_params(common_in, req), app_secret)
