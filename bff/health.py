"""`/healthz` (the process lives) and `/readyz` (the database and the HIS answer)."""
import datetime as dt
import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from bff import outbox
from bff.extensions import db
from bff.his import current as current_his
from bff.his import features
from bff.his.port import HisError

log = logging.getLogger("bff.health")

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """Liveness: answers while the process runs."""
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz():
    """Readiness: 200 only when every dependency answers."""
    checks = {"database": _check_database(), "his": _check_his()}
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    breaker = getattr(current_his(), "state", None)
    if breaker:
        body["his_circuit"] = breaker
    if checks["database"] == "ok":
        body["outbox"] = _outbox_backlog()
    turned_off = features.off()
    if turned_off:  # configuration, not a fault: it does not make the BFF unready
        body["his_features_off"] = turned_off
    return jsonify(body), 200 if ready else 503


def _outbox_backlog() -> dict:
    """Work waiting in the outbox, for hospital IT (it does not make the BFF unready: retries catch up)."""
    pending, oldest = outbox.backlog()
    age = (dt.datetime.now(dt.UTC) - oldest).total_seconds() if oldest else 0.0
    return {"pending": pending, "oldest_seconds": round(age)}


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:  # readiness reports, it does not raise
        db.session.rollback()
        return f"error: {type(error).__name__}"


def _check_his() -> str:
    try:
        current_his().ping()
        return "ok"
    except HisError as error:
        return f"error: {error}"[:200]
    except Exception as error:  # a bug or an error the adapter let through: unready, not a 500
        log.error("readiness: the HIS ping raised %s", type(error).__name__, exc_info=error)
        return f"error: {type(error).__name__}"
