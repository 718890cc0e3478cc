"""Table 3, part 2: how fast the BFF handles WeChat Pay v3 payment notifications, BENCH_PAY_NOTIFY_N at 32 connections.

Set-up (not timed): schema `bench_pay_notify`, the simulators in a child process, and a WeChat Pay
simulator in this process (`sandbox.wechatpay.create_app`, the same keys) that the BFF uses for
prepay; BENCH_PAY_NOTIFY_N outpatient bills settled into as many orders, each with a pending
WeChat Pay v3 payment made through the BFF's API. Each trade is then marked paid in the
simulator without notifying, and the notification the simulator would send is rendered (signed,
AES-GCM encrypted) and fired at `POST /notify/wechatpay` by 32 keep-alive connections.
Baselines in the same run, same concurrency, same count: `GET /healthz`, and the same
notifications again (each freshly signed) once every one has been seen and the outbox has
settled every order (so the second round measures the handler alone). Afterwards every one
must have been acknowledged and the BFF's database must hold exactly one notification record
and one ledger capture per payment. The BFF runs its jobs in-process (the embedded default), so
the HIS settlements that the notifications queue run during the measurement, as they would.
"""
from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass

from werkzeug.serving import make_server

from bench.chaos_checks import Db
from bench.common import HOST, BenchError, http_json, log, percentile, servers
from bench.loadgen import Req, Resp, fire
from bench.pay_world import PG_DSN, create_patients, drop_schema, reset_schema, start_bff, start_sandbox
from sandbox.wechatpay import create_app as create_wechatpay
from sandbox.wechatpay import messages

SCHEMA = "bench_pay_notify"
CONNECTIONS = 32
BILLS_PER_PATIENT = 5
TARGET_P99_MS = 100.0
SETUP_CONCURRENCY = 16


def count() -> int:
    """How many notifications (BENCH_PAY_NOTIFY_N, at least 500)."""
    return max(500, int(os.environ.get("BENCH_PAY_NOTIFY_N", "600")))


@dataclass
class Load:
    """One batch at CONNECTIONS: throughput over its wall time, latency percentiles, answers not 2xx."""

    n: int
    rps: float
    p50_ms: float
    p99_ms: float
    not_ok: int
    app_p50_ms: float = math.nan  # inside the BFF (its access log's ms): the rest is waiting for a thread
    app_p99_ms: float = math.nan

    @classmethod
    def of(cls, answers: list[Resp], app_ms: list[float]) -> Load:
        """From the answers of one fire() and the BFF's own timings of the same requests."""
        wall = max(a.finished for a in answers) - min(a.started for a in answers)
        latencies = [a.latency_ms for a in answers]
        return cls(len(answers), len(answers) / wall if wall > 0 else 0.0, percentile(latencies, 50),
                   percentile(latencies, 99), sum(1 for a in answers if not 200 <= a.status < 300),
                   percentile(app_ms, 50), percentile(app_ms, 99))


@dataclass
class NotifyResult:
    """The three batches and the bookkeeping check."""

    n: int
    first: Load
    duplicates: Load
    healthz: Load
    recorded: dict
    drain_s: float  # after the first round: until the outbox had settled every order in the HIS


def _wechatpay_in_process(keys):
    app = create_wechatpay(keys)
    server = make_server(HOST, 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="wxpay-sim", daemon=True).start()
    return server, app.extensions["sandbox_wechatpay"], f"http://{HOST}:{server.server_port}"


def _pending_payments(ctl_his: str, port: int, n: int) -> list[dict]:
    """n settlement orders of one bill each, and a pending WeChat Pay payment for each (through the API)."""
    patients = create_patients(port, math.ceil(n / BILLS_PER_PATIENT), "bench-notify", offset=600)
    owners = [patients[i // BILLS_PER_PATIENT] for i in range(n)]
    bills = [http_json("POST", f"{ctl_his}/_control/bills", {"his_patient_id": p.his_patient_id,
                                                              "title": "检验费", "amount": 1000 + i})[1]["bill_id"]
             for i, p in enumerate(owners)]
    orders = fire(port, [Req("POST", "/api/v1/bills/settlements", {"Authorization": f"Bearer {p.token}"},
                             {"patient_id": p.patient_id, "bill_ids": [b]})
                         for p, b in zip(owners, bills, strict=True)], SETUP_CONCURRENCY, keep_body=True)
    payments = fire(port, [Req("POST", "/api/v1/payments", {"Authorization": f"Bearer {p.token}"},
                               {"order_type": "bills", "order_id": o.body["id"], "channel": "wechat"})
                           for p, o in zip(owners, orders, strict=True)], SETUP_CONCURRENCY, keep_body=True)
    bad = [a for a in payments if a.status != 201]
    if bad:
        raise BenchError(f"notify set-up: {len(bad)} payments not created, e.g. {bad[0].status} {bad[0].body}")
    return [a.body for a in payments]


def _notifications(box, out_trade_nos: list[str], tag: str) -> list[Req]:
    """The v3 notification of each trade (marked paid first, for the first round), rendered and signed now."""
    requests = []
    for i, out_trade_no in enumerate(out_trade_nos):
        trade = box.trades.pay(out_trade_no, True) if tag == "first" else box.trades.get(out_trade_no)
        message = messages.render(messages.payment_notice(trade), box)
        requests.append(Req("POST", "/notify/wechatpay", {"Content-Type": "application/json", **message.headers(),
                                                         "X-Request-Id": f"notify-{tag}-{i:06d}"}, raw=message.body))
    return requests


def _app_ms(log_path: str) -> dict[str, list[float]]:
    """The BFF's access-log ms of the bench's requests, by round (from their X-Request-Id)."""
    found: dict[str, list[float]] = {}
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if '"request_id":"notify-' in line and '"logger":"bff.access"' in line:
                record = json.loads(line)
                found.setdefault(record["request_id"].split("-")[1], []).append(float(record["ms"]))
    return found


def _drain(db: Db, seconds: float = 180.0) -> float:
    """Wait (bounded) until the outbox has no pending rows; seconds waited."""
    started = time.monotonic()
    while db.value("SELECT count(*) FROM outbox WHERE status = 'pending'") and time.monotonic() - started < seconds:
        time.sleep(0.5)
    return time.monotonic() - started


def _recorded(db: Db, out_trade_nos: list[str]) -> dict:
    """Per payment: notification records and ledger captures (each must be exactly one), and statuses."""
    per = db.rows("SELECT p.out_trade_no, p.status,"
                  " (SELECT count(*) FROM payment_notifications n WHERE n.payment_id = p.id AND n.kind = 'payment'),"
                  " (SELECT count(*) FROM ledger_entries l WHERE l.payment_id = p.id AND l.kind = 'capture')"
                  " FROM payments p WHERE p.out_trade_no = ANY(%s)", (out_trade_nos,))
    return {"payments": len(per), "paid": sum(1 for r in per if r[1] == "paid"),
            "one notification record": sum(1 for r in per if r[2] == 1),
            "one ledger capture": sum(1 for r in per if r[3] == 1)}


def run(workdir: str) -> NotifyResult:
    """Set up, fire the three batches, check; the schema is dropped at the end."""
    workdir = os.path.join(workdir, "notify")
    os.makedirs(workdir, exist_ok=True)
    n = count()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    reset_schema(SCHEMA)
    try:
        with servers() as started:
            sandbox = start_sandbox(started, workdir, 1)
            wx_server, box, wx_url = _wechatpay_in_process(sandbox.keys)
            try:
                server, base, _ = start_bff(started, "bff-notify", sandbox, SCHEMA, workdir, WXPAY_API_BASE=wx_url,
                                            STUCK_PAYMENT_SECONDS="3600")  # only the notifications may tell it
                port, db = int(base.rsplit(":", 1)[1]), Db(PG_DSN, SCHEMA)
                log(f"payments: notification latency, set-up of {n} pending WeChat Pay payments")
                out_trade_nos = [p["out_trade_no"] for p in _pending_payments(sandbox.urls["his"], port, n)]
                _drain(db)
                healthz = fire(port, [Req("GET", "/healthz", {"X-Request-Id": f"notify-healthz-{i:06d}"})
                                      for i in range(n)], CONNECTIONS)
                first = fire(port, _notifications(box, out_trade_nos, "first"), CONNECTIONS)
                drain_s = _drain(db)
                duplicates = fire(port, _notifications(box, out_trade_nos, "again"), CONNECTIONS)
                recorded = _recorded(db, out_trade_nos)
            finally:
                wx_server.shutdown()
                box.close()
            app_ms = _app_ms(server.log_path)
    finally:
        drop_schema(SCHEMA)
    result = NotifyResult(n, Load.of(first, app_ms.get("first", [])), Load.of(duplicates, app_ms.get("again", [])),
                          Load.of(healthz, app_ms.get("healthz", [])), recorded, drain_s)
    log(f"payments: notifications p99 {result.first.p99_ms:.0f} ms, {result.first.rps:.0f}/s")
    return result


def exactly_once(result: NotifyResult) -> bool:
    """Every notification acknowledged (both rounds) and each payment recorded once."""
    r = result.recorded
    return (result.first.not_ok == 0 and result.duplicates.not_ok == 0 and r["payments"] == result.n
            and r["paid"] == r["one notification record"] == r["one ledger capture"] == result.n)
