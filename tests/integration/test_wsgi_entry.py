"""bff.wsgi in its own processes: serving starts the background threads, a flask command does not.

`flask db upgrade`, `flask staff create` … load the same module (FLASK_APP=bff.wsgi:app); threads
started there would race the command and do outbox work from a process about to exit.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JOB_THREADS = {"yiqiao-outbox", "yiqiao-jobs"}

# The flask command line as `flask …` runs it, then the threads alive when the command is done.
FLASK_CLI = """
import sys, threading
from flask.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="flask")
finally:
    print("threads:", ",".join(sorted(t.name for t in threading.enumerate())))
"""
# What a gunicorn worker does with `bff.wsgi:app`.
GUNICORN_LOAD = """
import threading
from gunicorn.util import import_app
import_app("bff.wsgi:app")
print("threads:", ",".join(sorted(t.name for t in threading.enumerate())))
"""

# `flask run` up to the point where it would serve: it serves, so it starts them as gunicorn does.
FLASK_RUN = """
import threading
import flask.cli
assert flask.cli.run_simple  # the server flask run starts, replaced here so the test does not serve
flask.cli.run_simple = lambda *args, **kwargs: print(
    "threads:", ",".join(sorted(t.name for t in threading.enumerate())))
flask.cli.cli.main(args=["run"], prog_name="flask")
"""


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "YIQIAO_ENV": "development", "FLASK_APP": "bff.wsgi:app", "JOBS_IN_PROCESS": "1",
            "HIS_ADAPTER": "memory", "PAYMENT_GATEWAYS": "dummy", "RATELIMIT_STORAGE_URI": "memory://",
            "DATABASE_URL": f"sqlite:///{tmp_path}/bff.sqlite3"}


def _threads(stdout: str) -> set[str]:
    line = next(line for line in stdout.splitlines() if line.startswith("threads: "))
    return set(line.removeprefix("threads: ").split(","))


@pytest.mark.parametrize("command", [["db", "upgrade"], ["his", "check"]])
def test_a_flask_command_does_not_start_the_background_threads(env, command):
    done = subprocess.run([sys.executable, "-c", FLASK_CLI, *command], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not _threads(done.stdout) & JOB_THREADS


@pytest.mark.parametrize("loader", [GUNICORN_LOAD, FLASK_RUN], ids=["gunicorn", "flask run"])
def test_loading_the_app_to_serve_starts_them(env, loader):
    done = subprocess.run([sys.executable, "-c", loader], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert JOB_THREADS <= _threads(done.stdout)
