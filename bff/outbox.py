"""A transactional outbox: work that must happen after a commit, done at least once, with backoff.

A state change and the work it calls for (confirm a paid booking in the HIS, send a refund,
report usage to the health card platform) are written in ONE transaction: ``enqueue`` adds a
row to the caller's session, the caller commits both. A worker then runs each due row's
handler; a handler that raises is retried later with exponential backoff, forever (capped),
so a crash or an unreachable HIS delays the work but never loses it. Handlers must be
idempotent: a worker killed mid-way leaves its claim to expire and the row runs again.

Rows are claimed with a compare-and-set on ``lease_until``, so any number of workers (in-process
threads, Celery workers in several processes) may run ``run_due`` at once.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable

from flask import current_app
from tenacity import wait_exponential_jitter

from bff import rows
from bff.db_types import AwareDateTime
from bff.extensions import db
from bff.his.port import HisError
from payments.interface import PaymentError

log = logging.getLogger("bff.outbox")

_backoff = wait_exponential_jitter(multiplier=2, max=900, exp_base=2, jitter=2)  # seconds, capped at 15 min
_handlers: dict[str, Callable[[dict], None]] = {}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OutboxMessage(db.Model):
    __tablename__ = "outbox"

    id = db.Column(db.Integer, primary_key=True)
    topic = db.Column(db.String(40), nullable=False)
    key = db.Column(db.String(128), nullable=False, unique=True)  # the same work queued twice is one row
    payload = db.Column(db.Text, nullable=False, default="{}")
    status = db.Column(db.String(8), nullable=False, default="pending", index=True)  # pending / done
    attempts = db.Column(db.Integer, nullable=False, default=0)
    due_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow, index=True)
    lease_until = db.Column(AwareDateTime())
    last_error = db.Column(db.String(255))
    created_at = db.Column(AwareDateTime(), nullable=False, default=_utcnow)
    done_at = db.Column(AwareDateTime())


class Retry(Exception):
    """Raised by a handler that wants to run again later (the reason is recorded)."""


def handler(topic: str) -> Callable[[Callable[[dict], None]], Callable[[dict], None]]:
    """Register the function that does the work of a topic."""

    def register(fn: Callable[[dict], None]) -> Callable[[dict], None]:
        _handlers[topic] = fn
        return fn

    return register


def enqueue(topic: str, key: str, payload: dict | None = None, delay: dt.timedelta | None = None) -> None:
    """Add work to the current transaction; a key already queued is left as it is."""
    now = _utcnow()
    rows.insert_once(OutboxMessage, topic=topic, key=key, payload=json.dumps(payload or {}, ensure_ascii=False),
                     status="pending", attempts=0, due_at=now + (delay or dt.timedelta()), created_at=now)


def discard(key: str) -> None:
    """In the current transaction: the work queued under key is not needed any more."""
    db.session.execute(db.update(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.status == "pending")
                       .values(status="done", done_at=_utcnow(), last_error="discarded"))


def make_all_due() -> int:
    """Work waiting out a backoff after a failure is due now (the HIS answers again).

    Only rows that have failed before: a first run delayed on purpose (the cancel guard waits for
    any cancel still in flight) keeps its time.
    """
    count = db.session.execute(db.update(OutboxMessage).where(
        OutboxMessage.status == "pending", OutboxMessage.due_at > _utcnow(), OutboxMessage.attempts > 0)
        .values(due_at=_utcnow())).rowcount
    db.session.commit()
    return count


def kick() -> None:
    """After a commit that queued work: ask the worker to look now rather than at its next tick."""
    wake = current_app.extensions.get("outbox_wake")
    if wake is not None:
        wake()


def run_due(limit: int = 50) -> int:
    """Run the handlers of due rows; answers how many finished."""
    due = db.session.execute(
        db.select(OutboxMessage.id, OutboxMessage.lease_until)
        .where(OutboxMessage.status == "pending", OutboxMessage.due_at <= _utcnow(),
               db.or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < _utcnow()))
        .order_by(OutboxMessage.due_at).limit(limit)).all()
    db.session.rollback()
    finished = 0
    for message_id, seen_lease in due:
        lease = _claim(message_id, seen_lease)
        if lease is not None:
            finished += _run_one(message_id, lease)
    return finished


def backlog() -> tuple[int, dt.datetime | None]:
    """Rows not yet done, and when the oldest of them was queued (for /readyz)."""
    return tuple(db.session.execute(db.select(db.func.count(), db.func.min(OutboxMessage.created_at))
                                    .where(OutboxMessage.status == "pending")).one())


def pending_count() -> int:
    """Rows not yet done (for the CLI and tests)."""
    return backlog()[0]


def _lease() -> dt.timedelta:
    """How long a claim holds: longer than any handler takes (HIS and gateway calls time out sooner)."""
    return dt.timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def _claim(message_id: int, seen_lease: dt.datetime | None) -> dt.datetime | None:
    """Take a row for one run; the lease we hold, None when another worker took it first."""
    lease = OutboxMessage.lease_until.is_(None) if seen_lease is None else OutboxMessage.lease_until == seen_lease
    until = _utcnow() + _lease()
    claimed = db.session.execute(
        db.update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "pending", lease)
        .values(lease_until=until, attempts=OutboxMessage.attempts + 1)).rowcount == 1
    db.session.commit()
    return until if claimed else None


def _run_one(message_id: int, lease: dt.datetime) -> int:
    # Each message reads the rows it needs afresh: the session keeps objects across commits, and a
    # payment or refund seen by the previous message may have changed since.
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message_id)
    work = _handlers.get(message.topic)
    try:
        if work is None:
            raise Retry(f"no handler for topic {message.topic}")
        work(json.loads(message.payload))
    except Exception as error:  # any failure: keep the work, try again later
        db.session.rollback()
        _reschedule(message_id, lease, error)
        return 0
    # Only while our lease holds: a run that outlived it leaves the row to the worker that took it over.
    done = db.session.execute(db.update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                             OutboxMessage.lease_until == lease)
                              .values(status="done", done_at=_utcnow(), lease_until=None, last_error=None)).rowcount
    db.session.commit()
    if done != 1:
        log.warning("outbox %s %s outlived its lease: another worker runs it again", message.topic, message.key)
    return done


def _reschedule(message_id: int, lease: dt.datetime, error: Exception) -> None:
    message = db.session.get(OutboxMessage, message_id)
    delay = _backoff(_Attempt(message.attempts))
    reason = f"{type(error).__name__}: {error}"[:255]
    level = logging.WARNING if isinstance(error, (Retry, *_expected_errors())) else logging.ERROR
    log.log(level, "outbox %s %s failed (attempt %d), again in %.0fs: %s", message.topic, message.key,
            message.attempts, delay, reason, exc_info=level == logging.ERROR)
    db.session.execute(db.update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                      OutboxMessage.lease_until == lease).values(
        due_at=_utcnow() + dt.timedelta(seconds=delay), lease_until=None, last_error=reason))
    db.session.commit()


def _expected_errors() -> tuple[type[Exception], ...]:
    """Failures of the systems we wait for (HIS, gateways): retried quietly, without a traceback."""
    return (HisError, PaymentError)


class _Attempt:
    """The little of tenacity's RetryCallState its wait strategies read."""

    def __init__(self, attempt_number: int):
        self.attempt_number = max(1, attempt_number)

