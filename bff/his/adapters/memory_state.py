"""The in-memory HIS's seed data and records: departments, doctors, slots, locks, bills, and the
decorator every port method wears (lock, count, injected faults)."""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from bff.his import port
from bff.his.port import HisUnavailable, HisUnsupported

AVG_MINUTES_PER_PATIENT = 6
SLOT_MINUTES = 30
PERIOD_START = {"am": dt.time(8, 0), "pm": dt.time(13, 30), "night": dt.time(18, 0)}
FEES = {"主任医师": 5000, "副主任医师": 3000, "主治医师": 1500}
ID_CARD = re.compile(r"^\d{17}[\dXx]$")

DEPARTMENTS = [
    port.Department("01", "内科", None, "内科系统门诊"),
    port.Department("0101", "心血管内科", "01", "诊治高血压、冠心病、心律失常等心血管疾病。"),
    port.Department("0102", "呼吸内科", "01", "诊治慢性咳嗽、哮喘、慢阻肺与肺部感染。"),
    port.Department("02", "外科", None, "外科系统门诊"),
    port.Department("0201", "普通外科", "02", "诊治甲状腺、乳腺、胃肠、肝胆等外科疾病。"),
    port.Department("0202", "骨科", "02", "诊治骨折、颈腰椎病与关节疾病。"),
]
DOCTORS = [
    port.Doctor("D0101", "张建华", "主任医师", "0101", "冠心病介入治疗", "从事心血管临床工作28年。"),
    port.Doctor("D0102", "李敏", "主治医师", "0101", "高血压的规范化管理", "从事心血管临床工作9年。"),
    port.Doctor("D0201", "王芳", "副主任医师", "0102", "哮喘与慢阻肺", "从事呼吸临床工作18年。"),
    port.Doctor("D0301", "刘强", "主任医师", "0201", "腹腔镜胆囊手术", "从事普通外科工作26年。"),
    port.Doctor("D0302", "陈静", "主治医师", "0201", "甲状腺与乳腺疾病", "从事普通外科工作8年。"),
    port.Doctor("D0401", "赵磊", "副主任医师", "0202", "脊柱与关节疾病", "从事骨科临床工作16年。"),
]


@dataclass
class _Slot:
    id: str
    start: dt.datetime
    capacity: int
    used: int = 0


@dataclass
class _Schedule:
    id: str
    doctor: port.Doctor
    department_code: str
    date: dt.date
    period: str
    release_at: dt.datetime
    slots: list[_Slot]
    stopped: bool = False
    next_queue_no: int = 1
    queue_advance: int = 0
    fee: int | None = None  # fen; None: the doctor's usual fee

    def total_fee(self) -> int:
        """The session's fee in fen (0 allowed: a free clinic)."""
        return FEES[self.doctor.title] if self.fee is None else self.fee


@dataclass
class _Lock:
    lock: port.SlotLock
    patient_id: str
    state: str = "held"  # held / released / confirmed


@dataclass
class _Bill:
    bill: port.Bill
    state: str = "pending"  # pending / paid / cancelled; after paid: executed (dispensed, done) / refunded


@dataclass
class _State:
    schedules: dict[str, _Schedule] = field(default_factory=dict)
    patients: dict[str, port.HisPatient] = field(default_factory=dict)  # by ID number
    phones: dict[str, str] = field(default_factory=dict)  # the phone on file, by HIS patient id
    locks: dict[str, _Lock] = field(default_factory=dict)  # by request id
    registrations: dict[str, port.Registration] = field(default_factory=dict)  # by registration id
    paid: dict[str, tuple[str, int]] = field(default_factory=dict)  # (trade_no, fen) by registration id
    queue_nos: dict[str, int] = field(default_factory=dict)
    bills: dict[str, _Bill] = field(default_factory=dict)  # by bill id
    settlements: dict[str, port.BillSettlement] = field(default_factory=dict)  # by request id
    journal: list[port.HisPaymentRecord] = field(default_factory=list)  # money taken and given back
    bill_refunds: dict[str, port.BillRefund] = field(default_factory=dict)  # 退费, by request id
    window: dt.date | None = None


def _operation(fn):
    """Wrap a port method: lock, count, honour set_down and fail_next."""
    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            self.calls[fn.__name__] += 1
            if fn.__name__ in self._without:
                raise HisUnsupported(fn.__name__)
            if self._down:
                raise HisUnavailable("memory HIS is down", sent=False)
            pending = self._faults.get(fn.__name__)
            committed = pending.pop(0) if pending else None
            if committed is False:
                raise HisUnavailable(f"memory HIS: {fn.__name__} failed (injected)", sent=False)
            result = fn(self, *args, **kwargs)
            if committed:
                raise HisUnavailable(f"memory HIS: {fn.__name__} reply lost (injected)")
            return result
    return wrapper
