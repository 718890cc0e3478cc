"""In-process background jobs for the embedded default (Celery takes over in production)."""
from __future__ import annotations

import datetime as dt
import logging
import threading

log = logging.getLogger("bff.jobs")


def start_in_process(app, interval: float = 15.0) -> threading.Thread | None:
    """Run the periodic jobs in a daemon thread when JOBS_IN_PROCESS is on."""
    if not app.config["JOBS_IN_PROCESS"]:
        return None
    stop = threading.Event()

    def loop():
        while not stop.wait(interval):
            run_periodic(app)

    thread = threading.Thread(target=loop, name="yiqiao-jobs", daemon=True)
    thread.stop = stop
    thread.start()
    return thread


def recovery_age(config) -> dt.timedelta:
    """How old a pending booking must be before recovery may settle it.

    Never less than the longest a booking request can still be talking to the HIS (four calls,
    each up to the HIS timeout), so recovery never races a request that is still running.
    """
    floor = 4 * config["HIS_TIMEOUT_SECONDS"] + 30
    return dt.timedelta(seconds=max(config["PENDING_RECOVERY_SECONDS"], floor))


def run_periodic(app) -> None:
    """One pass over the periodic jobs; a failing job is logged, never fatal."""
    from bff.appointments.service import expire_holds, recover_pending
    from bff.extensions import db

    jobs = {
        "recover_pending": lambda: recover_pending(recovery_age(app.config)),
        "expire_holds": expire_holds,
    }
    with app.app_context():
        for name, job in jobs.items():
            try:
                job()
            except Exception:  # keep the loop alive whatever one pass meets
                log.exception("job %s failed", name)
                db.session.rollback()
        db.session.remove()
