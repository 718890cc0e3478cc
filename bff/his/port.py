"""The HIS port: the canonical operations the BFF needs from a hospital information system.

Adapters (``bff.his.adapters.*``) implement :class:`HisPort`. Everything here is in domain
terms: money is integer fen, times are timezone-aware (Asia/Shanghai unless said otherwise),
ids are strings as the HIS gives them. Failures are only ever the two exceptions below.

Operations that change the HIS are keyed by ``request_id``, an id the BFF makes once per
booking and reuses on every retry, so a retried call never books twice and
``query_registration`` can answer "did the HIS commit this?" after a timeout.
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
REJECTED = "REJECTED"  # anything else the HIS refused


class HisError(Exception):
    """Base of the only errors an adapter raises."""


class HisUnavailable(HisError):
    """The HIS did not answer in time, answered garbage, or the circuit is open."""


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


class HisPort(abc.ABC):
    """The operations the BFF needs from a HIS. Every call has a timeout."""

    name = "abstract"

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
