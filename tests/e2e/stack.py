"""A live stack on loopback for end-to-end tests: every simulator and the BFF, on free ports.

`python -m tests.e2e.stack` prints one JSON line of addresses (`{"bff", "his", "wechat", "wechatpay",
"alipay", "healthcard", "sms", …}`) when everything answers, then serves until SIGTERM or until its stdin
closes (the jest e2e suite uses this). Python tests call `start_stack(tmpdir)` directly. The BFF
takes payments online through the real gateway SDKs against the simulators, and runs its outbox
in-process, as `make run` does.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading

from werkzeug.serving import make_server

from deploy.sandbox_env import bff_settings, config_overrides
from sandbox import __main__ as sandbox


class Stack:
    """Running servers and their addresses: the simulators and one BFF per name."""

    def __init__(self, box: sandbox.Sandbox):
        self.box = box
        self.urls = {name: box.url(name) for name in box.servers}
        self.apps: dict = {}
        self._servers: list = []
        self._jobs: list = []

    @property
    def app(self):
        """The first BFF's Flask app."""
        return next(iter(self.apps.values()))

    def add_bff(self, name: str, data_dir: str, clock=None, jobs: bool = True, **overrides) -> str:
        """Start a BFF wired to the simulators (its own SQLite file); answers its URL."""
        from flask_migrate import upgrade

        from bff.app import create_app
        from bff.jobs import start_in_process
        from bff.staff.service import seed_demo

        server = make_server("127.0.0.1", 0, None, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        config = {
            **config_overrides(bff_settings(self.urls, self.box.keys, self.box.tls_files)),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(data_dir, name + '.sqlite3')}",
            "HIS_ADAPTER": "xmlws", "JOBS_IN_PROCESS": jobs, "RATELIMIT_STORAGE_URI": "memory://",
            "HIS_TIMEOUT_SECONDS": 3.0, "PAYMENT_NOTIFY_BASE_URL": url,
            "RECONCILE_DIR": os.path.join(data_dir, name + "-reconciliation"), **overrides,
        }
        app = create_app(config, clock=clock)
        with app.app_context():
            upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "..", "migrations"))
            seed_demo()
        server.app = app
        threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
        self._servers.append(server)
        self._jobs.append(start_in_process(app, interval=2.0) if jobs else None)
        self.apps[name], self.urls[name] = app, url
        return url

    def stop(self) -> None:
        """Shut every server down."""
        for jobs in self._jobs:
            if jobs is not None:
                jobs.stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self.box.shutdown()


def start_stack(data_dir: str, clock=None, jobs: bool = False, **overrides) -> Stack:
    """The simulators and one BFF ("bff") wired to them (sharing `clock` if given), all listening."""
    box = sandbox.build("127.0.0.1", data_dir, {}, clock)
    box.serve()
    stack = Stack(box)
    stack.add_bff("bff", data_dir, clock, jobs, **overrides)
    return stack


def main() -> None:
    """Serve until told to stop; print the addresses once ready.

    Two BFFs share the simulators: "bff" as a hospital paid at the window (PAYMENT_MODE=at_hospital)
    and "bff_online" taking the fee online when booking, both running their background jobs.
    """
    with tempfile.TemporaryDirectory(prefix="yiqiao-e2e-") as data_dir:
        stack = start_stack(data_dir, jobs=True, PAYMENT_MODE="at_hospital")
        stack.add_bff("bff_online", data_dir, PAYMENT_MODE="online")
        print(json.dumps(stack.urls), flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        stop.wait()
        stack.stop()


if __name__ == "__main__":
    main()
