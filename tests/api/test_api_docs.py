"""The API docs page loads nothing from outside the BFF (hospital networks have no internet)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


def _same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/")


def test_the_docs_page_references_only_files_the_bff_serves(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    references = _references(html)
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in references)
    assert all(_same_origin(ref) for ref in references), references
    for ref in references:
        served = client.get(ref)
        assert served.status_code == 200 and len(served.get_data()) > 1000, ref
    # The browser is told so as well: nothing but this origin, whatever a script would fetch.
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "unpkg" not in html and "cdn" not in html.lower()


def test_only_swagger_ui_files_are_served_from_the_package(client):
    assert client.get("/api/docs/static/LICENSE").status_code == 404
    assert client.get("/api/docs/static/..%2F__init__.py").status_code == 404


def test_the_docs_page_is_off_where_turned_off(make_app):
    client = make_app(API_DOCS_ENABLED=False).test_client()
    assert client.get("/api/docs").status_code == 404
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 404
    assert client.get("/api/v1/openapi.json").status_code == 200
