"""Load generators: wrk for fixed-duration throughput, a small asyncio HTTP/1.1 client for scripted runs.

The asyncio client keeps one keep-alive connection per concurrent lane, sends each request as
given (so every user has its own token and body) and records status, error code and latency.
"""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from dataclasses import dataclass, field

from bench.common import HOST, BenchError

# -- wrk ---------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


@dataclass
class WrkResult:
    """What one wrk run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers + socket errors (connect, read, write, timeout)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text.strip()).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Parse `wrk --latency` output."""
    def grab(pattern: str, default: str | None = None) -> str:
        found = re.search(pattern, output)
        if found is None:
            if default is None:
                raise BenchError(f"unexpected wrk output:\n{output}")
            return default
        return found.group(1)

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(grab(r"Non-2xx or 3xx responses: (\d+)", "0"))
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return WrkResult(rps=float(grab(r"Requests/sec:\s+([\d.]+)")), p50_ms=_ms(grab(r"\n\s+50%\s+(\S+)")),
                     p99_ms=_ms(grab(r"\n\s+99%\s+(\S+)")), requests=int(grab(r"(\d+) requests in")),
                     errors=errors)


def run_wrk(wrk: str, url: str, seconds: int, connections: int, headers: dict | None = None,
            threads: int = 2) -> WrkResult:
    """One wrk run of a GET against a loopback URL."""
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing non-loopback URL {url}")
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run(argv + [url], capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk(done.stdout)


# -- asyncio HTTP/1.1 client -------------------------------------------------------------------


@dataclass
class Req:
    """One request to send."""

    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: object | None = None  # JSON-encoded when not None
    raw: bytes | None = None  # sent as it is instead (give its Content-Type in headers)


@dataclass
class Resp:
    """One answer (status 0 = transport failure), its JSON error code if any, latency and timestamps."""

    status: int
    code: str | None
    latency_ms: float
    started: float
    finished: float
    body: object | None = None


class _Conn:
    """One keep-alive connection to HOST:port."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def send(self, req: Req, timeout: float) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        body = req.raw if req.raw is not None else b"" if req.body is None else json.dumps(req.body).encode()
        head = [f"{req.method} {req.path} HTTP/1.1", f"Host: {HOST}:{self.port}", f"Content-Length: {len(body)}"]
        if req.body is not None and req.raw is None:
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in req.headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        return await asyncio.wait_for(self._read(), timeout)

    async def _read(self) -> tuple[int, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            payload = await self._chunks()
        else:
            payload = await self.reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, payload

    async def _chunks(self) -> bytes:
        parts = []
        for _ in range(100000):
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()
        raise BenchError("too many chunks")


def _error_code(payload: object) -> str | None:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return payload["error"].get("code")
    return None


async def _one(conn: _Conn, req: Req, timeout: float, keep_body: bool) -> Resp:
    start = time.perf_counter()
    status, raw = 0, b""
    for attempt in range(2):  # a keep-alive connection the server closed meanwhile: reconnect once
        try:
            status, raw = await conn.send(req, timeout)
            break
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
            await conn.close()
            if isinstance(error, TimeoutError) or attempt == 1:
                status = 0
                break
    end = time.perf_counter()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = None
    return Resp(status, _error_code(payload), (end - start) * 1000, start, end, payload if keep_body else None)


async def _run(port: int, requests: list[Req], concurrency: int, timeout: float, keep_body: bool) -> list[Resp]:
    results: list[Resp | None] = [None] * len(requests)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        queue.put_nowait(index)

    async def lane() -> None:
        conn = _Conn(port)
        try:
            while not queue.empty():
                index = queue.get_nowait()
                results[index] = await _one(conn, requests[index], timeout, keep_body)
        finally:
            await conn.close()

    await asyncio.gather(*(lane() for _ in range(min(concurrency, len(requests)))))
    return [r for r in results if r is not None]


def fire(port: int, requests: list[Req], concurrency: int, timeout: float = 30.0,
         keep_body: bool = False, deadline_s: float = 120.0) -> list[Resp]:
    """Send every request with `concurrency` lanes; answers in request order (bounded by deadline_s)."""
    async def bounded() -> list[Resp]:
        return await asyncio.wait_for(_run(port, requests, concurrency, timeout, keep_body), deadline_s)
    return asyncio.run(bounded())
