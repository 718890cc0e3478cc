"""Outpatient bills (门诊缴费) of the in-memory HIS: pending fees, their settlement, the daily payments report."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bff.his import port
from bff.his.adapters.memory_state import DEPARTMENTS, _Bill, _operation
from bff.his.port import HOSPITAL_TZ, HisRejected


class BillsMixin:
    """Mixed into MemoryHis (which has ``_lock``, ``_s``, ``now`` and ``_record``)."""

    def add_bill(self, his_patient_id: str, title: str, amount: int, items: Sequence[port.BillItem] = (),
                 department: str = "", doctor_name: str = "") -> str:
        """Add a pending fee like the sandbox's /_control/bills; items default to one line named by title."""
        with self._lock:
            if not any(p.his_patient_id == his_patient_id for p in self._s.patients.values()):
                raise ValueError(f"unknown patient {his_patient_id}")
            items = tuple(items) or (port.BillItem(_item_name(title), amount, "1次", _category(title)),)
            if amount <= 0 or sum(i.amount for i in items) != amount:
                raise ValueError("amount must be positive and the sum of the items")
            last = max((r for r in self._s.registrations.values() if r.his_patient_id == his_patient_id),
                       key=lambda r: r.registration_id, default=None)
            sched = self._s.schedules[last.schedule_id] if last else None
            dept = next((d.name for d in DEPARTMENTS if sched and d.code == sched.department_code), "门诊部")
            bill_id = f"FY{len(self._s.bills) + 1:08d}"
            self._s.bills[bill_id] = _Bill(port.Bill(
                bill_id, his_patient_id, title, department or dept, amount, self.now(), items,
                doctor_name or (sched.doctor.name if sched else "")))
            return bill_id

    def cancel_bill(self, bill_id: str) -> None:
        """The doctor withdrew the order (作废): the bill is no longer payable."""
        with self._lock:
            self._s.bills[bill_id].state = "cancelled"

    def pay_bill_at_window(self, bill_id: str) -> None:
        """The patient paid this bill at the hospital's window (not through us)."""
        with self._lock:
            self._s.bills[bill_id].state = "paid"

    @_operation
    def list_pending_bills(self, his_patient_id: str) -> list[port.Bill]:
        """Unpaid, not cancelled bills of a patient, oldest first."""
        if not any(p.his_patient_id == his_patient_id for p in self._s.patients.values()):
            raise HisRejected(port.PATIENT_INVALID, "患者档案不存在", "102")
        return [b.bill for b in self._s.bills.values()
                if b.bill.his_patient_id == his_patient_id and b.state == "pending"]

    @_operation
    def settle_bills(self, request_id: str, his_patient_id: str, bill_ids: list[str], trade_no: str,
                     amount: int) -> port.BillSettlement:
        """Mark the bills paid by trade_no; the same request_id again answers the same settlement."""
        done = self._s.settlements.get(request_id)
        if done:
            return done
        ids = list(dict.fromkeys(bill_ids))
        if not ids or not trade_no:
            raise HisRejected(port.REJECTED, "缺少缴费单号或支付流水号", "901")
        bills = [self._s.bills.get(i) for i in ids]
        if any(b is None or b.bill.his_patient_id != his_patient_id for b in bills):
            raise HisRejected(port.NOT_FOUND, "缴费单不存在", "101")
        if any(b.state == "paid" for b in bills):
            raise HisRejected(port.BILL_PAID, "缴费单已缴费，请勿重复缴费", "501")
        if any(b.state == "cancelled" for b in bills) or sum(b.bill.amount for b in bills) != amount:
            raise HisRejected(port.BILL_CHANGED, "缴费单已变更，请刷新后重新缴费", "502")
        for b in bills:
            b.state = "paid"
        seq = len(self._s.settlements) + 1
        now = self.now()
        done = port.BillSettlement(f"JS{seq:08d}", request_id, his_patient_id, tuple(ids), amount,
                                   f"MZ{now:%Y%m%d}{seq:06d}", trade_no, now)
        self._s.settlements[request_id] = done
        self._record("bills", done.settlement_id, trade_no, amount, "paid")
        return done

    @_operation
    def query_settlement(self, request_id: str) -> port.BillSettlement | None:
        """The settlement committed for request_id, or None."""
        return self._s.settlements.get(request_id)

    # -- 退费 (refund_bill) --

    def execute_bill(self, bill_id: str) -> None:
        """The medicine was dispensed or the test done (已发药/已执行): the bill can no longer be refunded."""
        with self._lock:
            self._s.bills[bill_id].state = "executed"

    @_operation
    def refund_bill(self, request_id: str, settlement_id: str, bill_ids: list[str],
                    reason: str = "") -> port.BillRefund:
        """Refund settled bills of one settlement; the same request_id again answers the same refund."""
        done = self._s.bill_refunds.get(request_id)
        if done:
            return done
        settlement = next((s for s in self._s.settlements.values() if s.settlement_id == settlement_id), None)
        ids = list(dict.fromkeys(bill_ids))
        if settlement is None or not ids or any(i not in settlement.bill_ids for i in ids):
            raise HisRejected(port.NOT_FOUND, "结算记录或缴费单不存在", "101")
        if any(self._s.bills[i].state != "paid" for i in ids):
            raise HisRejected(port.BILL_NOT_REFUNDABLE, "缴费单已发药、已执行或已退费，不能退费", "503")
        for i in ids:
            self._s.bills[i].state = "refunded"
        amount = sum(self._s.bills[i].bill.amount for i in ids)
        done = port.BillRefund(f"TF{len(self._s.bill_refunds) + 1:08d}", request_id, settlement_id, tuple(ids),
                               amount, settlement.trade_no, self.now())
        self._s.bill_refunds[request_id] = done
        self._record("bills", settlement_id, settlement.trade_no, -amount, "refunded")
        return done

    @_operation
    def list_payment_records(self, date: dt.date) -> list[port.HisPaymentRecord]:
        """Payments and refunds of that day (hospital time), in time order."""
        return sorted((r for r in self._s.journal if r.at.astimezone(HOSPITAL_TZ).date() == date),
                      key=lambda r: r.at)


def _item_name(title: str) -> str:
    """The fee item a bill without items stands for: "检验：血常规" -> "血常规"."""
    return title.split("：", 1)[-1].strip() or title


def _category(title: str) -> str:
    """The fee category (费用类别) a bill's title implies."""
    for key, category in (("西药", "西药费"), ("中成药", "中成药费"), ("中草药", "中草药费"), ("检验", "化验费"),
                          ("检查", "检查费"), ("治疗", "治疗费"), ("材料", "材料费")):
        if key in title:
            return category
    return "其他费"
