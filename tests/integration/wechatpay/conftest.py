"""Fixtures for WeChat Pay: the simulator on loopback (plain HTTP and mutual TLS), a merchant
notify endpoint that records what arrives, and the real SDK-based gateways pointed at them."""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server

from payments.interface import NotificationInvalid, PaymentError
from payments.wechatpay import WeChatPayV2Gateway, WeChatPayV3Gateway
from sandbox import keys as sandbox_keys
from sandbox.wechatpay import create_app, tls
from tests.waiting import wait_for


def _serve(app, ssl_context=None):
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    threading.Thread(target=server.serve_forever, name="test-server", daemon=True).start()
    return server


class WxPaySim:
    """The running simulator and a client of its /_control/ API."""

    def __init__(self, app, url: str, tls_url: str, keys, tls_files):
        self.app, self.url, self.tls_url, self.keys, self.tls = app, url, tls_url, keys, tls_files
        self.box = app.extensions["sandbox_wechatpay"]

    def post(self, path: str, body: dict | None = None, expect: int = 200) -> dict:
        """POST a control path; assert the status."""
        response = requests.post(f"{self.url}/_control/{path}", json=body or {}, timeout=5)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, path: str, **params) -> requests.Response:
        """GET a control path."""
        return requests.get(f"{self.url}/_control/{path}", params=params, timeout=5)

    def deliveries(self, out_trade_no: str) -> list[dict]:
        """The notifier's deliveries for a trade."""
        return self.get("notifications", out_trade_no=out_trade_no).json()["items"]


@pytest.fixture(scope="session")
def wxpay_keys(tmp_path_factory):
    return sandbox_keys.ensure(str(tmp_path_factory.mktemp("wxpay-keys")))


@pytest.fixture(scope="session")
def wxpay_sim(wxpay_keys) -> Iterator[WxPaySim]:
    """One simulator for the session: retries 1000× faster than WeChat Pay's, refunds done in 20 ms."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    files = tls.ensure_tls(wxpay_keys)
    app = create_app(wxpay_keys, notify_scale=0.001, refund_delay=0.02, notify_timeout=2.0)
    plain, secure = _serve(app), _serve(app, tls.server_context(files))
    yield WxPaySim(app, f"http://127.0.0.1:{plain.server_port}", f"https://127.0.0.1:{secure.server_port}",
                   wxpay_keys, files)
    for server in (plain, secure):
        server.shutdown()
        server.server_close()
    app.extensions["sandbox_wechatpay"].close()


@pytest.fixture
def wxpay(wxpay_sim) -> Iterator[WxPaySim]:
    """The simulator, reset before and after the test."""
    wxpay_sim.box.reset()
    yield wxpay_sim
    wxpay_sim.box.reset()


class Receiver:
    """The merchant's notify endpoint: parses with `gateway`, answers its ack; can fail on purpose first."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget what arrived; no gateway, no forced failures."""
        with self.lock:
            self.gateway, self.fail_first, self.arrived = None, 0, []

    def handle(self) -> Response:
        """One notification: record it, parse it, answer."""
        headers, body = dict(request.headers), request.get_data()
        with self.lock:
            failing = self.fail_first > 0
            self.fail_first -= int(failing)
        parsed = None
        if not failing and self.gateway is not None:
            try:
                parsed = self.gateway.parse_notification(request.headers, body)
            except PaymentError as exc:
                parsed = exc
        with self.lock:
            self.arrived.append({"headers": headers, "body": body, "parsed": parsed, "failed": failing})
        if failing:
            return Response("busy", status=500)
        if self.gateway is None:
            return Response(status=204)
        ack = self.gateway.ack(not isinstance(parsed, PaymentError))
        return Response(ack.body, status=ack.status, content_type=ack.content_type)

    def wait(self, count: int, timeout: float = 3.0) -> list[dict]:
        """The first `count` arrivals, once they are there."""
        wait_for(lambda: len(self.arrived) >= count, timeout, what="notifications")
        with self.lock:
            return list(self.arrived)

    def forged_one(self) -> NotificationInvalid:
        """The refusal of a forged notification sent after the genuine first one; nothing else accepted.

        Under load the genuine notification may be sent again meanwhile: look past it for the forged one.
        """
        def refused():
            return [a["parsed"] for a in self.wait(2)[1:] if isinstance(a["parsed"], NotificationInvalid)]

        wait_for(refused, what="the forged notification")
        genuine = self.wait(1)[0]["body"]
        accepted = [a for a in self.wait(2)[1:] if a["parsed"] is not None
                    and not isinstance(a["parsed"], NotificationInvalid) and a["body"] != genuine]
        assert not accepted, "a forged notification was accepted"
        return refused()[0]

    def parsed(self) -> list:
        """What the gateway made of each accepted arrival."""
        with self.lock:
            return [a["parsed"] for a in self.arrived if not a["failed"]]


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    app = Flask("merchant-notify")
    app.add_url_rule("/notify/wechatpay", "notify", receiver.handle, methods=["POST"])
    server = _serve(app)
    yield receiver, f"http://127.0.0.1:{server.server_port}/notify/wechatpay"
    server.shutdown()


@pytest.fixture
def receiver(receiver_server) -> Iterator[Receiver]:
    receiver, _ = receiver_server
    receiver.clear()
    yield receiver
    receiver.clear()


@pytest.fixture
def notify_url(receiver_server) -> str:
    return receiver_server[1]


def v3_config(keys, base_url: str, notify_url: str) -> dict:
    """The v3 gateway's configuration mapping, as the BFF would build it."""
    s = keys.secrets
    return {"mchid": s["wechatpay_mchid"], "appid": s["wechatpay_appid"], "private_key": keys.private_key("merchant"),
            "merchant_serial": s["merchant_serial"], "apiv3_key": s["apiv3_key"],
            "public_key": keys.public_key("wechatpay_platform"), "public_key_id": s["wechatpay_public_key_id"],
            "notify_url": notify_url, "api_base_url": base_url, "timeout": (1.0, 3.0)}


def v2_config(sim: WxPaySim, notify_url: str, **overrides) -> dict:
    """The v2 gateway's configuration: over mutual TLS with the sandbox CA and merchant certificate."""
    s = sim.keys.secrets
    return {"mchid": s["wechatpay_mchid"], "appid": s["wechatpay_appid"], "api_key": s["apiv2_key"],
            "notify_url": notify_url, "mch_cert": sim.tls.client_cert, "mch_key": sim.tls.client_key,
            "api_base_url": sim.tls_url + "/", "payapp_base_url": sim.tls_url + "/", "tls_verify": sim.tls.ca_cert,
            "timeout": (1.0, 3.0), "poll_interval": 0.005, "poll_timeout": 0.25, **overrides}


@pytest.fixture
def v3(wxpay, notify_url) -> WeChatPayV3Gateway:
    return WeChatPayV3Gateway(**v3_config(wxpay.keys, wxpay.url, notify_url))


@pytest.fixture
def v2(wxpay, notify_url) -> WeChatPayV2Gateway:
    return WeChatPayV2Gateway(**v2_config(wxpay, notify_url))
