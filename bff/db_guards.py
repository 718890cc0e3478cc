"""Database-side guards for append-only tables (the ledger, the staff audit log), used by migrations.

The application never updates or deletes such rows; these triggers make the database refuse it
too, whoever asks — a bug, a hand-written query, a script.
"""
from __future__ import annotations


def append_only(table: str, dialect: str) -> list[str]:
    """The statements that make `table` refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL)."""
    message = f"{table} is append-only"
    if dialect == "postgresql":
        return [f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql",
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"]
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END" for verb in ("UPDATE", "DELETE")]
    return []


def drop_append_only(table: str, dialect: str) -> list[str]:
    """Undo append_only (the SQLite triggers go with their table)."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
                f"DROP FUNCTION IF EXISTS {table}_append_only()"]
    return []
