"""Refunds that need a person: refused for good by the gateway, listed for admins, reissued or paid back offline."""
from __future__ import annotations

import pytest

from bff.extensions import db
from tests.api.payment_helpers import assert_money_holds, gateway, paid_booking, refunds_complete, settle

PASSWORD = "Admin#Pass2026"


@pytest.fixture
def app(make_app):
    return make_app(PAYMENT_MODE="online")


@pytest.fixture
def staff(app, client):
    """Log in as an admin or a registrar: their Authorization headers."""
    from bff.staff import service

    with app.app_context():
        service.create("admin01", "管理员", ["admin"], PASSWORD)
        service.create("reg01", "挂号员", ["registrar"], PASSWORD)
        db.session.remove()

    def as_(username):
        response = client.post("/api/v1/staff/login", json={"username": username, "password": PASSWORD})
        return {"Authorization": "Bearer " + response.get_json()["token"]}

    return as_


def refused_refund(app, client, alice, clock, code="NOT_ENOUGH"):
    """A paid booking cancelled while the gateway refuses refunds with code: (appointment, refund id)."""
    appointment, _ = paid_booking(app, client, alice, clock)
    gateway(app).refuse_refunds = code
    client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    settle(app)
    from bff.payments.models import Refund

    with app.app_context():
        refund_id = db.session.execute(db.select(Refund.id).order_by(Refund.id.desc())).scalars().first()
        db.session.remove()
    return appointment, refund_id


def _failed(client, headers):
    return client.get("/api/v1/admin/refunds?status=refund_failed", headers=headers).get_json()["items"]


def _audit(client, admin):
    return [(e["action"], e["detail"]) for e in client.get("/api/v1/staff/audit", headers=admin).get_json()["items"]]


def test_a_refused_refund_is_listed_for_admins_and_reissued_after_the_top_up(app, client, alice, clock, staff):
    appointment, refund_id = refused_refund(app, client, alice, clock)
    admin = staff("admin01")
    [item] = _failed(client, admin)
    assert item["id"] == refund_id and item["status"] == "refund_failed" and item["attempts"] == 1
    assert item["order_type"] == "appointment" and item["order_id"] == appointment["id"]
    assert item["amount"] == appointment["fee"] and item["refusal"] == "merchant_balance"
    assert "余额不足" in item["failure_reason"]

    gateway(app).refuse_refunds = None  # the merchant account was topped up
    response = client.post(f"/api/v1/admin/refunds/{refund_id}/reissue", headers=admin)
    assert response.status_code == 200 and response.get_json()["status"] == "pending"
    settle(app)
    refunds_complete(app, client)
    assert _failed(client, admin) == []
    shown = client.get(f"/api/v1/appointments/{appointment['id']}", headers=alice).get_json()
    assert shown["status"] == "refunded" and shown["payment"]["status"] == "refunded"
    actions = [action for action, _ in _audit(client, admin)]
    assert "refund_reissue" in actions and actions[0] == "refunds_read"  # the desk's reads are audited too
    assert_money_holds(app)


def test_a_refund_paid_back_offline_is_recorded_with_who_and_why_and_balances(app, client, alice, clock, staff):
    from bff.payments.models import LedgerEntry

    appointment, refund_id = refused_refund(app, client, alice, clock, "TRADE_OVERDUE")
    admin = staff("admin01")
    assert _failed(client, admin)[0]["refusal"] == "trade_too_old"
    response = client.post(f"/api/v1/admin/refunds/{refund_id}/settle-offline", headers=admin,
                           json={"note": "窗口现金退还，收据 No.8812"})
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "refunded_offline"
    assert body["settled_note"] == "窗口现金退还，收据 No.8812" and body["settled_by"] is not None
    assert _audit(client, admin)[0] == ("refund_offline", f"refund {refund_id} {body['out_refund_no']} "
                                        f"{appointment['fee']} fen: 窗口现金退还，收据 No.8812")
    shown = client.get(f"/api/v1/appointments/{appointment['id']}", headers=alice).get_json()
    assert shown["status"] == "refunded" and shown["payment"]["status"] == "refunded"
    with app.app_context():
        kinds = [tuple(r) for r in db.session.execute(db.select(LedgerEntry.kind, LedgerEntry.amount)
                                                      .order_by(LedgerEntry.id))]
        db.session.remove()
    assert kinds == [("capture", appointment["fee"]), ("offline", -appointment["fee"])]
    assert_money_holds(app)
    again = client.post(f"/api/v1/admin/refunds/{refund_id}/reissue", headers=admin)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "REFUND_NOT_FAILED"


def test_only_admins_may_see_or_act_on_refunds(app, client, alice, clock, staff):
    _, refund_id = refused_refund(app, client, alice, clock)
    registrar = staff("reg01")
    for method, path, body in (("GET", "/api/v1/admin/refunds", None),
                               ("POST", f"/api/v1/admin/refunds/{refund_id}/reissue", None),
                               ("POST", f"/api/v1/admin/refunds/{refund_id}/settle-offline", {"note": "x"})):
        assert client.open(path, method=method, headers=registrar, json=body).status_code == 403
        assert client.open(path, method=method, headers=alice, json=body).status_code == 401
    assert _failed(client, staff("admin01"))[0]["status"] == "refund_failed"  # nothing was changed
    missing = client.post("/api/v1/admin/refunds/9999/reissue", headers=staff("admin01"))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "REFUND_NOT_FOUND"


def test_a_refund_abnormal_at_the_bank_is_reissued_under_a_new_number(app, client, alice, clock, staff):
    from payments.interface import RefundState
    from tests.api.payment_helpers import notify

    appointment, _ = paid_booking(app, client, alice, clock)
    client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    settle(app)
    dummy = gateway(app)
    for out_refund_no in dummy.settle_refunds(RefundState.FAILED):  # the payer's card was closed (ABNORMAL)
        notify(client, dummy.refund_notification(out_refund_no))
    admin = staff("admin01")
    [item] = _failed(client, admin)
    assert item["refusal"] == "account_abnormal"
    reissued = client.post(f"/api/v1/admin/refunds/{item['id']}/reissue", headers=admin).get_json()
    assert reissued["out_refund_no"] != item["out_refund_no"]  # the gateway ended the old number
    settle(app)
    refunds_complete(app, client)
    assert client.get(f"/api/v1/appointments/{appointment['id']}", headers=alice).get_json()["status"] == "refunded"
    assert_money_holds(app)


def test_a_failed_refund_the_gateway_paid_after_all_is_not_paid_again_offline(app, client, alice, clock, staff):
    from dataclasses import replace

    from payments.interface import RefundState
    from tests.api.payment_helpers import notify

    appointment, _ = paid_booking(app, client, alice, clock)
    client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=alice)
    settle(app)
    dummy = gateway(app)
    [number] = dummy.settle_refunds(RefundState.FAILED)  # ABNORMAL at the bank…
    notify(client, dummy.refund_notification(number))
    for trade in dummy._trades.values():  # …then handled in the merchant platform: the money went back
        if number in trade.refunds:
            trade.refunds[number] = replace(trade.refunds[number], state=RefundState.SUCCEEDED)
    admin = staff("admin01")
    [item] = _failed(client, admin)
    response = client.post(f"/api/v1/admin/refunds/{item['id']}/settle-offline", headers=admin,
                           json={"note": "窗口现金退还"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "REFUND_NOT_FAILED"
    assert _failed(client, admin) == []  # recorded as refunded by the gateway, not paid a second time
    assert client.get(f"/api/v1/appointments/{appointment['id']}", headers=alice).get_json()["status"] == "refunded"
    assert_money_holds(app)
