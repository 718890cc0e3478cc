"""The simulator's ``/_control/`` API (tests and ``make run`` only; the real platform has none).

- ``GET  /_control/reports[?scene=&hospital_id=&card_channel=]`` → ``{"items": [...]}`` usage reports;
- ``GET  /_control/bindings`` → ``{"items": [...]}``; ``GET /_control/stats`` → counts;
- ``POST /_control/expire {"qr_code_text"}`` expires a dynamic code now (404 when there is none);
- ``POST /_control/tokens/expire {"app_id"?}`` makes live app tokens expire now → ``{"expired"}``;
- ``POST /_control/tokens/ttl {"seconds"}`` sets the lifetime of tokens issued from now on;
- ``POST /_control/health-codes {"health_card_id"}`` → ``{"health_code"}``, as the card plug-in gives;
- ``POST /_control/faults {"latency_ms", "error_rate", "down"}``, ``POST /_control/reset``.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from sandbox.healthcard.results import PlatformError

bp = Blueprint("healthcard_control", __name__, url_prefix="/_control")
REPORT_FILTERS = ("scene", "hospital_id", "card_channel")


def _sandbox():
    return current_app.extensions["sandbox_healthcard"]


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.get("/reports")
def reports():
    """Usage reports received, oldest first, optionally filtered."""
    wanted = {k: request.args[k] for k in REPORT_FILTERS if request.args.get(k)}
    items = [r for r in _sandbox().platform.reports() if all(r[k] == v for k, v in wanted.items())]
    return jsonify({"items": items})


@bp.get("/bindings")
def bindings():
    """Card-to-HIS-patient bindings."""
    return jsonify({"items": _sandbox().platform.bindings()})


@bp.get("/stats")
def stats():
    """Counts of cards, codes, bindings, reports and app-token fetches."""
    return jsonify(_sandbox().platform.stats())


@bp.post("/expire")
def expire():
    """Expire one dynamic code now."""
    text = _body().get("qr_code_text")
    if not isinstance(text, str) or not text:
        return jsonify({"error": "qr_code_text required"}), 400
    if not _sandbox().platform.revoke(text):
        return jsonify({"error": "no such dynamic code"}), 404
    return jsonify({"ok": True})


@bp.post("/tokens/expire")
def expire_tokens():
    """Make the live app tokens (of app_id, or all) expire now."""
    platform = _sandbox().platform
    return jsonify({"expired": platform.expire_tokens(_body().get("app_id"), platform.clock())})


@bp.post("/tokens/ttl")
def token_ttl():
    """Lifetime in seconds of the tokens issued from now on (reset restores the default)."""
    try:
        seconds = int(_body()["seconds"])
    except (KeyError, TypeError, ValueError):
        return jsonify({"error": "seconds required"}), 400
    _sandbox().platform.token_ttl = max(0, seconds)
    return jsonify({"seconds": max(0, seconds)})


@bp.post("/health-codes")
def health_codes():
    """A one-time health code for a card."""
    platform = _sandbox().platform
    try:
        code = platform.issue_health_code(str(_body().get("health_card_id") or ""), platform.clock())
    except PlatformError as exc:
        return jsonify({"error": exc.message}), 404
    return jsonify({"health_code": code}), 201


@bp.post("/faults")
def faults():
    """Set latency_ms, error_rate, down; ``{}`` answers the current settings."""
    return jsonify(_sandbox().faults.update(_body()))


@bp.post("/reset")
def reset():
    """Back to an empty platform with faults off (the apps stay)."""
    box = _sandbox()
    box.platform.reset()
    box.faults.reset()
    return jsonify({"ok": True})
