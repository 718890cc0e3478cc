"""Fault knobs every simulator shares: latency, error rate, down (`POST /_control/faults`)."""
from __future__ import annotations

import random
import threading
import time

from flask import jsonify, request


class Faults:
    """Thread-safe fault settings applied to a simulator's protocol endpoints."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to a healthy simulator."""
        with self._lock:
            self.latency_ms, self.error_rate, self.down = 0, 0.0, False

    def update(self, changes: dict) -> dict:
        """Apply the keys given, leave the others; answer the current settings."""
        with self._lock:
            if "latency_ms" in changes:
                self.latency_ms = max(0, int(changes["latency_ms"]))
            if "error_rate" in changes:
                self.error_rate = min(1.0, max(0.0, float(changes["error_rate"])))
            if "down" in changes:
                self.down = bool(changes["down"])
            return self.settings()

    def settings(self) -> dict:
        """The current settings."""
        return {"latency_ms": self.latency_ms, "error_rate": self.error_rate, "down": self.down}

    def verdict(self) -> str | None:
        """"down" or "error" when this call must fail (after the latency), else None."""
        if self.down:
            return "down"
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if self.error_rate and random.random() < self.error_rate:
            return "error"
        return None


def register_fault_routes(app, faults: Faults) -> None:
    """Mount `POST /_control/faults` on a simulator app."""

    @app.post("/_control/faults")
    def _faults():
        return jsonify(faults.update(request.get_json(silent=True) or {}))
