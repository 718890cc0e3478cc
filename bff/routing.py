"""URL converters: a path id that cannot exist is a 404 before any query is made.

PostgreSQL integers stop at 2^31 - 1; a larger id reached the database and failed there (a 500).
Text ids (appointments, settlements, schedules) are short and printable; a NUL byte or a
kilobyte of text is refused by the router the same way.
"""
from __future__ import annotations

from werkzeug.routing import IntegerConverter, UnicodeConverter

MAX_INT_ID = 2**31 - 1
MAX_TEXT_ID = 64


class IdConverter(IntegerConverter):
    """`<int:…>`: a positive id that fits a PostgreSQL integer, else no route matches (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 -- werkzeug's parameter name
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_INT_ID)
        super().__init__(map, *args, **kwargs)


class TextIdConverter(UnicodeConverter):
    """`<name>`: 1..64 printable characters without a slash."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 -- werkzeug's parameter name
        super().__init__(map, *args, **kwargs)
        self.regex = rf"[^/\x00-\x1f\x7f]{{1,{MAX_TEXT_ID}}}"


def install(app) -> None:
    """Make these the converters of every route (before any blueprint is registered)."""
    app.url_map.converters.update({"int": IdConverter, "default": TextIdConverter, "string": TextIdConverter})
