"""A throwaway PostgreSQL schema per app under test, so parallel runs never share tables."""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def fresh_schema(prefix: str = "yiqiao_t_") -> Iterator[tuple[str, str]]:
    """(schema, database URL whose search_path is it); the schema and everything in it dropped after."""
    schema = prefix + uuid.uuid4().hex[:10]
    admin = sa.create_engine(DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield schema, f"{DATABASE_URL}?options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def dispose(app) -> None:
    """Close the app's pooled connections (before its schema is dropped)."""
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
