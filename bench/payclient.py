"""The payments bench's clients: the mini-program and a kiosk calling the BFF, the payer steering a simulator.

`Api.call` retries what a real client retries and nothing else: no answer at all (the same
Idempotency-Key again: the first attempt may have taken effect), 503 and 429 after their
`Retry-After`, and the 409 codes the BFF marks as transient. Every answer is tallied by route,
status and code; answers no client should ever get (5xx other than a 503 with Retry-After) are
kept with their X-Request-Id, to be found in the BFF's log.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from bench.common import HOST, BenchError
from bff.kiosk.auth import signed_headers

TRANSIENT_409 = frozenset({"PAYMENT_IN_PROGRESS", "IDEMPOTENCY_IN_PROGRESS", "BOOKING_IN_PROGRESS", "CONFIRMING"})
MAX_ATTEMPTS = 8
MAX_WAIT_S = 5.0
TRANSPORT_PAUSE_S = 0.5
TRANSIENT_PAUSE_S = 1.0
TIMEOUT_S = 30.0
IDLE_REUSE_S = 4.0  # a keep-alive connection idle longer is not reused: a browser-like client's habit
_IDS = re.compile(r"/(?:[0-9a-f]{32}|\d+)(?=/|$)")


def route_of(path: str) -> str:
    """A path with its ids replaced, for tallies: /api/v1/appointments/{id}/cancel."""
    return _IDS.sub("/{id}", path.split("?", 1)[0])


def retry_after(status: int, code: str | None, headers) -> float | None:
    """Seconds a real client waits before sending the same request again; None: it does not retry."""
    if status == 0:
        return TRANSPORT_PAUSE_S
    if status in (429, 503) and headers.get("Retry-After"):
        try:
            return min(MAX_WAIT_S, max(0.2, float(headers["Retry-After"])))
        except ValueError:
            return MAX_WAIT_S
    if status == 409 and code in TRANSIENT_409:
        return TRANSIENT_PAUSE_S
    return None


def unexpected(status: int, headers) -> bool:
    """An answer no client should get: a 5xx that is not a 503 telling when to come back."""
    return status >= 500 and not (status == 503 and headers.get("Retry-After"))


@dataclass
class Answer:
    """The final answer to one call, after retries."""

    status: int
    body: object
    code: str | None
    attempts: int


@dataclass
class Tally:
    """Every answer the clients got, thread-safe."""

    answers: Counter = field(default_factory=Counter)  # (method, route, status, code)
    retries: Counter = field(default_factory=Counter)  # why a call was sent again
    anomalies: list = field(default_factory=list)  # 5xx: (time, method, route, status, code, request id)
    no_answer: list = field(default_factory=list)  # (time, method, route, error, request id)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, status: int, code: str | None, headers, request_id: str) -> None:
        """Count one answer (and keep it when it is one no client should get)."""
        route = route_of(path)
        with self._lock:
            self.answers[(method, route, status, code)] += 1
            if status == 0:
                self.no_answer.append((time.strftime("%H:%M:%S"), method, route, code, request_id))
            elif unexpected(status, headers):
                self.anomalies.append((time.strftime("%H:%M:%S"), method, route, status, code, request_id))

    def retried(self, why: str) -> None:
        """Count one retry."""
        with self._lock:
            self.retries[why] += 1

    def count(self, predicate) -> int:
        """Answers whose (method, route, status, code) satisfy predicate."""
        with self._lock:
            return sum(n for key, n in self.answers.items() if predicate(*key))


def _code(body: object) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


class Api:
    """The BFF as the mini-program and kiosks call it; one keep-alive session per thread."""

    def __init__(self, base: str, tally: Tally, tag: str = "bench"):
        if not base.startswith(f"http://{HOST}:"):
            raise BenchError(f"refusing non-loopback URL {base}")
        self.base, self.tally, self.tag = base, tally, tag
        self._local = threading.local()
        self._seq = itertools.count()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is not None and time.monotonic() - self._local.used > IDLE_REUSE_S:
            session.close()  # the server closes idle keep-alive connections (gunicorn keepalive 5 s)
            session = None
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # loopback only, never through a proxy
        self._local.used = time.monotonic()
        return session

    def _send(self, method: str, path: str, headers: dict, data: bytes | None) -> tuple[int, object, dict]:
        try:
            response = self._session().request(method, self.base + path, headers=headers, data=data,
                                               timeout=TIMEOUT_S)
        except requests.RequestException as error:
            self._local.session = None  # a broken keep-alive connection: start afresh
            cause = error.__context__ or error
            return 0, {"error": {"code": f"{type(error).__name__}: {type(cause).__name__}"}}, {}
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        return response.status_code, body, response.headers

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None,
             key: str | None = None, kiosk: tuple[str, str] | None = None, retries: bool = True) -> Answer:
        """One API call with a real client's retries (none when retries=False); kiosk=(id, key) signs it."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        status, answer, code = 0, None, None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            request_id = f"{self.tag}-{next(self._seq)}"
            headers = self._headers(method, path, token, key, kiosk, data, request_id)
            status, answer, response_headers = self._send(method, path, headers, data)
            code = _code(answer)
            self.tally.add(method, path, status, code, response_headers, request_id)
            wait = retry_after(status, code, response_headers)
            if wait is None or not retries or attempt == MAX_ATTEMPTS:
                return Answer(status, answer, code, attempt)
            self.tally.retried(f"{status} {code or ''}".strip() if status else "no answer")
            time.sleep(wait)  # a kiosk's retry is signed afresh with a new nonce
        return Answer(status, answer, code, MAX_ATTEMPTS)

    @staticmethod
    def _headers(method: str, path: str, token: str | None, key: str | None, kiosk: tuple[str, str] | None,
                 data: bytes | None, request_id: str) -> dict:
        headers = {"X-Request-Id": request_id}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        if kiosk:
            headers.update(signed_headers(kiosk[0], kiosk[1], method, path, data or b""))
        return headers


class Control:
    """The simulators' /_control/ APIs (never faulted): the payer, the gateway's notifier, the HIS desk."""

    def __init__(self, urls: dict[str, str]):
        self.urls = urls
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
        return session

    def request(self, system: str, path: str, body: dict | None = None, method: str = "POST") -> tuple[int, object]:
        """One control call: (status, JSON body); BenchError when the simulator cannot be reached."""
        url = f"{self.urls[system]}/{path.lstrip('/')}"
        for attempt in range(3):
            try:
                response = self._session().request(method, url, timeout=15,
                                                   **({"json": body or {}} if method == "POST" else {}))
                break
            except requests.RequestException as error:
                self._local.session = None
                if attempt == 2:
                    raise BenchError(f"{system} {path}: {error}") from error
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError:
            return response.status_code, None

    def __call__(self, system: str, path: str, body: dict | None = None, method: str = "POST") -> object:
        """One control call that must succeed; BenchError otherwise."""
        status, answer = self.request(system, path, body, method)
        if status not in (200, 201):
            raise BenchError(f"{system} {path} answered {status}: {str(answer)[:200]}")
        return answer

    def faults(self, system: str, **settings) -> None:
        """Set a simulator's fault knobs."""
        self(system, "_control/faults", settings)
