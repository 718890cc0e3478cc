"""Table 2, release rush: 1000 patients race for 50 places the moment a schedule is released.

Set-up (not timed): a fresh PostgreSQL schema, `flask db upgrade`, the sandbox HIS and WeChat API,
the BFF under gunicorn (2 workers, gthread); 1000 users log in and each adds one patient with a
valid resident ID. Per gunicorn threads setting: a new schedule (tomorrow, capacity 50 over 10
slots, a different department each time so no patient is a duplicate) is released a few seconds
later, HIS latency is 20 ms, and at the release moment every user POSTs one booking with 200
client connections. Then the BFF database and the HIS are checked for double booking, worker RSS
is read, and the same 1000 users GET /api/v1/patients as a trivial-request baseline.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import psycopg

from bench.common import (
    HOST,
    BenchError,
    Server,
    bff_env,
    cpu_seconds,
    host_busy_seconds,
    http_json,
    log,
    migrate,
    percentile,
    pids_named,
    rss_mb,
    servers,
    start_gunicorn,
    start_sandbox,
    table,
    verdict,
)
from bench.loadgen import Req, Resp, fire

PG_DSN = f"postgresql://postgres@{HOST}:5432/test"
SCHEMA = "bench_rush"
DATABASE_URL = f"postgresql+psycopg://postgres@{HOST}:5432/test?options=-csearch_path%3D{SCHEMA}"
TZ = ZoneInfo("Asia/Shanghai")
USERS = 1000
CAPACITY = 50
SLOT_COUNT = 10
CONCURRENCY = int(os.environ.get("BENCH_RUSH_CONCURRENCY", "200"))
SETUP_CONCURRENCY = 32
HIS_LATENCY_MS = 20
RELEASE_LEAD_S = 3.0
AFTER_RELEASE_S = 0.05  # fire just after release_at, so every attempt is judged on places alone
DEFAULT_THREADS = (8, 4, 32)  # the first is deploy/gunicorn.conf.py's default and is judged
# One more run of the judged setting with fewer clients in flight, for context: with 200 connections
# the first wave alone (50 winners, each two HIS calls, and 150 refusals) is more work than two cores
# do in 500 ms, so p99 there is queueing; 64 is the catalog table's connection count.
CONTEXT_CONNECTIONS = int(os.environ.get("BENCH_RUSH_CONTEXT_CONNECTIONS", "64"))
CPU_PARTS = ("BFF workers", "postgres", "sandbox HIS", "load generator", "total", "other processes on host")
TARGET_RPS = 300.0
TARGET_P99_MS = 500.0
TARGET_RSS_MB = 150.0
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass
class User:
    """A logged-in bench user and their one patient."""

    token: str
    patient_id: int = 0


@dataclass
class Load:
    """Throughput and latency of one batch of requests."""

    rps: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, answers: list[Resp]) -> Load:
        """Attempts/s over the batch's wall time, latency percentiles."""
        wall = max(a.finished for a in answers) - min(a.started for a in answers)
        latencies = [a.latency_ms for a in answers]
        return cls(len(answers) / wall if wall > 0 else 0.0, percentile(latencies, 50), percentile(latencies, 99))


@dataclass
class RushRun:
    """Everything one threads setting measured."""

    threads: int
    connections: int
    counts: dict
    rush: Load
    baseline: Load
    checks: dict
    rss_mb: list = field(default_factory=list)
    other_codes: dict = field(default_factory=dict)
    cpu_ms: dict = field(default_factory=dict)  # CPU ms per booking attempt, by component


# -- set-up ------------------------------------------------------------------------------------


def reset_schema() -> None:
    """A fresh, empty bench schema."""
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")


def drop_schema() -> None:
    """Remove the bench schema and everything in it."""
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def resident_id(index: int) -> str:
    """A valid 18-digit resident ID (GB 11643): 110101 + a birth date varying with index + seq + check."""
    birthday = dt.date(1950, 1, 1) + dt.timedelta(days=index * 17)
    first17 = f"110101{birthday:%Y%m%d}{index % 1000:03d}"
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _auth(user: User) -> dict:
    return {"Authorization": f"Bearer {user.token}"}


def _expect(answers: list[Resp], status: int, what: str) -> None:
    bad = [a for a in answers if a.status != status]
    if bad:
        raise BenchError(f"{what}: {len(bad)} answers not {status}, e.g. {bad[0].status} {bad[0].body}")


def create_users(port: int) -> list[User]:
    """USERS distinct logins, each adding one patient."""
    logins = fire(port, [Req("POST", "/api/v1/auth/wx-login", body={"code": f"bench-rush-{i}"}) for i in range(USERS)],
                  SETUP_CONCURRENCY, keep_body=True)
    _expect(logins, 200, "wx-login")
    users = [User(a.body["token"]) for a in logins]
    adds = fire(port, [Req("POST", "/api/v1/patients", _auth(u), {
        "name": "测试患者", "id_type": "01", "id_number": resident_id(i), "phone": f"138{i:08d}",
        "relation": "self"}) for i, u in enumerate(users)], SETUP_CONCURRENCY, keep_body=True)
    _expect(adds, 201, "add patient")
    for user, answer in zip(users, adds, strict=True):
        user.patient_id = answer.body["id"]
    return users


def doctors_by_department(base: str, user: User, count: int) -> list[tuple[str, str]]:
    """(department code, doctor code) of the first `count` child departments that have doctors."""
    _, body = http_json("GET", f"{base}/api/v1/departments", headers=_auth(user))
    picked = []
    for code in (child["code"] for top in body["items"] for child in top["children"]):
        _, doctors = http_json("GET", f"{base}/api/v1/doctors?department={code}", headers=_auth(user))
        if doctors and doctors.get("items"):
            picked.append((code, doctors["items"][0]["code"]))
        if len(picked) == count:
            return picked
    raise BenchError(f"only {len(picked)} departments with doctors, need {count}")


def create_schedule(his: str, department: str, doctor: str) -> tuple[str, list[str], float]:
    """A tomorrow session released RELEASE_LEAD_S from now: (schedule id, slot ids, release epoch)."""
    release = dt.datetime.now(TZ).replace(microsecond=0) + dt.timedelta(seconds=RELEASE_LEAD_S + 1)
    tomorrow = (dt.datetime.now(TZ) + dt.timedelta(days=1)).date()
    status, body = http_json("POST", f"{his}/_control/schedules", {
        "department_code": department, "doctor_code": doctor, "date": tomorrow.isoformat(), "period": "pm",
        "capacity": CAPACITY, "slot_count": SLOT_COUNT, "release_at": release.isoformat()})
    if status != 201:
        raise BenchError(f"HIS control schedules answered {status}: {body}")
    return body["schedule_id"], body["slot_ids"], release.timestamp()


# -- the rush ----------------------------------------------------------------------------------


def browse(port: int, users: list[User], schedule_id: str) -> None:
    """Before release, a few users look at the slots (warms each worker as real browsing would)."""
    answers = fire(port, [Req("GET", f"/api/v1/schedules/{schedule_id}/slots", _auth(u)) for u in users[:20]], 20)
    _expect(answers, 200, "browse slots")


def bookings(users: list[User], schedule_id: str, slot_ids: list[str], tag: str) -> list[Req]:
    """One booking per user, slots round-robin, each with its own Idempotency-Key."""
    return [Req("POST", "/api/v1/appointments", {**_auth(u), "Idempotency-Key": f"{tag}-{i}"},
                {"patient_id": u.patient_id, "schedule_id": schedule_id, "slot_id": slot_ids[i % len(slot_ids)]})
            for i, u in enumerate(users)]


def wait_for_release(release: float) -> None:
    """Sleep until just after the release moment (bounded)."""
    delay = release + AFTER_RELEASE_S - time.time()
    if delay > 0:
        time.sleep(min(delay, RELEASE_LEAD_S + 5))


def tally(answers: list[Resp]) -> tuple[dict, dict]:
    """Counts by outcome, and the other 4xx/5xx codes seen."""
    counts = {"confirmed": 0, "SLOT_FULL": 0, "other 4xx": 0, "5xx": 0, "transport errors": 0}
    other: dict[str, int] = {}
    for answer in answers:
        if answer.status == 201:
            counts["confirmed"] += 1
        elif answer.status == 409 and answer.code == "SLOT_FULL":
            counts["SLOT_FULL"] += 1
        elif answer.status == 0:
            counts["transport errors"] += 1
        else:
            key = "5xx" if answer.status >= 500 else "other 4xx" if answer.status >= 400 else "other"
            counts[key] = counts.get(key, 0) + 1
            other[f"{answer.status} {answer.code}"] = other.get(f"{answer.status} {answer.code}", 0) + 1
    return counts, other


# -- checks ------------------------------------------------------------------------------------


def check_bff_db(schedule_id: str, capacities: dict[str, int]) -> dict:
    """Double booking in the BFF database: slots over capacity, patients twice, leftovers."""
    with psycopg.connect(PG_DSN, connect_timeout=5, options=f"-csearch_path={SCHEMA}") as conn:
        per_slot = dict(conn.execute(
            "SELECT slot_id, count(*) FROM appointments WHERE schedule_id = %s AND status = 'confirmed'"
            " GROUP BY slot_id", (schedule_id,)).fetchall())
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT patient_id FROM appointments WHERE schedule_id = %s"
            " AND status = 'confirmed' GROUP BY patient_id HAVING count(*) > 1) t", (schedule_id,)).fetchone()[0]
        pending = conn.execute("SELECT count(*) FROM appointments WHERE schedule_id = %s AND status = 'pending'",
                               (schedule_id,)).fetchone()[0]
    over = sum(1 for slot, n in per_slot.items() if n > capacities.get(slot, 0))
    return {"db_confirmed": sum(per_slot.values()), "db_slots_over_capacity": over, "db_patients_twice": twice,
            "db_pending": pending}


def check_his(his: str, schedule_id: str) -> dict:
    """Registrations of this schedule and live locks in the HIS."""
    _, stats = http_json("GET", f"{his}/_control/stats")
    _, registrations = http_json("GET", f"{his}/_control/registrations")
    mine = [r for r in registrations if r["schedule_id"] == schedule_id and r["status"] != "cancelled"]
    return {"his_registrations": len(mine), "his_registrations_total": stats["registrations"],
            "his_locks": stats["locks"], "his_patients_twice": len(mine) - len({r["patient_id"] for r in mine})}


def slot_capacities(base: str, user: User, schedule_id: str) -> dict[str, int]:
    """Each slot's capacity as the BFF lists it."""
    status, body = http_json("GET", f"{base}/api/v1/schedules/{schedule_id}/slots", headers=_auth(user))
    if status != 200:
        raise BenchError(f"slots answered {status}: {body}")
    return {s["id"]: s["capacity"] for s in body["items"]}


def cpu_snapshot(server: Server, sandbox: Server) -> dict[str, float]:
    """CPU seconds so far: BFF workers, every postgres process, the sandbox, this load generator."""
    return {"BFF workers": sum(cpu_seconds(p) for p in server.children()),
            "postgres": sum(cpu_seconds(p) for p in pids_named("postgres")),
            "sandbox HIS": cpu_seconds(sandbox.pid), "load generator": time.process_time(),
            "host": host_busy_seconds()}


def cpu_per_attempt(before: dict, after: dict, attempts: int) -> dict[str, float]:
    """CPU ms per attempt by component, their total, and what other processes on the host took."""
    used = {k: (after[k] - before[k]) * 1000 / attempts for k in before}
    host = used.pop("host")
    total = sum(used.values())
    return {**used, "total": total, "other processes on host": max(0.0, host - total)}


def worker_rss(server: Server) -> list[float]:
    """VmRSS (MB) of each gunicorn worker."""
    return [r for r in (rss_mb(pid) for pid in server.children()) if r is not None]


# -- orchestration -----------------------------------------------------------------------------


@dataclass
class Shared:
    """What the threads settings share: the sandbox, the BFF environment, users, target doctors."""

    sandbox: dict
    env: dict
    workdir: str
    runs_planned: int
    users: list[User] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)


def _prepare(shared: Shared, base: str, port: int) -> None:
    """Once: create the users and pick one (department, doctor) per planned run."""
    if shared.users:
        return
    log(f"rush: set-up, {USERS} logins + patients")
    shared.users = create_users(port)
    shared.targets = doctors_by_department(base, shared.users[0], shared.runs_planned)


def one_setting(started: list, shared: Shared, threads: int, index: int, connections: int = CONCURRENCY) -> RushRun:
    """Start the BFF with `threads`, rush one new schedule, check, stop the BFF."""
    workers = os.environ.get("BENCH_RUSH_WORKERS", "2")
    env = {**shared.env, "GUNICORN_WORKERS": workers, "GUNICORN_THREADS": str(threads)}
    server, base = start_gunicorn(started, f"bff-t{threads}", "bff.wsgi:app", env, shared.workdir, "/healthz")
    port, his = int(base.rsplit(":", 1)[1]), shared.sandbox["his"]
    try:
        http_json("POST", f"{his}/_control/faults", {"latency_ms": 0})
        _prepare(shared, base, port)
        users = shared.users
        http_json("POST", f"{his}/_control/faults", {"latency_ms": HIS_LATENCY_MS})
        schedule_id, slot_ids, release = create_schedule(his, *shared.targets[index])
        browse(port, users, schedule_id)
        log(f"rush: threads={threads}, schedule {schedule_id}, release in {release - time.time():.1f}s")
        requests = bookings(users, schedule_id, slot_ids, f"rush-{index}-t{threads}-c{connections}")
        wait_for_release(release)
        before = cpu_snapshot(server, shared.sandbox["server"])
        answers = fire(port, requests, connections, timeout=30.0, deadline_s=90.0)
        cpu = cpu_per_attempt(before, cpu_snapshot(server, shared.sandbox["server"]), len(answers))
        counts, other = tally(answers)
        rss = worker_rss(server)
        checks = {**check_bff_db(schedule_id, slot_capacities(base, users[0], schedule_id)),
                  **check_his(his, schedule_id)}
        baseline = fire(port, [Req("GET", "/api/v1/patients", _auth(u)) for u in users], connections)
        _expect(baseline, 200, "baseline GET /api/v1/patients")
        result = RushRun(threads, connections, counts, Load.of(answers), Load.of(baseline), checks, rss, other, cpu)
        log(f"rush: threads={threads}: {counts}, {result.rush.rps:.0f} attempts/s, p99 {result.rush.p99_ms:.0f} ms")
        return result
    finally:
        started.remove(server)
        server.stop()


def run(workdir: str, threads_settings: tuple[int, ...] = DEFAULT_THREADS) -> list[RushRun]:
    """Every threads setting against one database and one sandbox; the schema is dropped at the end."""
    workdir = os.path.join(workdir, "rush")
    os.makedirs(workdir, exist_ok=True)
    reset_schema()
    try:
        with servers() as started:
            sandbox = start_sandbox(started, workdir)
            env = bff_env(DATABASE_URL, sandbox)
            migrate(env, workdir)
            settings = [(t, CONCURRENCY) for t in threads_settings]
            if CONTEXT_CONNECTIONS and CONTEXT_CONNECTIONS != CONCURRENCY:
                settings.append((threads_settings[0], CONTEXT_CONNECTIONS))
            shared = Shared(sandbox, env, workdir, len(settings))
            return [one_setting(started, shared, t, i, c) for i, (t, c) in enumerate(settings)]
    finally:
        drop_schema()


# -- output ------------------------------------------------------------------------------------


def _ok(run: RushRun) -> dict:
    c, k = run.counts, run.checks
    return {
        "counts": c["confirmed"] == CAPACITY and c["SLOT_FULL"] == USERS - CAPACITY and c["5xx"] == 0
        and c["transport errors"] == 0,
        "no double booking": k["db_slots_over_capacity"] == 0 and k["db_patients_twice"] == 0
        and k["db_confirmed"] == CAPACITY and k["his_registrations"] == CAPACITY and k["his_locks"] == 0
        and k["his_patients_twice"] == 0,
        "rps": run.rush.rps >= TARGET_RPS,
        "p99": run.rush.p99_ms < TARGET_P99_MS,
        "rss": bool(run.rss_mb) and max(run.rss_mb) < TARGET_RSS_MB,
    }


def render(runs: list[RushRun]) -> str:
    """The release-rush table: one column per threads setting."""
    heads = ["measure"] + [f"threads={r.threads}, {r.connections} conns" for r in runs]

    def row(label, get):
        return [label] + [get(r) for r in runs]

    rows = [
        row("confirmed (must be 50)", lambda r: r.counts["confirmed"]),
        row("SLOT_FULL (must be 950)", lambda r: r.counts["SLOT_FULL"]),
        row("other 4xx", lambda r: r.counts["other 4xx"]),
        row("5xx (must be 0)", lambda r: r.counts["5xx"]),
        row("transport errors", lambda r: r.counts["transport errors"]),
        row("booking attempts/s", lambda r: r.rush.rps),
        row("booking p50 ms", lambda r: r.rush.p50_ms),
        row("booking p99 ms", lambda r: r.rush.p99_ms),
        row("baseline GET /patients req/s", lambda r: r.baseline.rps),
        row("baseline p50 ms", lambda r: r.baseline.p50_ms),
        row("baseline p99 ms", lambda r: r.baseline.p99_ms),
        row("booking cost (p50 / baseline p50)", lambda r: f"{r.rush.p50_ms / r.baseline.p50_ms:.1f}x"),
        row("BFF db: confirmed", lambda r: r.checks["db_confirmed"]),
        row("BFF db: slots over capacity", lambda r: r.checks["db_slots_over_capacity"]),
        row("BFF db: patients twice", lambda r: r.checks["db_patients_twice"]),
        row("BFF db: left pending", lambda r: r.checks["db_pending"]),
        row("HIS: registrations (schedule)", lambda r: r.checks["his_registrations"]),
        row("HIS: registrations (total)", lambda r: r.checks["his_registrations_total"]),
        row("HIS: live locks (must be 0)", lambda r: r.checks["his_locks"]),
        row("worker RSS MB", lambda r: " / ".join(f"{m:.0f}" for m in r.rss_mb)),
        *[row(f"CPU ms per attempt: {k}", lambda r, k=k: r.cpu_ms.get(k)) for k in CPU_PARTS],
        row("other answers", lambda r: ", ".join(f"{k} x{v}" for k, v in r.other_codes.items()) or "-"),
    ]
    verdicts = [row(f"target {name}", lambda r, n=name: verdict(_ok(r)[n]))
                for name in ("counts", "no double booking", "rps", "p99", "rss")]
    notes = [f"{USERS} users, capacity {CAPACITY} over {SLOT_COUNT} slots, {CONCURRENCY} client connections "
             f"(the last column: {CONTEXT_CONNECTIONS}, for context; the first column is judged), "
             f"HIS latency {HIS_LATENCY_MS} ms, PostgreSQL schema {SCHEMA}, gunicorn gthread "
             f"{os.environ.get('BENCH_RUSH_WORKERS', '2')} workers",
             "CPU ms per attempt: CPU used during the rush / attempts (2 cores: 300/s needs a total <= 6.7 ms); "
             "postgres counts every postgres process on the host; 'other processes' = host busy CPU minus the bench's",
             f"targets: >= {TARGET_RPS:.0f} attempts/s, p99 < {TARGET_P99_MS:.0f} ms, RSS < {TARGET_RSS_MB:.0f} MB "
             "per worker; baseline = the same users GET /api/v1/patients at the same concurrency"]
    return table("2. release rush", heads, rows + verdicts, notes)


def targets(runs: list[RushRun]) -> list[list[object]]:
    """Summary rows for the deploy default (the first threads setting)."""
    r = runs[0]
    ok = _ok(r)
    tag = f"rush (threads={r.threads})"
    return [
        [f"{tag}: 50 confirmed, 950 SLOT_FULL, 0 5xx",
         f"{r.counts['confirmed']} / {r.counts['SLOT_FULL']} / {r.counts['5xx']}", verdict(ok["counts"])],
        [f"{tag}: no double booking (BFF db + HIS, 0 locks)",
         f"db {r.checks['db_confirmed']}, HIS {r.checks['his_registrations']}, locks {r.checks['his_locks']}",
         verdict(ok["no double booking"])],
        [f"{tag}: >= 300 attempts/s", f"{r.rush.rps:.0f}/s", verdict(ok["rps"])],
        [f"{tag}: p99 < 500 ms", f"{r.rush.p99_ms:.0f} ms", verdict(ok["p99"])],
        [f"{tag}: RSS < 150 MB per worker", " / ".join(f"{m:.0f}" for m in r.rss_mb) + " MB", verdict(ok["rss"])],
    ]
