"""The baseline: a bare Flask app returning a small JSON dict, served by gunicorn like the BFF.

`gunicorn -c deploy/gunicorn.conf.py bench.bare_app:app`
"""
from flask import Flask, jsonify

app = Flask("bench.bare_app")


@app.get("/json")
def small_json():
    """A small JSON dict, about the size of a short catalog answer's envelope."""
    return jsonify({"items": [{"code": "0101", "name": "cardiology", "remaining": 12}], "stale": False})


@app.get("/healthz")
def healthz():
    """Readiness for the bench's start-up poll."""
    return jsonify({"status": "ok"})
