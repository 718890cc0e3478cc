"""Connection pool health: ping a pooled connection before use only when it has sat idle.

SQLAlchemy's `pool_pre_ping` pings on every checkout, a database round trip per transaction.
What it guards against (a database restart, a firewall dropping idle connections) strikes
connections that have been idle; one handed back a moment ago is alive. So a connection idle
for longer than `idle_seconds` is pinged, and a dead one is replaced before the request sees
it. A connection that dies while in use fails that request as it would with pre-ping too, and
SQLAlchemy then discards every pooled connection older than the failure.
"""
from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

_RETURNED_AT = "yiqiao_returned_at"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Install the idle-only ping on `engine`'s pool."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # a new connection, or one in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error
        if not alive:
            raise exc.DisconnectionError("idle connection failed its ping")
