"""Outpatient fees: list from the HIS, settle the chosen ones by one payment, refund when the HIS refuses."""
from __future__ import annotations

import pytest

from tests.api.payment_helpers import assert_money_holds, gateway, notify, refunds_complete, settle
from tests.conftest import add_patient, login


@pytest.fixture
def patient(client, alice):
    return add_patient(client, alice)


@pytest.fixture
def bills(memory_his, patient):
    return [memory_his.add_bill(patient["his_patient_id"], "处方（西药）", 3650),
            memory_his.add_bill(patient["his_patient_id"], "检验：血常规", 2500),
            memory_his.add_bill(patient["his_patient_id"], "检查：胸部CT", 18000)]


def _settle_and_pay(app, client, headers, patient, bill_ids, channel="alipay"):
    order = client.post("/api/v1/bills/settlements", headers=headers,
                        json={"patient_id": patient["id"], "bill_ids": bill_ids})
    assert order.status_code == 201, order.get_json()
    order = order.get_json()
    extra = {"payer_id": "2088102000000001"} if channel == "alipay" else {}
    payment = client.post("/api/v1/payments", headers=headers, json={
        "order_type": "bills", "order_id": order["id"], "channel": channel, **extra})
    assert payment.status_code == 201, payment.get_json()
    return order, payment.get_json()


def test_pending_bills_are_listed_with_their_items_in_fen(client, alice, patient, bills):
    items = client.get(f"/api/v1/bills?patient_id={patient['id']}", headers=alice).get_json()["items"]
    assert [b["id"] for b in items] == bills
    assert [b["amount"] for b in items] == [3650, 2500, 18000]
    assert all(b["items"] and sum(i["amount"] for i in b["items"]) == b["amount"] for b in items)


def test_paying_chosen_bills_settles_them_in_the_his_with_a_receipt(app, client, alice, patient, bills):
    order, payment = _settle_and_pay(app, client, alice, patient, bills[:2])
    assert order["amount"] == 3650 + 2500 and order["status"] == "pending"
    assert payment["amount"] == order["amount"] and payment["channel"] == "alipay"
    dummy = gateway(app, "alipay")
    assert notify(client, dummy.pay(payment["out_trade_no"]), "alipay").status_code == 204
    settle(app)
    shown = client.get(f"/api/v1/bills/settlements/{order['id']}", headers=alice).get_json()
    assert shown["status"] == "settled" and shown["receipt_no"] and shown["payment"]["status"] == "paid"
    left = client.get(f"/api/v1/bills?patient_id={patient['id']}", headers=alice).get_json()["items"]
    assert [b["id"] for b in left] == bills[2:]
    assert_money_holds(app)


def test_a_bill_paid_at_the_window_meanwhile_is_refunded(app, client, alice, patient, bills, memory_his):
    order, payment = _settle_and_pay(app, client, alice, patient, bills[:1])
    memory_his.pay_bill_at_window(bills[0])
    dummy = gateway(app, "alipay")
    notify(client, dummy.pay(payment["out_trade_no"]), "alipay")
    settle(app)
    refunds_complete(app, client, "alipay", "alipay")
    shown = client.get(f"/api/v1/bills/settlements/{order['id']}", headers=alice).get_json()
    assert shown["status"] == "refunded" and "已在医院缴纳" in shown["failure_reason"]
    assert shown["payment"]["refunded"] == order["amount"]
    assert_money_holds(app)


def test_choosing_a_bill_that_is_no_longer_pending_is_409(client, alice, patient, bills, memory_his):
    memory_his.pay_bill_at_window(bills[1])
    response = client.post("/api/v1/bills/settlements", headers=alice,
                           json={"patient_id": patient["id"], "bill_ids": bills[:2]})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "BILL_NOT_PENDING"
    assert response.get_json()["error"]["details"]["bill_ids"] == [bills[1]]


def test_another_users_bills_and_settlements_are_404(app, client, alice, patient, bills):
    bob = login(client, "bob")
    assert client.get(f"/api/v1/bills?patient_id={patient['id']}", headers=bob).status_code == 404
    order, _ = _settle_and_pay(app, client, alice, patient, bills[:1])
    assert client.get(f"/api/v1/bills/settlements/{order['id']}", headers=bob).status_code == 404
    response = client.post("/api/v1/payments", headers=bob, json={
        "order_type": "bills", "order_id": order["id"], "channel": "wechat"})
    assert response.status_code == 404


def test_alipay_needs_the_payers_alipay_id(client, alice, patient, bills):
    order = client.post("/api/v1/bills/settlements", headers=alice,
                        json={"patient_id": patient["id"], "bill_ids": bills[:1]}).get_json()
    response = client.post("/api/v1/payments", headers=alice, json={
        "order_type": "bills", "order_id": order["id"], "channel": "alipay"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "PAYER_REQUIRED"


# -- 退费: a settled order refunded through the HIS --------------------------------------------------

STAFF_PASSWORD = "Staff#Pass2026"


def _staff(app, client, username, role):
    from bff.extensions import db
    from bff.staff import service

    with app.app_context():
        service.create(username, f"测试{role}", [role], STAFF_PASSWORD)
        db.session.remove()
    token = client.post("/api/v1/staff/login", json={"username": username, "password": STAFF_PASSWORD})
    return {"Authorization": "Bearer " + token.get_json()["token"]}


def _settled(app, client, alice, patient, bill_ids):
    order, payment = _settle_and_pay(app, client, alice, patient, bill_ids)
    notify(client, gateway(app, "alipay").pay(payment["out_trade_no"]), "alipay")
    settle(app)
    return order, payment


def test_a_registrar_refunds_a_settled_order_through_the_his_and_the_day_reconciles(
        app, client, alice, patient, bills, memory_his, tmp_path):
    order, payment = _settled(app, client, alice, patient, bills[:2])
    registrar = _staff(app, client, "reg01", "registrar")
    response = client.post(f"/api/v1/admin/bill-settlements/{order['id']}/refund", headers=registrar,
                           json={"reason": "检查取消，患者要求退费"})
    assert response.status_code == 200 and response.get_json()["status"] == "refunding"
    settle(app)
    refunds_complete(app, client, "alipay", "alipay")
    shown = client.get(f"/api/v1/bills/settlements/{order['id']}", headers=alice).get_json()
    assert shown["status"] == "refunded" and shown["payment"]["refunded"] == 3650 + 2500
    day = memory_his.now().date()
    assert [(r.kind, r.trade_no, r.amount) for r in memory_his.list_payment_records(day)] == [
        ("bills", payment["out_trade_no"], 6150), ("bills", payment["out_trade_no"], -6150)]
    assert_money_holds(app)
    again = client.post(f"/api/v1/admin/bill-settlements/{order['id']}/refund", headers=registrar,
                        json={"reason": "重复点击"})
    assert again.status_code == 200 and again.get_json()["status"] == "refunded"  # nothing refunded twice
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--date", day.isoformat(),
                                                "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "HIS 退费 ¥61.50" in result.output


def test_a_dispensed_bill_is_not_refunded_and_nothing_moves(app, client, alice, patient, bills, memory_his):
    order, _ = _settled(app, client, alice, patient, bills[:1])
    memory_his.execute_bill(bills[0])
    registrar = _staff(app, client, "reg01", "registrar")
    response = client.post(f"/api/v1/admin/bill-settlements/{order['id']}/refund", headers=registrar,
                           json={"reason": "患者要求"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "BILL_REFUND_REFUSED"
    shown = client.get(f"/api/v1/bills/settlements/{order['id']}", headers=alice).get_json()
    assert shown["status"] == "settled" and shown["payment"]["status"] == "paid"
    assert_money_holds(app)


def test_only_admins_and_registrars_refund_and_only_settled_orders(app, client, alice, patient, bills):
    order, _ = _settle_and_pay(app, client, alice, patient, bills[:1])  # not paid yet
    path = f"/api/v1/admin/bill-settlements/{order['id']}/refund"
    assert client.post(path, headers=alice, json={"reason": "x"}).status_code == 401
    assert client.post(path, headers=_staff(app, client, "nurse01", "nurse"), json={"reason": "x"}).status_code == 403
    response = client.post(path, headers=_staff(app, client, "admin01", "admin"), json={"reason": "x"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "SETTLEMENT_NOT_REFUNDABLE"
