"""`flask payments reconcile`: zero differences when the money story is whole, exit 1 when one is planted."""
from __future__ import annotations

import pytest

from bff.extensions import db
from tests.api import payment_helpers as pay
from tests.conftest import login
from tests.fakes import fill_slot


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(PAYMENT_MODE="online", RECONCILE_DIR=str(tmp_path / "reconciliation"))


def _a_day_of_business(app, client, clock):
    """A kept booking, one cancelled and refunded, one the HIS refused (refunded automatically)."""
    alice, bob, carol = (login(client, n) for n in ("alice", "bob", "carol"))
    pay.paid_booking(app, client, alice, clock)
    cancelled, _ = pay.paid_booking(app, client, bob, clock, days=2)
    client.post(f"/api/v1/appointments/{cancelled['id']}/cancel", headers=bob)
    refused, _ = pay.booked(client, carol, clock, days=3)
    payment = pay.start_payment(client, carol, refused["id"])
    memory_his = app.extensions["his"].adapter
    memory_his.fail_next("confirm_registration", times=2)  # the HIS is down for a while…
    pay.notify(client, pay.gateway(app).pay(payment["out_trade_no"]))
    pay.settle(app)
    with app.app_context():
        from bff.appointments.models import Appointment

        memory_his.unlock_slot(db.session.get(Appointment, refused["id"]).request_id)  # …and lets the hold go
        db.session.remove()
    fill_slot(memory_his, refused["schedule"]["id"], refused["slot"]["id"])  # the window took the place
    pay.settle(app)
    pay.refunds_complete(app, client)


def test_a_whole_day_reconciles_with_zero_differences(app, client, clock, tmp_path):
    _a_day_of_business(app, client, clock)
    pay.assert_money_holds(app)
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--date", clock().date().isoformat()])
    assert result.exit_code == 0, result.output
    assert "一致" in result.output and "差异" not in result.output
    folder = tmp_path / "reconciliation" / clock().date().isoformat()
    rows = (folder / "reconciliation.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("status,kind,gateway") and len(rows) > 6
    assert all(row.startswith("matched,") for row in rows[1:])


def test_a_planted_difference_exits_non_zero_and_is_named(app, client, clock):
    _a_day_of_business(app, client, clock)
    with app.app_context():
        from bff.payments.models import LedgerEntry, Payment

        payment = db.session.execute(db.select(Payment).where(Payment.status == "paid")).scalars().first()
        db.session.add(LedgerEntry(at=payment.paid_at, kind="refund", payment_id=payment.id, refund_id=999,
                                   gateway=payment.gateway, out_trade_no=payment.out_trade_no,
                                   out_refund_no="YR-PLANTED", amount=-1, order_type="appointment",
                                   order_id=payment.order_id))
        db.session.commit()
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--date", clock().date().isoformat()])
    assert result.exit_code == 1
    assert "missing_at_gateway" in result.output and "YR-PLANTED" in result.output


def test_the_daily_job_waits_for_the_morning_bills_then_reconciles_yesterday_once(app, client, clock, tmp_path):
    import datetime as dt
    import fcntl

    from bff.payments.reconcile import run_daily

    pay.paid_booking(app, client, login(client, "alice"), clock)
    day = clock().date()
    folder = tmp_path / "reconciliation" / day.isoformat()
    clock.set(clock().replace(hour=1) + dt.timedelta(days=1))  # past midnight: the bill is not there yet
    with app.app_context():
        assert run_daily() is None and not folder.exists()
        clock.set(clock().replace(hour=10, minute=5))
        folder.mkdir(parents=True)
        with open(folder / ".lock", "w") as other_worker:  # another BFF worker is reconciling the day
            fcntl.flock(other_worker, fcntl.LOCK_EX)
            assert run_daily() is None and not (folder / "summary.txt").exists()
        report = run_daily()
        assert report is not None and report.ok and report.date == day and (folder / "summary.txt").exists()
        assert run_daily() is None  # once a day


def _refused_refund(app, client, clock):
    """A cancelled booking whose refund the gateway refused for good: (refund id, staff admin headers)."""
    from bff.payments.models import Refund
    from bff.staff import service

    bob = login(client, "bob")
    cancelled, _ = pay.paid_booking(app, client, bob, clock)
    pay.gateway(app).refuse_refunds = "USER_ACCOUNT_ABNORMAL"
    client.post(f"/api/v1/appointments/{cancelled['id']}/cancel", headers=bob)
    pay.settle(app)
    with app.app_context():
        service.create("admin01", "管理员", ["admin"], "Admin#Pass2026")
        refund_id = db.session.execute(db.select(Refund.id)).scalar_one()
        db.session.remove()
    token = client.post("/api/v1/staff/login", json={"username": "admin01", "password": "Admin#Pass2026"})
    return refund_id, {"Authorization": "Bearer " + token.get_json()["token"]}


def _reconcile(app, clock):
    return app.test_cli_runner().invoke(args=["payments", "reconcile", "--date", clock().date().isoformat()])


def test_a_refund_refused_for_good_is_a_difference_until_it_is_paid_back_offline(app, client, clock, tmp_path):
    refund_id, admin = _refused_refund(app, client, clock)
    refused = _reconcile(app, clock)
    assert refused.exit_code == 1 and "refund_failed" in refused.output

    response = client.post(f"/api/v1/admin/refunds/{refund_id}/settle-offline", headers=admin,
                           json={"note": "银行转账退回"})
    assert response.status_code == 200
    pay.assert_money_holds(app)
    settled = _reconcile(app, clock)
    assert settled.exit_code == 0, settled.output
    assert "线下退款 ¥50.00" in settled.output
    rows = (tmp_path / "reconciliation" / clock().date().isoformat() / "reconciliation.csv").read_text(
        encoding="utf-8-sig").splitlines()
    assert any(row.startswith("matched,refunded_offline,") for row in rows)
