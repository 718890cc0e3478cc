"""How the platform checks ``commonIn.sign``, written apart from our client's code on purpose.

Spec: merge commonIn (without sign) and req, drop empty values, JSON-encode non-strings, sort by
key, join ``k=v`` with ``&``, append the app secret, Base64(SHA-256). A separate implementation
means a client bug in the signature cannot hide behind the same bug here.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json


def _text(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str | list | dict) and len(value) == 0)


def expected_sign(common_in: dict, req: dict, app_secret: str) -> str:
    """The sign the platform expects for this envelope."""
    fields = dict(common_in)
    fields.pop("sign", None)
    fields.update(req)
    content = "&".join(f"{key}={_text(fields[key])}" for key in sorted(fields) if not _is_empty(fields[key]))
    return base64.b64encode(hashlib.sha256((content + app_secret).encode("utf-8")).digest()).decode("ascii")


def sign_matches(common_in: dict, req: dict, app_secret: str) -> bool:
    """Constant-time comparison of the sign sent with the one expected."""
    sent = common_in.get("sign")
    if not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(sent.encode("ascii", "replace"), expected_sign(common_in, req, app_secret).encode())
