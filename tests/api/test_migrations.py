"""Migrations: a database at an earlier release is brought up to date with its data whole."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.api.payment_helpers import paid_booking, refunds_complete, settle


@pytest.fixture
def app(make_app):
    return make_app(PAYMENT_MODE="online")


def upgrade_from_0005_keeps_the_money_story(app, client, headers, clock) -> None:
    """Pay a booking and cancel another (refunded), step the database back to 0005 (the last release
    without trade numbers), upgrade again: orders learn their trade, nothing else moves."""
    from flask_migrate import downgrade, upgrade

    from bff.extensions import db

    kept, paid = paid_booking(app, client, headers, clock)
    cancelled, _ = paid_booking(app, client, headers, clock, days=2)
    client.post(f"/api/v1/appointments/{cancelled['id']}/cancel", headers=headers)
    settle(app)
    refunds_complete(app, client)

    def counts():
        tables = ("payments", "refunds", "ledger_entries", "payment_notifications", "outbox")
        return {t: db.session.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar() for t in tables}

    with app.app_context():
        before = counts()
        db.session.remove()
        downgrade(directory="migrations", revision="0005")
        upgrade(directory="migrations")
        assert counts() == before
        trade_nos = dict(db.session.execute(sa.text("SELECT id, trade_no FROM appointments")).all())
        assert trade_nos[kept["id"]] == paid["out_trade_no"] and trade_nos[cancelled["id"]]
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.session.remove()
    shown = client.get(f"/api/v1/appointments/{kept['id']}", headers=headers).get_json()
    assert shown["status"] == "confirmed" and shown["payment"]["status"] == "paid"


def test_a_database_at_0005_upgrades_with_its_payments_whole(app, client, alice, clock):
    upgrade_from_0005_keeps_the_money_story(app, client, alice, clock)
