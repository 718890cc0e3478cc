"""The simulator's ``/_control/`` API (tests and ``make run`` only; the real service has none).

- ``GET  /_control/messages[?phone=]`` (``13800000000`` or ``+8613800000000``) → ``{"items": [{"phone",
  "template_id", "params", "text", "sent_at"}]}`` newest first; a verification code is ``params[0]``;
- ``POST /_control/limits {"thirty_seconds", "hour", "day"}`` messages one number may receive
  (omitted keys unchanged, ``{}`` answers them; reset restores 1, 5, 10);
- ``POST /_control/reset``; ``POST /_control/faults`` is the shared one (sandbox.faults).
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request

bp = Blueprint("sms_control", __name__, url_prefix="/_control")
# "+" in an unencoded query string arrives as a space.
_PHONE = re.compile(r"^(?:[+ ]?86)?(1\d{10})$")


def _sandbox():
    return current_app.extensions["sandbox_sms"]


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.get("/messages")
def messages():
    """Messages delivered (to one number if asked), newest first."""
    wanted = request.args.get("phone")
    phone = None
    if wanted:
        match = _PHONE.match(wanted)
        if match is None:
            return jsonify({"error": "phone: 11 digits, or +86 and 11 digits"}), 400
        phone = "+86" + match[1]
    return jsonify({"items": [m.as_json() for m in _sandbox().outbox.messages(phone)]})


@bp.post("/limits")
def limits():
    """Set how many messages one number may receive in 30 s, an hour, a day."""
    outbox = _sandbox().outbox
    try:
        outbox.limits.update(_body())
    except (TypeError, ValueError):
        return jsonify({"error": "limits are integers"}), 400
    return jsonify(outbox.limits.settings())


@bp.post("/reset")
def reset():
    """No messages, default limits, faults off (the account stays)."""
    box = _sandbox()
    box.outbox.reset()
    box.faults.reset()
    return jsonify({"ok": True})
