"""WeChat API simulator: `cgi-bin/token` and `sns/jscode2session` with the real error codes.

Any js_code X logs in as openid `sandbox-X`; `invalid` fails with 40029 and `expired` with 40163,
as the real API does. App id and secret are checked like the real server checks them.
"""
from __future__ import annotations

import base64
import hashlib
import os
import secrets

from flask import Blueprint, Flask, current_app, jsonify, request

from sandbox.faults import Faults, register_fault_routes

TOKEN_TTL = 7200
# js_code values that fail as the real API fails for a bad or reused code
_BAD_CODES = {"": (40029, "invalid code"), "invalid": (40029, "invalid code"), "expired": (40163, "code been used")}

api = Blueprint("wechat_api", __name__)


def _settings() -> dict:
    return current_app.extensions["sandbox_wechat"]


def _refusal():
    """A fault, or wrong app credentials, answered the way WeChat answers them."""
    verdict = _settings()["faults"].verdict()
    if verdict:
        return jsonify({"errcode": -1, "errmsg": "system error"}), 503 if verdict == "down" else 500
    if request.args.get("appid") != _settings()["appid"]:
        return jsonify({"errcode": 40013, "errmsg": "invalid appid"})
    if request.args.get("secret") != _settings()["secret"]:
        return jsonify({"errcode": 40125, "errmsg": "invalid appsecret"})
    return None


@api.get("/cgi-bin/token")
def token():
    """The access token (wechatpy fetches one before any call)."""
    return _refusal() or jsonify({"access_token": secrets.token_urlsafe(48), "expires_in": TOKEN_TTL})


@api.get("/sns/jscode2session")
def jscode2session():
    """Mini-program login: js_code → openid and session key."""
    refused = _refusal()
    if refused:
        return refused
    if request.args.get("grant_type") != "authorization_code":
        return jsonify({"errcode": 40002, "errmsg": "invalid grant_type"})
    code = request.args.get("js_code", "")
    if code in _BAD_CODES:
        errcode, errmsg = _BAD_CODES[code]
        return jsonify({"errcode": errcode, "errmsg": errmsg})
    session_key = base64.b64encode(hashlib.sha256(code.encode()).digest()[:16]).decode()
    return jsonify({"openid": f"sandbox-{code}"[:64], "session_key": session_key, "unionid": f"union-{code}"[:64]})


def create_app(appid: str | None = None, secret: str | None = None) -> Flask:
    """Build the simulator; credentials default to the sandbox ones of `.env.example`."""
    app = Flask("sandbox.wechat")
    faults = Faults()
    app.extensions["sandbox_wechat"] = {
        "appid": appid or os.environ.get("WX_APPID", "wx-sandbox-appid"),
        "secret": secret or os.environ.get("WX_SECRET", "wx-sandbox-secret"),
        "faults": faults,
    }
    app.register_blueprint(api)
    register_fault_routes(app, faults)

    @app.post("/_control/reset")
    def reset():
        faults.reset()
        return jsonify({"ok": True})

    return app
