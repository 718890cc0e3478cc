"""In-process background jobs for the embedded default (Celery runs the same functions in production)."""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from bff import idempotency, outbox
from bff.appointments.service import expire_holds, recover_pending
from bff.appointments.state import recovery_age
from bff.extensions import db
from bff.payments import reconcile as reconciliation
from bff.payments.service import settle_stuck

log = logging.getLogger("bff.jobs")

OUTBOX_POLL_SECONDS = 2.0


def start_in_process(app, interval: float | None = None) -> threading.Thread | None:
    """Run the periodic jobs (every JOBS_INTERVAL_SECONDS) and the outbox in threads when JOBS_IN_PROCESS is on."""
    if not app.config["JOBS_IN_PROCESS"]:
        return None
    interval = interval or app.config["JOBS_INTERVAL_SECONDS"]
    stop, wake = threading.Event(), threading.Event()
    app.extensions["outbox_wake"] = wake.set

    def periodic():
        while not stop.wait(interval):
            run_periodic(app)

    def outbox_loop():
        while not stop.is_set():
            wake.wait(OUTBOX_POLL_SECONDS)
            wake.clear()
            run_outbox(app)

    threading.Thread(target=outbox_loop, name="yiqiao-outbox", daemon=True).start()
    thread = threading.Thread(target=periodic, name="yiqiao-jobs", daemon=True)
    thread.stop = stop
    thread.start()
    return thread


def on_his_recovery(app):
    """The listener the HIS breaker calls when the HIS answers again after an outage."""

    def recovered():
        threading.Thread(target=run_after_his_recovery, args=(app,), name="yiqiao-his-recovered",
                         daemon=True).start()
    return recovered


def run_after_his_recovery(app) -> None:
    """At once, not at the next tick: release the holds the outage left and settle what waited for the HIS."""
    run_job(app, "outbox_due_now", outbox.make_all_due)
    run_outbox(app)
    jobs = periodic_jobs(app)
    for name in ("expire_holds", "recover_pending"):
        run_job(app, name, jobs[name])


def periodic_jobs(app) -> dict:
    """The periodic jobs by name: what the in-process thread and Celery beat both run."""
    return {
        "recover_pending": lambda: recover_pending(recovery_age(app.config)),
        "expire_holds": expire_holds,
        "settle_stuck_payments": lambda: settle_stuck(dt.timedelta(seconds=app.config["STUCK_PAYMENT_SECONDS"])),
        "purge_idempotency": _at_most_hourly(app, "purge_idempotency", lambda: idempotency.purge(
            dt.timedelta(hours=app.config["IDEMPOTENCY_KEEP_HOURS"]))),
        "reconcile_yesterday": _at_most_hourly(app, "reconcile_yesterday", reconciliation.run_daily),
    }


def _at_most_hourly(app, name: str, job):
    """A job worth a pass an hour, though the loop comes by every few seconds (per app, per process)."""
    last_run = app.extensions.setdefault("jobs_last_run", {})

    def run():
        now = time.monotonic()
        if name not in last_run or now - last_run[name] >= 3600.0:
            last_run[name] = now
            job()
    return run


def run_job(app, name: str, job) -> None:
    """One job in the app context; a failure is logged, never fatal."""
    with app.app_context():
        try:
            job()
        except Exception:  # keep the loop alive whatever one pass meets
            log.exception("job %s failed", name)
            db.session.rollback()
        finally:
            db.session.remove()


def run_periodic(app) -> None:
    """One pass over the periodic jobs."""
    for name, job in periodic_jobs(app).items():
        run_job(app, name, job)


def run_outbox(app) -> None:
    """Run what the outbox has due."""
    run_job(app, "outbox", outbox.run_due)
