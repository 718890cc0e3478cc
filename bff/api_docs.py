"""Swagger UI at /api/docs from files the BFF serves itself (the flask-swagger-ui package's copy).

Hospital networks have no internet, and a page that loads scripts from a public CDN runs whatever
that CDN serves: the page, its scripts and the OpenAPI document all come from the BFF. In
production the page is off unless API_DOCS_ENABLED turns it on; /api/v1/openapi.json stays.
"""
from __future__ import annotations

import importlib.util
import os

from flask import Blueprint, Flask, abort, request, send_from_directory

STATIC_PATH = "/api/docs/static/"
_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png",
                    "favicon-16x16.png"})
# Same origin only; the page's own inline start-up script and Swagger UI's inline styles are allowed.
_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")


def enabled(config: dict) -> bool:
    """The page is on in development, and in production only when API_DOCS_ENABLED says so."""
    chosen = config.get("API_DOCS_ENABLED")
    if chosen is None:
        return str(config.get("ENV_NAME", "production")).strip().lower() == "development"
    return chosen if isinstance(chosen, bool) else str(chosen).strip().lower() in ("1", "true", "yes", "on")


def _dist_dir() -> str:
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed (requirements.txt): it ships Swagger UI's files")
    return os.path.join(list(spec.submodule_search_locations)[0], "dist")


def settings(config: dict) -> dict:
    """flask-smorest's settings: the page at /api/docs with same-origin files, or no page at all."""
    if not enabled(config):
        return {"OPENAPI_SWAGGER_UI_PATH": None, "OPENAPI_SWAGGER_UI_URL": None}
    return {"OPENAPI_SWAGGER_UI_PATH": "docs", "OPENAPI_SWAGGER_UI_URL": STATIC_PATH,
            # Swagger UI would otherwise offer to send the document to a public validator.
            "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None}}


def register(app: Flask) -> None:
    """Serve Swagger UI's files and keep the docs pages same-origin, when the page is on."""
    if not enabled(app.config):
        return
    directory = _dist_dir()
    blp = Blueprint("api_docs_static", __name__)

    @blp.get(STATIC_PATH + "<name>")
    def swagger_file(name: str):
        """One of Swagger UI's files."""
        if name not in _FILES:
            abort(404)
        return send_from_directory(directory, name, max_age=3600)

    @app.after_request
    def same_origin_only(response):
        if request.path.startswith("/api/docs"):
            response.headers["Content-Security-Policy"] = _CSP
        return response

    app.register_blueprint(blp)
