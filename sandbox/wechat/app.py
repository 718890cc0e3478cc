"""WeChat API simulator: `cgi-bin/token` and `sns/jscode2session` with the real error codes.

Any js_code X logs in as openid `sandbox-X`; `invalid` fails with 40029 and `expired` with 40163,
as the real API does. App id and secret are checked like the real server checks them.
"""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time

from flask import Flask, jsonify, request

from sandbox.faults import Faults, register_fault_routes

TOKEN_TTL = 7200


def create_app(appid: str | None = None, secret: str | None = None) -> Flask:
    """Build the simulator; credentials default to the sandbox ones of `.env.example`."""
    app = Flask("sandbox.wechat")
    appid = appid or os.environ.get("WX_APPID", "wx-sandbox-appid")
    secret = secret or os.environ.get("WX_SECRET", "wx-sandbox-secret")
    faults = Faults()
    tokens: dict[str, float] = {}
    lock = threading.Lock()
    register_fault_routes(app, faults)

    def credentials_error():
        if request.args.get("appid") != appid:
            return jsonify({"errcode": 40013, "errmsg": "invalid appid"})
        if request.args.get("secret") != secret:
            return jsonify({"errcode": 40125, "errmsg": "invalid appsecret"})
        return None

    @app.get("/cgi-bin/token")
    def token():
        failure = faults.apply() or credentials_error()
        if failure:
            return failure
        value = secrets.token_urlsafe(48)
        with lock:
            tokens[value] = time.time() + TOKEN_TTL
        return jsonify({"access_token": value, "expires_in": TOKEN_TTL})

    @app.get("/sns/jscode2session")
    def jscode2session():
        failure = faults.apply() or credentials_error()
        if failure:
            return failure
        code = request.args.get("js_code", "")
        if request.args.get("grant_type") != "authorization_code":
            return jsonify({"errcode": 40002, "errmsg": "invalid grant_type"})
        if not code or code == "invalid":
            return jsonify({"errcode": 40029, "errmsg": "invalid code"})
        if code == "expired":
            return jsonify({"errcode": 40163, "errmsg": "code been used"})
        session_key = base64.b64encode(hashlib.sha256(code.encode()).digest()[:16]).decode()
        return jsonify({"openid": f"sandbox-{code}"[:64], "session_key": session_key,
                        "unionid": f"union-{code}"[:64]})

    @app.post("/_control/reset")
    def reset():
        faults.reset()
        with lock:
            tokens.clear()
        return jsonify({"ok": True})

    return app
