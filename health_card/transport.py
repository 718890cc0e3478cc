"""One signed call to the platform: the commonIn/commonOut envelope over HTTPS POST, with retries.

Every call has a timeout. A failure is retried (with a short backoff, under the same requestId)
only when that is safe: always when the request never left (connection refused, connect
timeout), and for idempotent operations also after a read timeout, an HTTP 5xx, an unreadable
reply or the platform's "system busy". Everything else is answered at once.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError

from health_card.errors import SYSTEM_BUSY, HealthCardError, HealthCardUnavailable, from_platform
from health_card.signing import sign_request

log = logging.getLogger(__name__)

AUTH_PATH = "/rest/auth/HealthCard/HealthOpenAuth/AuthObj/getAppToken"
ISV_PATH = "/rest/auth/HealthCard/HealthOpenPlatform/ISVOpenObj/"


class _Retryable(Exception):
    """A failure another attempt may cure; never_sent when the request surely did not arrive."""

    def __init__(self, error: HealthCardError, never_sent: bool = False):
        super().__init__(error.message)
        self.error = error
        self.never_sent = never_sent


def _never_sent(exc: requests.ConnectionError) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ConnectTimeoutError)  # urllib3's NewConnectionError (refused) is one too


class Transport:
    """Builds, signs and sends envelopes; turns every failure into our errors."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, hospital_id: str, channel_num: int,
                 timeout: float, clock: Callable[[], dt.datetime], retries: int = 1, retry_backoff: float = 0.1,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self.hospital_id = hospital_id
        self.channel_num = int(channel_num)
        self.timeout = timeout
        self.clock = clock
        self.retries = max(0, retries)
        self.retry_backoff = retry_backoff
        self._session = session or self._new_session()

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy or netrc from the environment for a signed API
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=32)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def envelope(self, req: Mapping[str, Any], app_token: str, request_id: str) -> dict:
        """The signed request body."""
        common_in = {"appToken": app_token, "requestId": request_id, "hospitalId": self.hospital_id,
                     "timestamp": str(int(self.clock().timestamp())), "channelNum": self.channel_num}
        common_in["sign"] = sign_request(common_in, req, self._secret)
        return {"commonIn": common_in, "req": dict(req)}

    def call(self, path: str, req: Mapping[str, Any], app_token: str, *, idempotent: bool,
             request_id: str) -> dict:
        """The ``rsp`` of a successful call, after the retries that are safe."""
        for attempt in range(self.retries + 1):
            try:
                return self._post_once(path, req, app_token, request_id)
            except _Retryable as failure:
                if attempt >= self.retries or not (idempotent or failure.never_sent):
                    raise failure.error from failure
                log.info("health card %s: %s, retrying (request %s)", path.rsplit("/", 1)[-1],
                         failure.error.message, request_id)
                time.sleep(self.retry_backoff * (2 ** attempt))
        raise AssertionError("unreachable")  # the loop either returns or raises

    def _post_once(self, path: str, req: Mapping[str, Any], app_token: str, request_id: str) -> dict:
        body = json.dumps(self.envelope(req, app_token, request_id), ensure_ascii=False).encode("utf-8")
        started = time.perf_counter()
        try:
            resp = self._session.post(self.base_url + path, data=body, timeout=self.timeout,
                                      headers={"Content-Type": "application/json;charset=utf-8"})
        except requests.ConnectionError as exc:
            raise _Retryable(HealthCardUnavailable(f"health card platform unreachable: {type(exc).__name__}"),
                             never_sent=_never_sent(exc)) from exc
        except requests.Timeout as exc:
            raise _Retryable(HealthCardUnavailable("health card platform timed out")) from exc
        except requests.RequestException as exc:
            raise _Retryable(HealthCardUnavailable(f"health card call failed: {type(exc).__name__}")) from exc
        log.debug("health card %s: HTTP %s in %.1f ms", path, resp.status_code, (time.perf_counter() - started) * 1e3)
        return self._read(resp, request_id)

    @staticmethod
    def _read(resp: requests.Response, request_id: str) -> dict:
        try:
            data = resp.json()
        except ValueError:
            data = None
        out = data.get("commonOut") if isinstance(data, dict) else None
        if not isinstance(out, dict):
            error = HealthCardUnavailable(f"health card platform answered HTTP {resp.status_code} without commonOut")
            if resp.status_code >= 500 or resp.ok:
                raise _Retryable(error)
            raise error
        if str(out.get("resultCode")).strip() != "0":
            error = from_platform(out.get("resultCode"), str(out.get("errMsg") or ""))
            if error.platform_code == SYSTEM_BUSY or resp.status_code >= 500:
                raise _Retryable(error)
            raise error
        if out.get("requestId") not in (None, "", request_id):
            raise _Retryable(HealthCardUnavailable("health card platform answered another request"))
        rsp = data.get("rsp")
        if rsp is None:
            return {}
        if not isinstance(rsp, dict):
            raise _Retryable(HealthCardUnavailable("health card platform answered a malformed rsp"))
        return rsp
