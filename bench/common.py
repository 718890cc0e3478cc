"""Helpers shared by the bench tables: free ports, server processes, percentiles, tables, wrk.

Every wait here is bounded in time; every process started here is stopped by its own id.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable
HOST = "127.0.0.1"


class BenchError(RuntimeError):
    """The bench itself could not run (a server did not start, a tool is missing)."""


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the tables."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- HTTP (control calls only; load goes through bench.loadgen) -------------------------------


def http_json(method: str, url: str, body: dict | None = None, headers: dict | None = None,
              timeout: float = 10.0) -> tuple[int, object]:
    """One JSON request to a loopback URL: (status, decoded body or None)."""
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing non-loopback URL {url}")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={  # noqa: S310 -- loopback only
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 -- loopback only
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def wait_http(url: str, seconds: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Poll url until it answers below 500; BenchError on timeout or when proc dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 -- our own loopback URLs
                if response.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {seconds:.0f}s")


# -- processes ---------------------------------------------------------------------------------


class Server:
    """A child process in its own session, its output in a log file, stopped by its own id."""

    def __init__(self, name: str, argv: Sequence[str], env: dict, log_path: str):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        """The process id (the gunicorn master for gunicorn servers)."""
        return self.proc.pid

    def children(self) -> list[int]:
        """Direct child process ids (gunicorn workers)."""
        path = f"/proc/{self.pid}/task/{self.pid}/children"
        with contextlib.suppress(OSError):
            with open(path) as fh:
                return [int(p) for p in fh.read().split()]
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == self.pid]

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, wait up to grace seconds, then SIGKILL the process group it leads."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # stray workers of a dead master, if any
        self._log.close()

    def tail(self, lines: int = 20) -> str:
        """The last lines of the server's log, for error messages."""
        with contextlib.suppress(OSError), open(self.log_path, "rb") as fh:
            return b"\n".join(fh.read().splitlines()[-lines:]).decode(errors="replace")
        return ""


def _ppid(pid: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    return None


def rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (None when it is gone)."""
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def host_busy_seconds() -> float:
    """CPU seconds the whole host has spent busy (all cores, /proc/stat)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def pids_named(name: str) -> list[int]:
    """Processes whose command name is `name` (e.g. every postgres backend)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == name:
                        found.append(int(entry))
    return found


@contextlib.contextmanager
def servers() -> Iterator[list[Server]]:
    """A list to append Servers to; all of them are stopped on exit, error or not."""
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in reversed(started):
            try:
                server.stop()
            except Exception as error:  # keep stopping the others
                log(f"stopping {server.name} failed: {error}")


def start_sandbox(started: list[Server], workdir: str) -> dict:
    """`python -m sandbox` (HIS + WeChat) on free ports; its addresses."""
    ports = {"his": free_port(), "wechat": free_port()}
    env = {**os.environ, "SANDBOX_HIS_PORT": str(ports["his"]), "SANDBOX_WECHAT_PORT": str(ports["wechat"])}
    server = Server("sandbox", [PYTHON, "-m", "sandbox", "--data-dir", os.path.join(workdir, "sandbox")],
                    env, os.path.join(workdir, "sandbox.log"))
    started.append(server)
    his = f"http://{HOST}:{ports['his']}"
    wait_http(f"{his}/his/ws?wsdl", proc=server.proc)
    wait_http(f"http://{HOST}:{ports['wechat']}/sns/jscode2session", proc=server.proc)
    return {"his": his, "wechat": f"http://{HOST}:{ports['wechat']}/", "server": server}


def bff_env(database_url: str, sandbox: dict, **extra: str) -> dict:
    """Environment for the BFF (and `flask db upgrade`) against the given sandbox."""
    env = {**os.environ, "DATABASE_URL": database_url, "HIS_WSDL_URL": f"{sandbox['his']}/his/ws?wsdl",
           "WX_API_BASE": sandbox["wechat"], "FLASK_APP": "bff.wsgi:app"}
    env.update(extra)
    return env


def migrate(env: dict, workdir: str) -> None:
    """`flask db upgrade` for the database in env (jobs off: a one-shot command)."""
    with open(os.path.join(workdir, "migrate.log"), "ab") as out:
        result = subprocess.run([PYTHON, "-m", "flask", "db", "upgrade"], cwd=ROOT,
                                env={**env, "JOBS_IN_PROCESS": "0"}, stdout=out, stderr=subprocess.STDOUT,
                                timeout=120, check=False)
    if result.returncode != 0:
        raise BenchError(f"flask db upgrade failed (see {workdir}/migrate.log)")


def start_gunicorn(started: list[Server], name: str, app: str, env: dict, workdir: str,
                   health_path: str, port: int | None = None) -> tuple[Server, str]:
    """gunicorn with deploy/gunicorn.conf.py on a free port (or the one given); (server, base URL)."""
    port = port or free_port()
    env = {**env, "BFF_BIND": f"{HOST}:{port}"}
    # --no-control-socket: otherwise every gunicorn on the host shares ~/.gunicorn/gunicorn.ctl (other servers' too)
    server = Server(name, [PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--no-control-socket", app], env,
                    os.path.join(workdir, f"{name}.log"))
    started.append(server)
    base = f"http://{HOST}:{port}"
    try:
        wait_http(base + health_path, seconds=60, proc=server.proc)
    except BenchError as error:
        raise BenchError(f"{error}\n{server.tail()}") from error
    return server, base


# -- statistics and tables ---------------------------------------------------------------------


def timed_ms(fn, n: int, warm_up: bool = True) -> list[float]:
    """Milliseconds each of n calls of fn took (after one untimed call, unless warm_up is False)."""
    if warm_up:
        fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def fmt(value: object, digits: int = 1) -> str:
    """A cell: floats rounded, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:,.{digits}f}"
    return str(value)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], notes: Sequence[str] = (),
          left: bool = False) -> str:
    """A plain-text table with a title and optional notes below it (every column left-aligned when left)."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(headers)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [title, line, "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |", line]
    for row in cells:
        padded = [c.ljust(w) if i == 0 or left else c.rjust(w)
                  for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        out.append("| " + " | ".join(padded) + " |")
    out.append(line)
    out += [f"  {note}" for note in notes]
    return "\n".join(out)


# -- wrk ---------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Path of wrk, installing Debian's package when missing (needs root); BenchError otherwise."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300, check=False)
        found = shutil.which("wrk")
        if not found:
            subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=300, check=False)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=300, check=False)
            found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk is required: sudo apt-get install -y wrk")
    return found
