"""Row operations that mean the same on PostgreSQL and SQLite: insert unless present, lock for update,
change a status by compare-and-set."""
from __future__ import annotations

from sqlalchemy import literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

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


class StatusChanged(Exception):
    """Another transaction changed the row's status first: what we read is no longer true."""


def transition(row, to_status: str | None = None, allowed: dict[str, set[str]] | None = None, **values) -> None:
    """Compare-and-set: write values only while the row's status is still the one we read (caller commits).

    With to_status, the status changes too, and only along `allowed` (from → the statuses it may
    become; ValueError otherwise). StatusChanged when another transaction got there first.
    """
    model, from_status = type(row), row.status
    if to_status is not None:
        if to_status not in (allowed or {}).get(from_status, set()):
            raise ValueError(f"{model.__tablename__} transition {from_status} → {to_status} is not allowed")
        values = {"status": to_status, **values}
    result = db.session.execute(db.update(model).where(model.id == row.id, model.status == from_status)
                                .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise StatusChanged(f"{model.__tablename__} {row.id}")
    for key, value in values.items():  # already written by the UPDATE above: no second UPDATE
        set_committed_value(row, key, value)
