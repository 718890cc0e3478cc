"""Celery: the background work in production — the outbox and the periodic jobs (the daily reconciliation among them).

The same functions run in-process in the embedded default (`bff.jobs`, JOBS_IN_PROCESS=1). Here
they run on a Redis broker: `celery -A bff.worker:celery worker --beat` (see deploy/). There is no
result backend: every task is fire-and-forget, so a broker that is down never blocks a request
(publishing does not retry; beat runs the outbox every few seconds anyway).
"""
from __future__ import annotations

import logging

from celery import Celery, Task

from bff import jobs

log = logging.getLogger("bff.tasks")

celery = Celery("yiqiao")

OUTBOX_EVERY_SECONDS = 5.0
PERIODIC_EVERY_SECONDS = 15.0


def init_celery(app) -> Celery:
    """Bind the Celery app to the Flask app: settings, app context per task, the beat schedule."""
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"], result_backend=None, task_ignore_result=True,
        task_default_queue=app.config["CELERY_QUEUE"],
        task_acks_late=True, worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True,
        task_always_eager=app.config.get("CELERY_ALWAYS_EAGER", False), task_eager_propagates=True,
        timezone="Asia/Shanghai", enable_utc=True,
        worker_hijack_root_logger=False,  # keep our JSON lines, with ID numbers and phones masked
        beat_schedule={
            "outbox": {"task": "yiqiao.outbox", "schedule": OUTBOX_EVERY_SECONDS},
            **{f"job-{name}": {"task": "yiqiao.job", "schedule": PERIODIC_EVERY_SECONDS, "args": (name,)}
               for name in jobs.periodic_jobs(app)},
        })

    class AppTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery.Task = AppTask
    celery.flask_app = app
    app.extensions["celery"] = celery
    return celery


def wake_outbox() -> None:
    """Ask a worker to run the outbox now; a broker that is down only delays it to the next beat."""
    try:
        run_outbox.apply_async(retry=False)
    except Exception as error:  # kombu raises many kinds; none may fail the request that queued the work
        log.warning("could not wake the outbox worker: %s", type(error).__name__)


@celery.task(name="yiqiao.outbox")
def run_outbox() -> None:
    """Run the outbox's due work."""
    jobs.run_outbox(celery.flask_app)


@celery.task(name="yiqiao.job")
def run_periodic_job(name: str) -> None:
    """One of the periodic jobs by name."""
    app = celery.flask_app
    jobs.run_job(app, name, jobs.periodic_jobs(app)[name])
