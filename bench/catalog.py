"""Table 1, catalog: `GET /api/v1/schedules?department=` on the real BFF vs a bare Flask app.

Both run under gunicorn with deploy/gunicorn.conf.py (same workers, threads, worker class); the
BFF uses SQLite in a temp dir and the sandbox HIS at latency 0. wrk drives each in turn with 64
connections: a warm-up, then the measured run.
"""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass

from bench.common import (
    BenchError,
    Server,
    bff_env,
    cpu_seconds,
    host_busy_seconds,
    http_json,
    log,
    migrate,
    servers,
    start_gunicorn,
    start_sandbox,
    table,
    verdict,
)
from bench.loadgen import WrkResult, run_wrk

CONNECTIONS = 64
WARMUP_S = 2
DURATION_S = 10
TARGET_RATIO = 0.50
TARGET_P99_MS = 50.0


@dataclass
class Measured:
    """A wrk result plus where the CPU went during it."""

    wrk: WrkResult
    server_cpu_ms: float  # gunicorn workers' CPU per request
    other_cpu_pct: float  # host CPU taken by processes that are not part of this measurement, % of all cores


@dataclass
class CatalogResult:
    """Both runs and the settings they ran with."""

    bff_m: Measured
    bare_m: Measured
    department: str
    workers: str
    threads: str

    @property
    def bff(self) -> WrkResult:
        """The BFF's wrk result."""
        return self.bff_m.wrk

    @property
    def bare(self) -> WrkResult:
        """The bare app's wrk result."""
        return self.bare_m.wrk

    @property
    def ratio(self) -> float:
        """BFF requests/s as a share of the bare app's."""
        return self.bff.rps / self.bare.rps if self.bare.rps else 0.0


def login(base: str, code: str) -> str:
    """A patient bearer token from the sandbox WeChat login."""
    status, body = http_json("POST", f"{base}/api/v1/auth/wx-login", {"code": code})
    if status != 200:
        raise BenchError(f"wx-login answered {status}: {body}")
    return body["token"]


def child_department(base: str, token: str) -> str:
    """The first child department code the BFF lists."""
    status, body = http_json("GET", f"{base}/api/v1/departments", headers={"Authorization": f"Bearer {token}"})
    if status != 200:
        raise BenchError(f"departments answered {status}: {body}")
    return next(child["code"] for top in body["items"] for child in top["children"])


def _cpu(server: Server, sandbox: Server) -> dict[str, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"workers": sum(cpu_seconds(p) for p in server.children()), "sandbox": cpu_seconds(sandbox.pid),
            "wrk": children.ru_utime + children.ru_stime, "host": host_busy_seconds()}


def measure(wrk: str, url: str, server: Server, sandbox: Server, headers: dict | None = None) -> Measured:
    """A warm-up run, then the measured one with the CPU it cost."""
    run_wrk(wrk, url, WARMUP_S, CONNECTIONS, headers)
    before = _cpu(server, sandbox)
    result = run_wrk(wrk, url, DURATION_S, CONNECTIONS, headers)
    used = {k: v - before[k] for k, v in _cpu(server, sandbox).items()}
    other = used["host"] - used["workers"] - used["sandbox"] - used["wrk"]
    return Measured(result, used["workers"] * 1000 / max(1, result.requests),
                    max(0.0, other) * 100 / (DURATION_S * (os.cpu_count() or 1)))


def run(wrk: str, workdir: str) -> CatalogResult:
    """Start sandbox, BFF and bare app; measure both; stop everything."""
    workdir = os.path.join(workdir, "catalog")
    os.makedirs(workdir, exist_ok=True)
    with servers() as started:
        sandbox = start_sandbox(started, workdir)
        http_json("POST", f"{sandbox['his']}/_control/faults", {"latency_ms": 0})
        env = bff_env("sqlite:///" + os.path.join(workdir, "bff.sqlite3"), sandbox)
        migrate(env, workdir)
        bff_server, bff = start_gunicorn(started, "bff", "bff.wsgi:app", env, workdir, "/healthz")
        bare_server, bare = start_gunicorn(started, "bare", "bench.bare_app:app", env, workdir, "/healthz")
        token = login(bff, "bench")
        department = child_department(bff, token)
        url = f"{bff}/api/v1/schedules?department={department}"
        status, body = http_json("GET", url, headers={"Authorization": f"Bearer {token}"})
        if status != 200 or not body.get("items"):
            raise BenchError(f"schedules answered {status} with no items: {body}")
        log(f"catalog: BFF {url} ({len(body['items'])} schedules)")
        bff_result = measure(wrk, url, bff_server, sandbox["server"], {"Authorization": f"Bearer {token}"})
        log(f"catalog: BFF {bff_result.wrk.rps:.0f} req/s; now the bare app")
        bare_result = measure(wrk, f"{bare}/json", bare_server, sandbox["server"])
    return CatalogResult(bff_result, bare_result, department, env.get("GUNICORN_WORKERS", "2"),
                         env.get("GUNICORN_THREADS", "8"))


def render(result: CatalogResult) -> str:
    """The catalog table."""
    rows = [[name, m.wrk.rps, m.wrk.p50_ms, m.wrk.p99_ms, m.wrk.requests, m.wrk.errors, m.server_cpu_ms,
             m.other_cpu_pct]
            for name, m in (("BFF GET /api/v1/schedules", result.bff_m), ("bare Flask GET /json", result.bare_m))]
    notes = [
        f"department={result.department}; gunicorn gthread workers={result.workers} threads={result.threads}; "
        f"wrk -t2 -c{CONNECTIONS} {WARMUP_S}s warm-up + {DURATION_S}s; BFF on SQLite, sandbox HIS latency 0",
        f"ratio BFF/bare = {result.ratio:.1%}  (target >= {TARGET_RATIO:.0%}: {verdict(result.ratio >= TARGET_RATIO)})",
        f"BFF p99 = {result.bff.p99_ms:.1f} ms  (target < {TARGET_P99_MS:.0f} ms: "
        f"{verdict(result.bff.p99_ms < TARGET_P99_MS)})",
        "worker CPU ms/req = gunicorn workers' CPU / requests; other procs CPU % = host CPU used by processes "
        "outside this measurement (noise), % of all cores",
    ]
    headers = ["endpoint", "req/s", "p50 ms", "p99 ms", "requests", "errors", "worker CPU ms/req", "other procs CPU %"]
    return table("1. catalog", headers, rows, notes)


def targets(result: CatalogResult) -> list[list[object]]:
    """Summary rows: (target, measured, verdict)."""
    return [
        ["catalog: BFF/bare req/s ratio >= 50%", f"{result.ratio:.1%}", verdict(result.ratio >= TARGET_RATIO)],
        ["catalog: BFF p99 < 50 ms", f"{result.bff.p99_ms:.1f} ms", verdict(result.bff.p99_ms < TARGET_P99_MS)],
        ["catalog: no errors", f"{result.bff.errors + result.bare.errors}",
         verdict(result.bff.errors + result.bare.errors == 0)],
    ]
