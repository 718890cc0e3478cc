"""The HIS port: the canonical operations the BFF needs from a hospital information system.

Adapters (``bff.his.adapters.*``) implement :class:`HisPort`. Everything here is in domain
terms: money is integer fen, times are timezone-aware (Asia/Shanghai unless said otherwise),
ids are strings as the HIS gives them. Failures are only ever the two exceptions below.

Operations that change the HIS are keyed by ``request_id``, an id the BFF makes once per
booking and reuses on every retry, so a retried call never books twice and
``query_registration`` can answer "did the HIS commit this?" after a timeout. Settling
outpatient bills works the same way, keyed by the payment's ``request_id`` and answered after a
timeout by ``query_settlement``.
"""
from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

HOSPITAL_TZ = ZoneInfo("Asia/Shanghai")

# Canonical rejection codes an adapter maps the hospital's own result codes onto.
SLOT_FULL = "SLOT_FULL"
NOT_RELEASED = "NOT_RELEASED"
SCHEDULE_STOPPED = "SCHEDULE_STOPPED"
NOT_FOUND = "NOT_FOUND"
LOCK_EXPIRED = "LOCK_EXPIRED"
PATIENT_INVALID = "PATIENT_INVALID"
DUPLICATE_REGISTRATION = "DUPLICATE_REGISTRATION"
ALREADY_CANCELLED = "ALREADY_CANCELLED"
NOT_CANCELLABLE = "NOT_CANCELLABLE"
CHECKIN_NOT_ALLOWED = "CHECKIN_NOT_ALLOWED"
BILL_PAID = "BILL_PAID"  # a bill already paid (e.g. at the window)
BILL_CHANGED = "BILL_CHANGED"  # the amount to settle differs from the HIS's (bill changed / cancelled)
REJECTED = "REJECTED"  # anything else the HIS refused
# -- 退费 (refund_bill) --
BILL_NOT_REFUNDABLE = "BILL_NOT_REFUNDABLE"  # dispensed / examined already, or refunded already: the window decides
# -- bedside order execution --
ORDER_STOPPED = "ORDER_STOPPED"  # the order was stopped (停嘱) or cancelled: nothing may be given
ALREADY_EXECUTED = "ALREADY_EXECUTED"  # the HIS holds another execution of this action (not ours: not this request_id)


class HisError(Exception):
    """Base of the only errors an adapter raises."""


class HisUnavailable(HisError):
    """The HIS did not answer in time, answered garbage, or the circuit is open.

    ``sent`` is False only when the request surely never reached the HIS (no connection, the
    circuit open): then nothing can have happened there. Otherwise the call may have been carried
    out, or may still be.
    """

    def __init__(self, message: str = "", *, sent: bool = True):
        super().__init__(message)
        self.sent = sent


class HisUnsupported(HisError):
    """This hospital's HIS (its mapping) does not offer the operation: the feature is off, not failing."""

    def __init__(self, operation: str):
        super().__init__(f"the HIS mapping has no operation {operation}")
        self.operation = operation


# What patients and staff lose when a hospital's HIS lacks an operation. The core (catalog and
# 建档) has no entry: without it the adapter refuses to start.
FEATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "booking": ("预约挂号与退号", ("lock_slot", "unlock_slot", "confirm_registration", "query_registration",
                               "cancel_registration")),
    "check_in": ("线上签到与排队", ("check_in", "queue_status")),
    "outpatient_payment": ("门诊缴费", ("list_pending_bills", "settle_bills", "query_settlement")),
    "reconciliation": ("与医院系统的每日对账", ("list_payment_records",)),
    "bill_refund": ("门诊退费", ("refund_bill",)),
    "bedside": ("床旁扫码执行医嘱", ("find_inpatient", "list_executions", "get_execution_by_label",
                                "record_execution", "record_skin_test", "list_ward_executions")),
    "order_stop": ("医嘱停止", ("stop_order",)),
    "clinical_summary": ("急救信息（过敏史、血型、慢病、紧急联系人）", ("get_clinical_summary",)),
}
CORE_OPERATIONS = ("ping", "list_departments", "list_doctors", "list_schedules", "get_schedule", "list_slots",
                   "find_patient",  # without it a stranger could link anyone's record: no proof, no patients
                   "find_or_create_patient")


class FeatureOff(HisError):
    """A use case refused before any write: this hospital's HIS does not offer the feature it needs."""

    def __init__(self, feature: str, label: str):
        super().__init__(f"feature {feature} is off: the HIS mapping lacks its operations")
        self.feature = feature
        self.label = label


def features_off(missing: frozenset[str] | set[str]) -> dict[str, str]:
    """The features (name → what it is, in Chinese) that the missing operations turn off."""
    return {name: label for name, (label, ops) in FEATURES.items() if missing.intersection(ops)}


class HisRejected(HisError):
    """The HIS answered and refused; ``code`` is one of the canonical codes above."""

    def __init__(self, code: str, message: str = "", his_code: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.his_code = his_code


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    parent_code: str | None = None  # None for a top-level department
    intro: str = ""


@dataclass(frozen=True)
class Doctor:
    code: str
    name: str
    title: str  # 主任医师 / 副主任医师 / 主治医师 …
    department_code: str
    specialty: str = ""
    intro: str = ""


@dataclass(frozen=True)
class Schedule:
    id: str
    doctor_code: str
    doctor_name: str
    title: str
    department_code: str
    date: dt.date
    period: str  # am / pm / night
    fee: int  # fen
    total: int
    remaining: int
    status: str  # open / full / stopped / not_released
    release_at: dt.datetime
    department_name: str = ""


@dataclass(frozen=True)
class TimeSlot:
    id: str
    schedule_id: str
    start: dt.datetime
    end: dt.datetime
    capacity: int
    remaining: int


@dataclass(frozen=True)
class PatientInfo:
    """What the BFF sends to find or create (建档) a patient."""

    name: str
    id_type: str  # "01" resident ID card
    id_number: str
    phone: str
    gender: str  # "M" / "F"
    birthday: dt.date


@dataclass(frozen=True)
class HisPatient:
    his_patient_id: str
    name: str
    created: bool = False  # True when this call created the record


# -- identity check (find_patient) ---------------------------------------------------------

@dataclass(frozen=True)
class HisPatientRecord:
    """What the HIS holds about a person, read without creating anything (for proving identity)."""

    his_patient_id: str
    name: str
    phone: str = ""  # the phone on file; "" when the HIS has none


@dataclass(frozen=True)
class SlotLock:
    lock_id: str
    request_id: str
    schedule_id: str
    slot_id: str
    fee: int
    visit_no: str = ""


@dataclass(frozen=True)
class Registration:
    registration_id: str
    request_id: str
    schedule_id: str
    slot_id: str
    his_patient_id: str
    visit_no: str
    fee: int
    status: str = "registered"  # registered / checked_in / cancelled


@dataclass(frozen=True)
class CheckIn:
    registration_id: str
    queue_no: int
    location: str = ""


@dataclass(frozen=True)
class QueueStatus:
    registration_id: str
    queue_no: int
    current_no: int
    ahead: int
    estimated_wait_minutes: int


@dataclass(frozen=True)
class BillItem:
    """One line of a bill (费用明细)."""

    name: str  # 项目名称, e.g. "阿莫西林胶囊"
    amount: int  # fen
    quantity: str = "1"  # as the HIS gives it, e.g. "2盒"
    category: str = ""  # 西药费 / 检查费 / 治疗费 …


@dataclass(frozen=True)
class Bill:
    """A pending outpatient fee (待缴费单)."""

    id: str
    his_patient_id: str
    title: str  # e.g. "处方（西药）" / "检验：血常规"
    department: str
    amount: int  # fen, the sum of its items
    created_at: dt.datetime
    items: tuple[BillItem, ...] = ()
    doctor_name: str = ""


@dataclass(frozen=True)
class BillSettlement:
    """The HIS's record of bills settled by one payment (门诊缴费结算)."""

    settlement_id: str
    request_id: str
    his_patient_id: str
    bill_ids: tuple[str, ...]
    amount: int  # fen
    receipt_no: str  # 发票/收据号
    trade_no: str
    settled_at: dt.datetime


@dataclass(frozen=True)
class BillRefund:
    """The HIS's record of settled bills refunded (门诊退费): the money goes back through trade_no."""

    refund_id: str
    request_id: str
    settlement_id: str
    bill_ids: tuple[str, ...]
    amount: int  # fen given back
    trade_no: str  # the payment that paid the settlement
    refunded_at: dt.datetime


@dataclass(frozen=True)
class HisPaymentRecord:
    """One line of the HIS's daily payments report (日结对账)."""

    kind: str  # "registration" | "bills"
    record_id: str  # registration_id or settlement_id
    trade_no: str
    amount: int  # fen: paid (positive) or refunded (negative)
    at: dt.datetime
    status: str  # "paid" | "refunded"


# -- bedside order execution (医嘱执行) ----------------------------------------------------------

ORDER_KINDS = ("infusion", "injection", "oral", "specimen", "treatment", "exam")
EXECUTION_ACTIONS = ("start", "finish", "collect", "confirm")


@dataclass(frozen=True)
class Inpatient:
    """A patient as their wristband (腕带) names them: who, where they lie, under which department."""

    his_patient_id: str
    name: str
    gender: str  # "M" / "F"
    birthday: dt.date | None
    wristband_code: str
    ward: str  # 病区 code, e.g. "W0101"
    ward_name: str = ""
    bed: str = ""  # 床号
    department: str = ""  # the department code the stay is under
    admission_no: str = ""  # 住院号


@dataclass(frozen=True)
class OrderItem:
    """One drug or item of an order (a bottle can hold several)."""

    name: str
    dose: str = ""  # "0.5g", "250ml"
    spec: str = ""


@dataclass(frozen=True)
class OrderExecution:
    """One planned execution of a medical order (执行计划), with the label (瓶贴/执行单/试管条码) printed for it.

    ``status`` is the HIS's view: due / in_progress (an infusion started) / done / stopped (the
    order was stopped before this execution) / cancelled. The trace fields say who prescribed,
    reviewed (pharmacist or nurse 审核/核对) and dispensed (药房发药) it, when the HIS knows.
    """

    execution_id: str
    order_id: str
    his_patient_id: str
    label_code: str
    kind: str  # one of ORDER_KINDS
    items: tuple[OrderItem, ...]
    dose: str
    route: str  # 静脉滴注 / 肌内注射 / 口服 / 静脉采血 …
    scheduled_at: dt.datetime
    status: str
    high_alert: bool = False
    skin_test_required: bool = False
    skin_test_result: str = ""  # "" (none recorded) / "negative" / "positive"
    frequency: str = ""  # qd / bid / st …
    ward: str = ""
    bed: str = ""
    ordered_by: str = ""
    ordered_at: dt.datetime | None = None
    reviewed_by: str = ""
    reviewed_at: dt.datetime | None = None
    dispensed_by: str = ""
    dispensed_at: dt.datetime | None = None
    stopped_by: str = ""
    stopped_at: dt.datetime | None = None
    executed_by: str = ""  # as the HIS has it (may be written by another system than ours)
    executed_at: dt.datetime | None = None


@dataclass(frozen=True)
class ExecutionReport:
    """What the BFF tells the HIS about one action done at the bedside (执行回写)."""

    request_id: str  # made once per action, reused on every retry: the HIS records it once
    execution_id: str
    action: str  # one of EXECUTION_ACTIONS
    staff_code: str  # the scanning nurse's username
    staff_name: str
    at: dt.datetime  # when it was done (the PDA's scanned_at when sent later)
    second_checker: str = ""  # username of the second nurse or doctor (high-alert drugs)
    volume_ml: int | None = None  # infusion finish: the volume given
    specimen_code: str = ""  # specimen collect: the tube's label
    skin_test_result: str = ""  # a skin test read at this scan: negative / positive
    note: str = ""  # the reason given for doing it outside its window


@dataclass(frozen=True)
class ExecutionAck:
    request_id: str
    execution_id: str
    action: str
    his_record_id: str


@dataclass(frozen=True)
class ClinicalSummary:
    """What the emergency role sees first (急救信息), as the HIS holds it."""

    his_patient_id: str
    blood_type: str = ""  # "A+", "O-" … "" when unknown
    allergies: tuple[str, ...] = ()
    chronic_conditions: tuple[str, ...] = ()
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""  # shown masked except to the emergency role
    emergency_contact_relation: str = ""


class BedsidePort:
    """The bedside operations (feature ``bedside``), ``stop_order`` and ``get_clinical_summary``.

    Optional per hospital: an adapter without them raises HisUnsupported, and the features are off.
    Reads here are never cached: a stop in the HIS must be seen at the very next scan.
    """

    def find_inpatient(self, wristband_code: str) -> Inpatient | None:
        """The patient whose wristband carries this code, or None (discharged, unknown)."""
        raise HisUnsupported("find_inpatient")

    def list_executions(self, his_patient_id: str, date: dt.date) -> list[OrderExecution]:
        """The patient's planned executions scheduled on that (hospital-local) day, by time."""
        raise HisUnsupported("list_executions")

    def get_execution_by_label(self, label_code: str) -> OrderExecution | None:
        """The execution a label was printed for, whoever's it is, or None for a code the HIS never printed."""
        raise HisUnsupported("get_execution_by_label")

    def list_ward_executions(self, ward: str, date: dt.date) -> list[OrderExecution]:
        """Every patient's executions of one ward on that day (for the overdue board)."""
        raise HisUnsupported("list_ward_executions")

    def record_execution(self, report: ExecutionReport) -> ExecutionAck:
        """Write an action back (执行回写); the same request_id again answers the same ack.

        HisRejected(ORDER_STOPPED) when the order was stopped, (ALREADY_EXECUTED) when the HIS holds
        the same action of that execution under another request_id, (NOT_FOUND) for an unknown one.
        """
        raise HisUnsupported("record_execution")

    def record_skin_test(self, request_id: str, order_id: str, result: str, staff_code: str, staff_name: str,
                         at: dt.datetime) -> None:
        """Record the reading of the order's skin test (皮试结果): "negative" or "positive"; idempotent by request_id.

        Afterwards the order's executions carry skin_test_result. HisRejected(NOT_FOUND) for an unknown order.
        """
        raise HisUnsupported("record_skin_test")

    def stop_order(self, order_id: str, by: str, reason: str = "") -> None:
        """Stop an order (停嘱): its executions not yet done become stopped. Stopping twice is a no-op."""
        raise HisUnsupported("stop_order")

    def get_clinical_summary(self, his_patient_id: str) -> ClinicalSummary:
        """Blood type, allergies, chronic conditions and emergency contact; HisRejected(PATIENT_INVALID) if unknown."""
        raise HisUnsupported("get_clinical_summary")


class HisPort(BedsidePort, abc.ABC):
    """The operations the BFF needs from a HIS. Every call has a timeout."""

    name = "abstract"

    def missing_operations(self) -> frozenset[str]:
        """Operations this hospital's HIS does not offer (calling one raises HisUnsupported)."""
        return frozenset()

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise HisUnavailable unless the HIS answers."""

    @abc.abstractmethod
    def list_departments(self) -> list[Department]:
        """All departments, top-level and their children."""

    @abc.abstractmethod
    def list_doctors(self, department_code: str | None = None) -> list[Doctor]:
        """Doctors, optionally of one (child) department."""

    @abc.abstractmethod
    def list_schedules(self, department_code: str | None = None, doctor_code: str | None = None,
                       date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[Schedule]:
        """Schedules (出诊排班), including ones not yet released."""

    @abc.abstractmethod
    def get_schedule(self, schedule_id: str) -> Schedule:
        """One schedule; HisRejected(NOT_FOUND) when unknown."""

    @abc.abstractmethod
    def list_slots(self, schedule_id: str) -> list[TimeSlot]:
        """The time slots (分时段号源) of one schedule."""

    @abc.abstractmethod
    def find_or_create_patient(self, info: PatientInfo) -> HisPatient:
        """Find the patient by ID number, creating the record (建档) when missing."""

    @abc.abstractmethod
    def find_patient(self, id_type: str, id_number: str) -> HisPatientRecord | None:
        """The HIS's record of this ID number with its phone on file, or None; never creates one."""

    @abc.abstractmethod
    def lock_slot(self, request_id: str, his_patient_id: str, schedule_id: str, slot_id: str) -> SlotLock:
        """Hold one place in a slot. Same request_id again answers the same lock."""

    @abc.abstractmethod
    def unlock_slot(self, request_id: str) -> None:
        """Release the hold made by request_id; a no-op when there is none."""

    @abc.abstractmethod
    def confirm_registration(self, request_id: str, trade_no: str | None = None, paid_fee: int = 0) -> Registration:
        """Turn the hold into a registration (挂号). Same request_id again answers the same one."""

    @abc.abstractmethod
    def query_registration(self, request_id: str) -> Registration | None:
        """Compensation query: the registration committed for request_id, or None."""

    @abc.abstractmethod
    def cancel_registration(self, registration_id: str, reason: str = "") -> None:
        """Cancel (退号) a registration; cancelling twice is a no-op."""

    @abc.abstractmethod
    def check_in(self, registration_id: str) -> CheckIn:
        """Sign in (签到) for today's visit and get a queue number."""

    @abc.abstractmethod
    def queue_status(self, registration_id: str) -> QueueStatus:
        """Where the patient stands in the doctor's queue."""

    @abc.abstractmethod
    def list_pending_bills(self, his_patient_id: str) -> list[Bill]:
        """Unpaid outpatient fees of a patient, oldest first; HisRejected(PATIENT_INVALID) for an unknown one."""

    @abc.abstractmethod
    def settle_bills(self, request_id: str, his_patient_id: str, bill_ids: list[str], trade_no: str,
                     amount: int) -> BillSettlement:
        """Settle these bills as paid by trade_no; same request_id again answers the same settlement.

        HisRejected(BILL_PAID) if one is paid already, (BILL_CHANGED) if amount != their sum now or one
        was cancelled, (NOT_FOUND) for an unknown bill or one of another patient. A bill listed twice
        counts once; bill_ids come back in the order given.
        """

    @abc.abstractmethod
    def query_settlement(self, request_id: str) -> BillSettlement | None:
        """Compensation query: the settlement committed for request_id, or None."""

    # -- 退费 (refund_bill) --
    def refund_bill(self, request_id: str, settlement_id: str, bill_ids: list[str], reason: str = "") -> BillRefund:
        """Refund (退费) settled bills of one settlement; the same request_id again answers the same refund.

        HisRejected(NOT_FOUND) for an unknown settlement or a bill not in it, (BILL_NOT_REFUNDABLE) for a
        bill dispensed, examined or refunded already. The day's payments report then lists the refund
        (negative amount, status refunded) under the settlement's id and trade number. A HIS whose
        interface has no 退费 transaction raises HisUnsupported (the feature is off): the window refunds there.
        """
        raise HisUnsupported("refund_bill")

    @abc.abstractmethod
    def list_payment_records(self, date: dt.date) -> list[HisPaymentRecord]:
        """What the HIS took that day, in time order.

        Paid registrations (confirm_registration with a trade_no and paid_fee) and settled bills, and
        the refunds of cancelled paid registrations and of refunded bills (negative amount, status
        refunded). Payments taken at the hospital's own windows are not ours to reconcile and are left out.
        """

