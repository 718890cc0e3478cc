"""Fixtures for the Alipay tests: the simulator and a notification receiver on loopback, and the real gateway."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest
import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server

from payments.alipay import AlipayGateway
from payments.interface import NotificationInvalid
from sandbox import keys as sandbox_keys
from sandbox.alipay import create_app

RETRY_DELAYS = (0.05, 0.05, 0.1, 0.1)

def _serve(app, name: str):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return server


class AlipayControl:
    """Client of the simulator's /_control/ API."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.gateway_url = f"{base_url}/gateway.do"

    def post(self, path: str, body: dict | None = None, expect: int = 200) -> dict:
        """POST JSON to a control path; the JSON answer (status checked)."""
        resp = requests.post(f"{self.base_url}/_control/{path}", json=body or {}, timeout=5)
        assert resp.status_code == expect, resp.text
        return resp.json()

    def get(self, path: str, **params) -> dict:
        """GET a control path."""
        resp = requests.get(f"{self.base_url}/_control/{path}", params=params, timeout=5)
        resp.raise_for_status()
        return resp.json()

    def pay(self, out_trade_no: str, result: str = "success", **extra) -> dict:
        """Complete (or decline) a waiting payment as the payer."""
        return self.post("pay", {"out_trade_no": out_trade_no, "result": result, **extra})

    def deliveries(self, out_trade_no: str) -> list[dict]:
        """The simulator's notification deliveries for a trade."""
        return self.get("notifications", out_trade_no=out_trade_no)["items"]


class Receiver:
    """Stands in for the BFF's /notify/alipay: parses with a gateway, records what it believed, acks."""

    def __init__(self):
        self.lock = threading.Lock()
        self.gateway: AlipayGateway | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything; answer success from now on."""
        with self.lock:
            self.bodies: list[bytes] = []
            self.accepted: list = []
            self.refused: list[str] = []
            self.failures_left = 0

    def fail_next(self, count: int) -> None:
        """Answer ``fail`` to the next count notifications, as a BFF whose database is down would."""
        with self.lock:
            self.failures_left = count

    def handle(self, headers, body: bytes):
        """Verify and record one notification; the Ack to answer."""
        with self.lock:
            self.bodies.append(body)
            if self.failures_left:
                self.failures_left -= 1
                return self.gateway.ack(False)
        try:
            notification = self.gateway.parse_notification(headers, body)
        except NotificationInvalid as exc:
            with self.lock:
                self.refused.append(exc.gateway_code)
            return self.gateway.ack(False)
        with self.lock:
            self.accepted.append(notification)
        return self.gateway.ack(True)


@pytest.fixture(scope="session")
def alipay_keys(tmp_path_factory) -> sandbox_keys.SandboxKeys:
    """Sandbox keys made for this test session."""
    return sandbox_keys.ensure(str(tmp_path_factory.mktemp("alipay-keys")))


@pytest.fixture(scope="session")
def _alipay_servers(alipay_keys) -> Iterator[tuple[AlipayControl, Receiver, str]]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    simulator = _serve(create_app(alipay_keys, retry_delays=RETRY_DELAYS), "sandbox-alipay")
    receiver = Receiver()
    app = Flask("alipay-receiver")

    @app.post("/notify/alipay")
    def notify_alipay():
        ack = receiver.handle(dict(request.headers), request.get_data())
        return Response(ack.body, status=ack.status, content_type=ack.content_type)

    receiver_server = _serve(app, "alipay-receiver")
    try:
        yield (AlipayControl(f"http://127.0.0.1:{simulator.server_port}"), receiver,
               f"http://127.0.0.1:{receiver_server.server_port}/notify/alipay")
    finally:
        for server in (simulator, receiver_server):
            server.shutdown()
            server.server_close()


@pytest.fixture
def make_gateway(alipay_keys, _alipay_servers) -> Callable[..., AlipayGateway]:
    """Build an AlipayGateway against the simulator; keyword arguments override the defaults."""
    control, _, notify_url = _alipay_servers

    def build(**overrides) -> AlipayGateway:
        settings = {
            "app_id": alipay_keys.secrets["alipay_app_id"], "seller_id": alipay_keys.secrets["alipay_seller_id"],
            "app_private_key": alipay_keys.private_key("alipay_app"),
            "alipay_public_key": alipay_keys.public_key("alipay_platform"), "notify_url": notify_url,
            "server_url": control.gateway_url, "timeout": 3.0, "face_poll_interval": 0.01, "face_poll_attempts": 5,
        }
        return AlipayGateway(**{**settings, **overrides})

    return build


@pytest.fixture
def alipay(_alipay_servers) -> Iterator[AlipayControl]:
    """The simulator, reset before and after the test."""
    control = _alipay_servers[0]
    control.post("reset")
    yield control
    control.post("reset")


@pytest.fixture
def gateway(make_gateway) -> AlipayGateway:
    """The gateway with the sandbox's settings."""
    return make_gateway()


@pytest.fixture
def receiver(_alipay_servers, gateway, alipay) -> Iterator[Receiver]:
    """The notification receiver, verifying with gateway, reset for the test."""
    rec = _alipay_servers[1]
    rec.reset()
    rec.gateway = gateway
    yield rec
    rec.reset()
