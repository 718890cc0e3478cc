"""Row operations that mean the same on PostgreSQL and SQLite: insert unless present, lock for update."""
from __future__ import annotations

from sqlalchemy import literal_column
from sqlalchemy.dialects import postgresql, sqlite

from bff.extensions import db


def insert_once(model, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING in the current transaction; True when this call inserted the row.

    One statement and no savepoint: cheaper than catching IntegrityError, and it never aborts the
    caller's transaction when the row is there already.
    """
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing()
    # RETURNING says whether a row went in (rowcount is not reliable for INSERT with every driver)
    return db.session.execute(statement.returning(literal_column("1"))).first() is not None


def lock(model, row_id) -> None:
    """Lock one row until the transaction ends (SELECT … FOR UPDATE; SQLite locks the whole file anyway).

    Every path that changes a payment together with something of its own (a refund, a notification)
    locks the payment first, so no two of them ever wait for each other in opposite orders.
    """
    db.session.execute(db.select(model.id).where(model.id == row_id).with_for_update())
