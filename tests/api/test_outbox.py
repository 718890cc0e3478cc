"""The transactional outbox: work committed with its cause, run once, retried with backoff, never lost."""
from __future__ import annotations

import datetime as dt

import pytest

from bff import outbox
from bff.extensions import db

calls: list[dict] = []
failures: list[Exception] = []


@outbox.handler("test_probe")
def _probe(payload: dict) -> None:
    if failures:
        raise failures.pop(0)
    calls.append(payload)


@pytest.fixture(autouse=True)
def _clean():
    calls.clear()
    failures.clear()


def _row(key):
    return db.session.execute(db.select(outbox.OutboxMessage).where(outbox.OutboxMessage.key == key)).scalar_one()


def test_work_queued_in_a_rolled_back_transaction_never_runs(app):
    with app.app_context():
        outbox.enqueue("test_probe", "k-rollback", {"n": 1})
        db.session.rollback()
        assert outbox.run_due() == 0 and calls == []


def test_the_same_key_twice_is_one_piece_of_work(app):
    with app.app_context():
        outbox.enqueue("test_probe", "k-once", {"n": 1})
        outbox.enqueue("test_probe", "k-once", {"n": 2})
        db.session.commit()
        outbox.enqueue("test_probe", "k-once", {"n": 3})
        db.session.commit()
        assert outbox.run_due() == 1 and calls == [{"n": 1}]
        assert outbox.run_due() == 0


def test_a_failing_handler_is_retried_later_with_growing_waits(app):
    with app.app_context():
        failures.extend([RuntimeError("HIS down"), RuntimeError("still down")])
        outbox.enqueue("test_probe", "k-retry", {"n": 1})
        db.session.commit()
        assert outbox.run_due() == 0
        first = _row("k-retry")
        assert first.attempts == 1 and first.last_error == "RuntimeError: HIS down"
        wait_1 = first.due_at - dt.datetime.now(dt.UTC)
        assert outbox.run_due() == 0  # not due yet: nothing runs
        db.session.execute(db.update(outbox.OutboxMessage).values(due_at=dt.datetime.now(dt.UTC)))
        db.session.commit()
        assert outbox.run_due() == 0
        wait_2 = _row("k-retry").due_at - dt.datetime.now(dt.UTC)
        assert dt.timedelta(seconds=1) < wait_1 < wait_2
        db.session.execute(db.update(outbox.OutboxMessage).values(due_at=dt.datetime.now(dt.UTC)))
        db.session.commit()
        assert outbox.run_due() == 1 and calls == [{"n": 1}]
        assert _row("k-retry").status == "done" and outbox.pending_count() == 0


def test_work_claimed_by_another_worker_is_left_to_it_until_its_lease_ends(app):
    with app.app_context():
        outbox.enqueue("test_probe", "k-lease", {"n": 1})
        db.session.commit()
        db.session.execute(db.update(outbox.OutboxMessage).values(
            lease_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)))  # a worker is on it
        db.session.commit()
        assert outbox.run_due() == 0 and calls == []
        db.session.execute(db.update(outbox.OutboxMessage).values(
            lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))  # …and died
        db.session.commit()
        assert outbox.run_due() == 1 and calls == [{"n": 1}]


@outbox.handler("test_slow")
def _slow(payload: dict) -> None:
    """A run that outlives its lease: meanwhile another worker took the row over (a new lease)."""
    db.session.execute(db.update(outbox.OutboxMessage).where(outbox.OutboxMessage.key == payload["key"]).values(
        lease_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)))
    db.session.commit()
    calls.append(payload)


def test_a_run_that_outlived_its_lease_leaves_the_row_to_the_worker_that_took_over(app):
    with app.app_context():
        outbox.enqueue("test_slow", "k-slow", {"key": "k-slow"})
        db.session.commit()
        assert outbox.run_due() == 0 and len(calls) == 1
        row = _row("k-slow")
        assert row.status == "pending" and row.lease_until > dt.datetime.now(dt.UTC)  # still the other's
