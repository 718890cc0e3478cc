"""The world the payments bench runs in: its own PostgreSQL schema, the simulators, the BFF under gunicorn, patients.

Set-up only, no measuring: a schema made fresh (and dropped after), the sandbox keys, every
simulator in a child process (`bench.pay_sandbox`), the BFF with `PAYMENT_MODE=online` and its
background jobs in-process, a provisioned kiosk, and logged-in users each with one patient.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass

import psycopg

from bench.common import (
    HOST,
    PYTHON,
    ROOT,
    BenchError,
    Server,
    free_port,
    migrate,
    start_gunicorn,
    wait_http,
)
from bench.loadgen import Req, fire
from bench.release_rush import resident_id
from deploy.sandbox_env import bff_settings
from sandbox import keys as sandbox_keys
from sandbox.wechatpay import tls

PG_DSN = f"postgresql://postgres@{HOST}:5432/test"
SETUP_CONCURRENCY = 16
BFF_TIMEOUT_S = 3  # HIS and gateway call timeouts: "timeouts" fault windows are just above it

# The BFF's settings for the bench (beyond bff_settings): quick background jobs, so a lost
# notification or a refund that never reports back is chased within seconds, not minutes.
BFF_SETTINGS = {
    "PAYMENT_MODE": "online", "JOBS_IN_PROCESS": "1", "JOBS_INTERVAL_SECONDS": "2",
    "STUCK_PAYMENT_SECONDS": "8", "REFUND_CHECK_SECONDS": "5", "OUTBOX_LEASE_SECONDS": "30",
    "HOLD_MINUTES": "3", "BILL_PAY_MINUTES": "3", "BOOKING_RATE_LIMIT": "1000/minute",
    "RATELIMIT_STORAGE_URI": "memory://", "HIS_TIMEOUT_SECONDS": str(BFF_TIMEOUT_S),
    "PAY_TIMEOUT_SECONDS": str(BFF_TIMEOUT_S), "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "8",
    "PENDING_RECOVERY_SECONDS": "45", "LOG_LEVEL": "INFO",
}


def database_url(schema: str) -> str:
    """SQLAlchemy URL of the bench schema."""
    return f"postgresql+psycopg://postgres@{HOST}:5432/test?options=-csearch_path%3D{schema}"


def reset_schema(schema: str) -> None:
    """A fresh, empty schema."""
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")


def drop_schema(schema: str) -> None:
    """Remove the schema and everything in it."""
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@dataclass
class Sandbox:
    """The simulators' child process and what the BFF needs to talk to them."""

    server: Server
    urls: dict[str, str]
    keys: sandbox_keys.SandboxKeys
    tls_files: tls.TlsFiles


def start_sandbox(started: list[Server], workdir: str, seed: int) -> Sandbox:
    """Keys first (so this process and the child share them), then every simulator on free ports."""
    keys = sandbox_keys.ensure(os.path.join(workdir, "keys"))
    tls_files = tls.ensure_tls(keys)
    urls_file = os.path.join(workdir, "sandbox-urls.json")
    server = Server("pay-sandbox", [PYTHON, "-m", "bench.pay_sandbox", "--data-dir", os.path.join(workdir, "sandbox"),
                                    "--keys-dir", keys.directory, "--urls-file", urls_file, "--seed", str(seed)],
                    dict(os.environ), os.path.join(workdir, "sandbox.log"))
    started.append(server)
    deadline = time.monotonic() + 60
    while not os.path.exists(urls_file):
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"the simulators did not start:\n{server.tail()}")
        time.sleep(0.2)
    with open(urls_file, encoding="utf-8") as fh:
        urls = json.load(fh)
    wait_http(f"{urls['his']}/his/ws?wsdl", proc=server.proc)
    return Sandbox(server, urls, keys, tls_files)


def bff_env(box: Sandbox, schema: str, port: int, workdir: str, **extra: str) -> dict:
    """The BFF's environment: the sandbox, the schema, the bench settings, notifications to its own port."""
    return {**os.environ, **bff_settings(box.urls, box.keys, box.tls_files, payment_mode="online"),
            **BFF_SETTINGS, "DATABASE_URL": database_url(schema), "FLASK_APP": "bff.wsgi:app",
            "PAYMENT_NOTIFY_BASE_URL": f"http://{HOST}:{port}",
            "RECONCILE_DIR": os.path.join(workdir, "reconciliation"), **extra}


def start_bff(started: list[Server], name: str, box: Sandbox, schema: str, workdir: str,
              **extra: str) -> tuple[Server, str, dict]:
    """Migrate the schema and start the BFF under gunicorn: (server, base URL, its environment)."""
    port = free_port()
    env = bff_env(box, schema, port, workdir, **extra)
    migrate(env, workdir)
    server, base = start_gunicorn(started, name, "bff.wsgi:app", env, workdir, "/healthz", port=port)
    return server, base, env


def flask(env: dict, *args: str) -> str:
    """A one-shot `flask …` command against the BFF's database; its output."""
    done = subprocess.run([PYTHON, "-m", "flask", *args], cwd=ROOT, env={**env, "JOBS_IN_PROCESS": "0"},
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise BenchError(f"flask {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def provision_kiosk(env: dict, kiosk_id: str) -> tuple[str, str]:
    """`flask kiosk add`, as hospital IT does: (kiosk id, its key)."""
    out = flask(env, "kiosk", "add", "--id", kiosk_id, "--name", "bench kiosk")
    return kiosk_id, out.strip().rsplit(": ", 1)[1]


@dataclass
class Patient:
    """A logged-in user and their one patient."""

    token: str
    patient_id: int
    his_patient_id: str
    payer_id: str  # an Alipay user id for them


def _expect(answers: list, status: int, what: str) -> None:
    bad = [a for a in answers if a.status != status]
    if bad:
        raise BenchError(f"{what}: {len(bad)} answers not {status}, e.g. {bad[0].status} {bad[0].body}")


def create_patients(port: int, count: int, tag: str, offset: int = 0) -> list[Patient]:
    """count wx-logins, each adding one patient with its own valid resident ID."""
    logins = fire(port, [Req("POST", "/api/v1/auth/wx-login", body={"code": f"{tag}-{i}"}) for i in range(count)],
                  SETUP_CONCURRENCY, keep_body=True)
    _expect(logins, 200, "wx-login")
    tokens = [a.body["token"] for a in logins]
    adds = fire(port, [Req("POST", "/api/v1/patients", {"Authorization": f"Bearer {t}"}, {
        "name": "支付压测", "id_type": "01", "id_number": resident_id(offset + i), "phone": f"139{offset + i:08d}",
        "relation": "self"}) for i, t in enumerate(tokens)], SETUP_CONCURRENCY, keep_body=True)
    _expect(adds, 201, "add patient")
    return [Patient(t, a.body["id"], a.body["his_patient_id"], f"2088{offset + i:012d}")
            for i, (t, a) in enumerate(zip(tokens, adds, strict=True))]
