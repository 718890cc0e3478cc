"""Background work in production: a real Celery worker on the real Redis runs the outbox.

The BFF (here, in-process) queues a health card usage report in the outbox and wakes the worker
through Redis; `celery -A bff.worker:celery worker` (a subprocess sharing the database) runs the outbox
and the report reaches the platform simulator.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from bff.extensions import db
from tests.conftest import add_patient, login

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def queue():
    return f"yiqiao-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def app(make_app, platform, tmp_path, queue):
    return make_app(health_card=platform.client("a"), CELERY_BROKER_URL=REDIS_URL, CELERY_QUEUE=queue,
                    SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/celery.sqlite3")


@pytest.fixture
def worker(app, platform, queue, tmp_path):
    """`celery -A bff.worker:celery worker` on the test's queue, with the app's database and platform."""
    app_a = platform.apps["a"]
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "CELERY_BROKER_URL": REDIS_URL,
           "CELERY_QUEUE": queue, "JOBS_IN_PROCESS": "0", "PAYMENT_GATEWAYS": "dummy",
           "HEALTH_CARD_API_BASE": platform.base_url, "HEALTH_CARD_APP_ID": app_a["app_id"],
           "HEALTH_CARD_APP_SECRET": app_a["app_secret"], "HEALTH_CARD_HOSPITAL_ID": app_a["hospital_id"],
           "SECRET_KEY": app.config["SECRET_KEY"]}
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 -- closed below
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "bff.worker:celery", "worker", "--pool", "solo",
                             "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle",
                             "-l", "warning"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def test_a_celery_worker_on_redis_runs_the_outbox(app, client, platform, worker, tmp_path):
    from bff import outbox
    from bff.health_cards import service as health_cards
    from health_card.codes import CardChannel, Scene

    headers = login(client, "celery")
    patient = add_patient(client, headers)
    assert client.post("/api/v1/health-cards", headers=headers, json={"patient_id": patient["id"]}).status_code == 201
    with app.test_request_context():
        health_cards.report_use(patient["id"], Scene.CHECK_IN, CardChannel.MINI_PROGRAM, "celery-check-in")
        db.session.commit()
        outbox.kick()  # publishes the outbox task to Redis: only the worker can run it
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not platform.reports():
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        time.sleep(0.2)
    assert [(r["scene"], r["card_channel"]) for r in platform.reports()] == [("0101021", "0402")]
    with app.app_context():
        assert outbox.pending_count() == 0
        db.session.remove()


def test_the_worker_keeps_our_json_logs_with_personal_data_masked(make_app):
    import logging

    from bff import logs

    celery = make_app(CELERY_BROKER_URL=REDIS_URL).extensions["celery"]
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        logs.configure("WARNING")  # as the worker's app does
        ours = list(root.handlers)
        celery.log.setup(loglevel="WARNING")  # what `celery worker` does when it starts
        assert root.handlers == ours and isinstance(ours[0].formatter, logs.JsonLineFormatter)
    finally:
        logs._stop_writer()
        root.handlers[:] = before
        root.setLevel(level)
