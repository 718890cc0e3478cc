"""TC3-HMAC-SHA256, the Tencent Cloud API 3.0 request signature, as the service checks it.

The caller signs a canonical request — method, path, query, the headers it names (lower-case
name, trimmed lower-case value, one per line), their names, the SHA-256 of the body — under a key
derived from its SecretKey, the UTC date of ``X-TC-Timestamp`` and the service name:

    key = HMAC("tc3_request", HMAC(service, HMAC(date, "TC3" + SecretKey)))
    signature = hex(HMAC(key, "TC3-HMAC-SHA256\\n<timestamp>\\n<date>/<service>/tc3_request\\n<hex sha256(canonical)>"))

and sends ``Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request,
SignedHeaders=content-type;host, Signature=<hex>``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

ALGORITHM = "TC3-HMAC-SHA256"
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/\s,]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/\s,]+)"
    r"/tc3_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})$")


@dataclass(frozen=True)
class Authorization:
    """The parts of a TC3 Authorization header."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str | None) -> Authorization | None:
    """The header's parts, or None when it is not a well-formed TC3-HMAC-SHA256 authorization."""
    match = _AUTHORIZATION.match((value or "").strip())
    if match is None:
        return None
    return Authorization(match["secret_id"], match["date"], match["service"],
                         tuple(match["signed"].split(";")), match["signature"])


def utc_date(timestamp: int) -> str:
    """The UTC calendar date of a Unix timestamp, as the credential scope writes it."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")


def canonical_request(method: str, path: str, query: str, headers: Mapping[str, str],
                      signed_headers: tuple[str, ...], payload: bytes) -> str:
    """The canonical request; headers is looked up case-insensitively by the signed names."""
    lowered = {name.lower(): value for name, value in headers.items()}
    lines = "".join(f"{name}:{lowered.get(name, '').strip().lower()}\n" for name in signed_headers)
    return "\n".join([method.upper(), path, query, lines, ";".join(signed_headers),
                      hashlib.sha256(payload).hexdigest()])


def string_to_sign(timestamp: int, date: str, service: str, canonical: str) -> str:
    """What the derived key signs."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{digest}"


def signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    """Hex HMAC-SHA256 of to_sign under the key derived from secret_key, date and service."""
    key = ("TC3" + secret_key).encode("utf-8")
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_headers(secret_id: str, secret_key: str, service: str, host: str, timestamp: int, payload: bytes,
                 content_type: str = "application/json") -> dict[str, str]:
    """Content-Type, Host and Authorization of a signed POST (tests build requests by hand with it)."""
    headers = {"Content-Type": content_type, "Host": host}
    date = utc_date(timestamp)
    signed = ("content-type", "host")
    canonical = canonical_request("POST", "/", "", headers, signed, payload)
    value = signature(secret_key, date, service, string_to_sign(timestamp, date, service, canonical))
    headers["Authorization"] = (f"{ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, "
                                f"SignedHeaders={';'.join(signed)}, Signature={value}")
    return headers
