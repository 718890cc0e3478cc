"""wechatpy's code_to_session against the WeChat simulator over loopback: every URL on our base."""
import socket
import threading

import pytest
from werkzeug.serving import make_server

from bff.auth.wechat import WxCodeInvalid, WxLogin, WxUnavailable
from sandbox.wechat.app import create_app


@pytest.fixture(scope="module")
def wechat():
    server = make_server("127.0.0.1", 0, create_app("wx-app", "wx-secret"), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", server.app
    server.shutdown()


def test_login_code_becomes_the_openid(wechat):
    base, _ = wechat
    assert WxLogin("wx-app", "wx-secret", base).code_to_session("abc").openid == "sandbox-abc"


def test_bad_codes_are_wx_code_invalid(wechat):
    base, _ = wechat
    client = WxLogin("wx-app", "wx-secret", base)
    for code in ("invalid", "expired"):
        with pytest.raises(WxCodeInvalid):
            client.code_to_session(code)


def test_wrong_secret_is_not_blamed_on_the_patient(wechat):
    base, _ = wechat
    with pytest.raises(WxUnavailable):
        WxLogin("wx-app", "not-the-secret", base).code_to_session("abc")


def test_wechat_down_or_unreachable_is_wx_unavailable(wechat):
    base, app = wechat
    app.extensions["sandbox_wechat"]["faults"].update({"down": True})
    try:
        with pytest.raises(WxUnavailable):
            WxLogin("wx-app", "wx-secret", base).code_to_session("abc")
    finally:
        app.extensions["sandbox_wechat"]["faults"].reset()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(WxUnavailable):
        WxLogin("wx-app", "wx-secret", f"http://127.0.0.1:{closed_port}/", timeout=1).code_to_session("abc")
