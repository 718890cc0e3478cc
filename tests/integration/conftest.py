"""Integration fixtures: the sandbox HIS served on a free loopback port in a thread."""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug.serving import make_server

from sandbox.his import create_app


class HisControl:
    """Client of the sandbox HIS's /_control/ API."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.wsdl_url = f"{base_url}/his/ws?wsdl"
        self.endpoint = f"{base_url}/his/ws"

    def post(self, path: str, body: dict | None = None) -> dict:
        """POST JSON to a control path and answer the JSON reply."""
        resp = requests.post(f"{self.base_url}/_control/{path}", json=body or {}, timeout=5)
        resp.raise_for_status()
        return resp.json()

    def get(self, path: str) -> dict | list:
        """GET a control path."""
        resp = requests.get(f"{self.base_url}/_control/{path}", timeout=5)
        resp.raise_for_status()
        return resp.json()

    def reset(self) -> None:
        """Back to the seeded state with faults off."""
        self.post("reset")

    def faults(self, **settings) -> dict:
        """Set fault knobs (latency_ms, error_rate, down)."""
        return self.post("faults", settings)


@pytest.fixture(scope="session")
def sandbox_his() -> Iterator[HisControl]:
    """A sandbox HIS on 127.0.0.1:<free port> for the whole session."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-his", daemon=True)
    thread.start()
    try:
        yield HisControl(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def his_control(sandbox_his: HisControl) -> Iterator[HisControl]:
    """The sandbox HIS reset before and after the test."""
    sandbox_his.reset()
    yield sandbox_his
    sandbox_his.reset()
