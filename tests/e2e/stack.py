"""A live stack on loopback for end-to-end tests: sandbox HIS + WeChat and the BFF, free ports.

`python -m tests.e2e.stack` prints one JSON line `{"bff", "his", "wechat"}` when everything
answers, then serves until SIGTERM or until its stdin closes (the jest e2e suite uses this).
Python tests call `start_stack(tmpdir)` directly.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading

from werkzeug.serving import make_server

from sandbox import __main__ as sandbox


class Stack:
    """Running servers and their addresses."""

    def __init__(self, servers: dict, app):
        self.servers, self.app = servers, app
        self.urls = {name: f"http://127.0.0.1:{s.server_port}" for name, s in servers.items()}

    def stop(self) -> None:
        """Shut every server down."""
        for server in self.servers.values():
            server.shutdown()
            server.server_close()


def start_stack(data_dir: str, clock=None, **overrides) -> Stack:
    """Start the simulators and a BFF wired to them (sharing `clock` if given); answer when all listen."""
    from flask_migrate import upgrade

    from bff.app import create_app

    servers = sandbox.build_servers("127.0.0.1", data_dir, {}, clock)
    sandbox.serve(servers)
    his, wechat = (f"http://127.0.0.1:{servers[n].server_port}" for n in ("his", "wechat"))
    config = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(data_dir, 'bff.sqlite3')}",
        "HIS_ADAPTER": "xmlws", "HIS_WSDL_URL": f"{his}/his/ws?wsdl", "WX_API_BASE": f"{wechat}/",
        "JOBS_IN_PROCESS": False, "RATELIMIT_STORAGE_URI": "memory://", "HIS_TIMEOUT_SECONDS": 3.0,
        **overrides,
    }
    app = create_app(config, clock=clock)
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "..", "migrations"))
    bff = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=bff.serve_forever, name="bff", daemon=True).start()
    servers["bff"] = bff
    return Stack(servers, app)


def main() -> None:
    """Serve until told to stop; print the addresses once ready."""
    with tempfile.TemporaryDirectory(prefix="yiqiao-e2e-") as data_dir:
        stack = start_stack(data_dir)
        print(json.dumps(stack.urls), flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        stop.wait()
        stack.stop()


if __name__ == "__main__":
    main()
