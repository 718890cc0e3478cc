"""Table 3, part 1: the chaos run. BENCH_PAY_COUNT payments (500) through the real BFF with random faults.

Set-up (not faulted): schema `bench_pay`, every simulator (`bench.pay_sandbox`), the BFF under
gunicorn on PostgreSQL with `PAYMENT_MODE=online` and its jobs in-process, a kiosk provisioned
with `flask kiosk add`, one logged-in user and patient per payment, HIS schedules with room for
every booking. Then BENCH_PAY_CONCURRENCY (32) patients at a time play the seeded plan
(`bench.chaos_plan`) while a conductor switches faults on WeChat Pay, Alipay and the HIS every
2–4 s. Then faults off, a bounded wait until the BFF is quiet, the money invariant from its
database, `flask payments reconcile` for today (Asia/Shanghai), and once more after planting a
difference in the ledger (it must then exit non-zero).
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from bench import chaos_checks as checks
from bench.chaos_plan import SYSTEMS, Scenario, fault_window, plan
from bench.chaos_scenarios import Ctx, play
from bench.common import ROOT, BenchError, Server, http_json, log, servers
from bench.pay_world import (
    BFF_TIMEOUT_S,
    PG_DSN,
    Patient,
    Sandbox,
    create_patients,
    drop_schema,
    provision_kiosk,
    reset_schema,
    start_bff,
    start_sandbox,
)
from bench.payclient import Api, Control, Tally
from bff.his.adapters.xmlws import XmlWsHis

SCHEMA = "bench_pay"
KIOSK_ID = "BENCH-KIOSK-01"
PLACES_PER_SCHEDULE = 40  # of 50: room to spare
SCENARIOS_DEADLINE_S = 900.0


def settings() -> dict:
    """The knobs, from the environment."""
    seed = os.environ.get("BENCH_PAY_SEED")
    return {"count": int(os.environ.get("BENCH_PAY_COUNT", "500")),
            "seed": int(seed) if seed else random.SystemRandom().randrange(1, 10**6),
            "concurrency": int(os.environ.get("BENCH_PAY_CONCURRENCY", "32")),
            "settle_s": float(os.environ.get("BENCH_PAY_SETTLE_S", "180"))}


@dataclass
class ChaosResult:
    """Everything the chaos run saw."""

    knobs: dict
    scenarios: list[Scenario]
    ctx: Ctx
    tally: Tally
    windows: Counter
    injected_by_sims: dict  # simulator -> {operation: {calls, delayed, errors, down}}
    left: dict
    waited_s: float
    money: checks.Money
    reconciliation: checks.Reconciliation
    planted: checks.Reconciliation
    log_errors: tuple[int, list]
    notifications: dict
    explained: list[str]
    fates: dict
    reached_bff: set  # request ids of the calls without an answer that the BFF did log
    his: dict  # the HIS's own counts: live locks, registrations, cancellations, patients
    seconds: dict = field(default_factory=dict)


class Conductor(threading.Thread):
    """Switches the simulators' faults on and off at random until stopped; always leaves them off."""

    def __init__(self, ctl: Control, seed: int):
        super().__init__(name="fault-conductor", daemon=True)
        self.ctl, self.rng, self.stop = ctl, random.Random(seed * 7 + 1), threading.Event()
        self.windows: Counter = Counter()

    def run(self) -> None:
        """Window after window until stopped."""
        try:
            while not self.stop.is_set():
                seconds, chosen = fault_window(self.rng, BFF_TIMEOUT_S * 1000)
                for system, (label, body) in chosen.items():
                    self.ctl.faults(system, **body)
                    self.windows[(system, label)] += 1
                self.stop.wait(seconds)
        finally:
            self.all_off()

    def all_off(self) -> None:
        """Every simulator healthy again."""
        for system in SYSTEMS:
            self.ctl.faults(system, error_rate=0.0, latency_ms=0, down=False)


def _slots(ctl: Control, base: str, user: Patient, scenarios: list[Scenario]) -> dict[int, tuple[str, str]]:
    """Schedules in the HIS with room for every booking; each booking scenario's (schedule, slot)."""
    from bench.release_rush import doctors_by_department

    booking = [s.index for s in scenarios if s.order_type == "appointment"]
    needed = max(1, math.ceil(len(booking) / PLACES_PER_SCHEDULE))
    doctors = doctors_by_department(base, user, min(needed, 8))
    slots: list[tuple[str, str]] = []
    for n in range(needed):  # two days ahead, one afternoon per doctor (then the evening, the morning …)
        department, doctor = doctors[n % len(doctors)]
        made = ctl("his", "_control/schedules", {
            "department_code": department, "doctor_code": doctor,
            "date": (checks.today() + dt.timedelta(days=2 + n // (3 * len(doctors)))).isoformat(),
            "period": ("pm", "night", "am")[(n // len(doctors)) % 3], "capacity": 50, "slot_count": 10,
            "release_at": "2020-01-01T00:00:00+08:00"})
        slots += [(made["schedule_id"], slot) for slot in made["slot_ids"]]
    return {index: slots[n % len(slots)] for n, index in enumerate(booking)}


def _play_all(ctx: Ctx, scenarios: list[Scenario], concurrency: int) -> int:
    """Every scenario, concurrency at a time (bounded); how many did not finish in time."""
    with ThreadPoolExecutor(concurrency, thread_name_prefix="patient") as pool:
        futures = [pool.submit(play, ctx, s) for s in scenarios]
        _, not_done = wait(futures, timeout=SCENARIOS_DEADLINE_S)
        for future in not_done:
            future.cancel()
    return len(not_done)


def _notifications(ctl: Control) -> dict:
    """What the gateways' notifiers say: deliveries by kind and end, forged ones acknowledged."""
    wechat = ctl("wechatpay", "_control/notifications", method="GET")["items"]
    alipay = ctl("alipay", "_control/notifications", method="GET")["items"]
    return {"wechat by status": Counter(f"{'forged ' if d['forge'] else ''}{d['kind']} {d['status']}"
                                         for d in wechat),
            "forged acknowledged": Counter(d["forge"] for d in wechat if d["forge"] and d["status"] == "acked"),
            "forged sent": Counter(d["forge"] for d in wechat if d["forge"]),
            "genuine not acknowledged": sum(1 for d in wechat if not d["forge"] and d["status"] not in
                                            ("acked", "held")),
            "alipay acknowledged": Counter("acked" if d["acknowledged"] else "not acked" for d in alipay)}


def gateway_trades(ctl: Control) -> dict[str, str]:
    """Every trade the two gateways hold today, in a few words: what a difference is checked against."""
    day = checks.today().isoformat()
    held = {t["out_trade_no"]: f"wechat {t['trade_type']} {t['state']} {t['amount']} fen, refunds "
                               f"{[(r['source'], r['state'], r['amount']) for r in t['refunds']]}"
            for t in ctl("wechatpay", f"_control/trades?date={day}", method="GET")["items"]}
    held.update({t["out_trade_no"]: f"alipay {t['scene']} {t['status']} {t['amount']} fen, refunded {t['refunded']}"
                 for t in ctl("alipay", f"_control/trades?date={day}", method="GET")["trades"]})
    return held


@dataclass
class World:
    """What the run set up: the BFF (server, environment, database), the simulators, the patients' context."""

    server: Server
    env: dict
    box: Sandbox
    db: checks.Db
    ctx: Ctx
    workdir: str


def _prepare(started: list, workdir: str, knobs: dict, scenarios: list[Scenario]) -> World:
    box = start_sandbox(started, workdir, knobs["seed"])
    server, base, env = start_bff(started, "bff-pay", box, SCHEMA, workdir)
    kiosk = provision_kiosk(env, KIOSK_ID)
    log(f"payments: set-up, {len(scenarios)} users with a patient each")
    users = create_patients(int(base.rsplit(":", 1)[1]), len(scenarios), f"bench-pay-{knobs['seed']}")
    ctl = Control(box.urls)
    his = XmlWsHis.from_config(os.path.join(ROOT, "bff", "his", "mappings", "sandbox.yaml"),
                               f"{box.urls['his']}/his/ws?wsdl", timeout=5.0)
    his.ping()
    logging.getLogger("bff.his").setLevel(logging.ERROR)  # the lapse adapter: its retries are expected
    db = checks.Db(PG_DSN, SCHEMA)
    ctx = Ctx(Api(base, Tally(), "bench-pay"), ctl, users, _slots(ctl, base, users[0], scenarios), kiosk, his,
              lambda appointment_id: db.value("SELECT request_id FROM appointments WHERE id = %s",
                                              (appointment_id,)))
    return World(server, env, box, db, ctx, workdir)


def _under_faults(world: World, knobs: dict, scenarios: list[Scenario]) -> Conductor:
    """Play every scenario while the conductor switches faults; faults are off when this returns."""
    conductor = Conductor(world.ctx.ctl, knobs["seed"])
    conductor.start()
    try:
        unfinished = _play_all(world.ctx, scenarios, knobs["concurrency"])
    finally:
        conductor.stop.set()
        conductor.join(timeout=30)
        conductor.all_off()
    if unfinished:
        world.ctx.note(f"scenario unfinished after {SCENARIOS_DEADLINE_S:.0f}s")
    return conductor


def run(workdir: str) -> ChaosResult:
    """Set up, play, settle, check, reconcile, plant; the schema is dropped at the end."""
    workdir = os.path.join(workdir, "chaos")
    os.makedirs(workdir, exist_ok=True)
    knobs = settings()
    scenarios = plan(knobs["count"], knobs["seed"])
    log(f"payments: chaos run of {knobs['count']} payments, seed {knobs['seed']}")
    reset_schema(SCHEMA)
    try:
        with servers() as started:
            clock = time.monotonic()
            world = _prepare(started, workdir, knobs, scenarios)
            seconds = {"set-up": time.monotonic() - clock}
            clock = time.monotonic()
            conductor = _under_faults(world, knobs, scenarios)
            seconds["payments under faults"] = time.monotonic() - clock
            log(f"payments: played in {seconds['payments under faults']:.0f}s; waiting for the BFF to be quiet")
            left, waited, last_seen = checks.wait_quiet(world.db, knobs["settle_s"])
            seconds.update({"settling": waited, **{f"in flight: {name}": at for name, at in last_seen.items()}})
            result = _judge(world, conductor, left, waited, knobs, scenarios)
            result.seconds.update(seconds)
            return result
    finally:
        drop_schema(SCHEMA)


def _judge(world: World, conductor: Conductor, left: dict, waited: float, knobs: dict,
           scenarios: list[Scenario]) -> ChaosResult:
    """Read every figure once the BFF is quiet, then reconcile (and again after planting a difference)."""
    ctx, db, server = world.ctx, world.db, world.server
    injected = {system: http_json("GET", f"{world.box.urls[system]}/_bench/faults")[1] for system in SYSTEMS}
    his = ctx.ctl("his", "_control/stats", method="GET")
    money, notifications = checks.money(db), _notifications(ctx.ctl)
    clock = time.monotonic()
    reconciliation = checks.reconcile(world.env, os.path.join(world.workdir, "reconciliation"), checks.today())
    log(f"payments: reconcile exit {reconciliation.exit_code}, {reconciliation.differences} differences")
    checks.plant_difference(db)
    planted = checks.reconcile(world.env, os.path.join(world.workdir, "reconciliation-planted"), checks.today())
    seconds = {"reconciling (twice)": time.monotonic() - clock}
    if not os.path.exists(server.log_path):
        raise BenchError("the BFF's log is missing")
    return ChaosResult(knobs, scenarios, ctx, ctx.api.tally, conductor.windows, injected, left, waited, money,
                       reconciliation, planted, checks.log_errors(server.log_path), notifications,
                       checks.explain(db, reconciliation.different_trades(), gateway_trades(ctx.ctl)),
                       checks.fates(db, ctx.tracked),
                       checks.reached(server.log_path, [entry[-1] for entry in ctx.api.tally.no_answer]), his, seconds)
