"""Generic adapter for the common Chinese HIS shape: one SOAP operation ``Invoke(code, xml)``.

A per-hospital YAML mapping (see ``bff/his/mappings/sandbox.yaml``) says which transaction
code serves each port operation, how our arguments become request fields, where the reply
records are and how their fields become our dataclass fields (lists of values and nested
records, e.g. a bill's items, included), and which hospital result codes mean which canonical
:class:`HisRejected` code. A new hospital is a new YAML file.

The zeep client is built lazily (first call), once, under a lock, so the BFF starts while
the HIS is down. Every failure becomes :class:`HisUnavailable` (timeouts, connection errors,
HTTP errors, SOAP faults, unparsable replies) or :class:`HisRejected` (a non-success code).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import threading
import typing
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
import urllib3
import yaml
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from bff.his import port
from bff.his.port import (
    Bill,
    BillRefund,
    BillSettlement,
    CheckIn,
    Department,
    Doctor,
    HisPatient,
    HisPatientRecord,
    HisPaymentRecord,
    HisPort,
    HisRejected,
    HisUnavailable,
    HisUnsupported,
    PatientInfo,
    QueueStatus,
    Registration,
    Schedule,
    SlotLock,
    TimeSlot,
)

log = logging.getLogger(__name__)

OPERATIONS = (
    "ping", "list_departments", "list_doctors", "list_schedules", "get_schedule", "list_slots",
    "find_patient", "find_or_create_patient", "lock_slot", "unlock_slot", "confirm_registration",
    "query_registration", "cancel_registration", "check_in", "queue_status",
    "list_pending_bills", "settle_bills", "query_settlement", "list_payment_records",
    "refund_bill",
)
CANONICAL_CODES = {
    port.SLOT_FULL, port.NOT_RELEASED, port.SCHEDULE_STOPPED, port.NOT_FOUND, port.LOCK_EXPIRED,
    port.PATIENT_INVALID, port.DUPLICATE_REGISTRATION, port.ALREADY_CANCELLED, port.NOT_CANCELLABLE,
    port.CHECKIN_NOT_ALLOWED, port.BILL_PAID, port.BILL_CHANGED, port.REJECTED,
    port.BILL_NOT_REFUNDABLE,
}
TRUE_TEXTS = {"1", "true", "y", "yes", "是"}
NETWORK_ERRORS = (zeep.exceptions.Error, requests.RequestException, OSError, etree.LxmlError)


def _never_sent(exc: Exception) -> bool:
    """True when the request cannot have reached the HIS: no connection was ever made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the real reason
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError)


def _safe_parser() -> etree.XMLParser:
    # zeep hands us the reply as str, which we encode as UTF-8: the parser must not believe an
    # encoding="GBK" declaration many hospitals' replies carry.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           encoding="utf-8")


class Codec:
    """Turns field texts into Python values and back, following the mapping's formats."""

    def __init__(self, formats: dict):
        self.tz = ZoneInfo(formats.get("timezone", "Asia/Shanghai"))
        self.date_fmt = formats.get("date", "%Y-%m-%d")
        self.datetime_fmt = formats.get("datetime", "%Y-%m-%d %H:%M:%S")
        self.money = formats.get("money", "fen")
        if self.money not in ("yuan", "fen"):
            raise ValueError("formats.money must be 'yuan' or 'fen'")

    def decode(self, text: str | None, spec: dict) -> Any:
        """A field's text as the spec's type; None when empty."""
        text = (text or "").strip()
        if "map" in spec:
            text = str(spec["map"].get(text, text))
        if text == "":
            return None
        kind = spec.get("type", "str")
        if kind == "money":
            kind = self.money
        if kind == "yuan":
            return int((Decimal(text) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if kind in ("fen", "int"):
            return int(Decimal(text))
        if kind == "date":
            return dt.datetime.strptime(text, self.date_fmt).date()
        if kind == "datetime":
            return dt.datetime.strptime(text, self.datetime_fmt).replace(tzinfo=self.tz)
        if kind == "bool":
            return text.lower() in TRUE_TEXTS
        return text

    def encode(self, value: Any, spec: dict) -> str:
        """A Python value as the text of a request field."""
        kind = spec.get("type", "str")
        if kind == "money":
            kind = self.money
        if kind == "yuan":
            text = f"{Decimal(int(value)) / 100:.2f}"
        elif kind == "date":
            text = value.strftime(self.date_fmt)
        elif kind == "datetime":
            text = value.astimezone(self.tz).strftime(self.datetime_fmt)
        elif kind == "bool":
            text = "1" if value else "0"
        else:
            text = str(value)
        return str(spec.get("map", {}).get(text, text))


def _spec(value: str | dict, nested: bool = True) -> dict:
    """A field spec in its long form: {field, type, map, separator} or {records, fields}."""
    spec = {"field": value} if isinstance(value, str) else dict(value)
    if "records" in spec and nested:
        return {"records": spec["records"], "fields": {k: _spec(v) for k, v in (spec.get("fields") or {}).items()}}
    if "field" not in spec:
        raise ValueError(f"mapping field spec {value!r} names no field (or records)")
    return spec


def _item_spec(spec: dict) -> dict:
    """The spec of one value of a ``type: list`` field."""
    return {**spec, "type": spec.get("item_type", "str")}


def _append(root: etree._Element, path: str) -> etree._Element:
    """A new element at path under root, e.g. ``BillNos/BillNo``, reusing the parents already there."""
    *parents, leaf = path.split("/")
    node = root
    for tag in parents:
        child = node.find(tag)
        node = child if child is not None else etree.SubElement(node, tag)
    return etree.SubElement(node, leaf)


def write_field(codec: Codec, root: etree._Element, spec: dict, value: Any) -> None:
    """Put one request value under root: a list as repeated elements or one joined text."""
    if spec.get("type") != "list":
        _append(root, spec["field"]).text = codec.encode(value, spec)
        return
    texts = [codec.encode(v, _item_spec(spec)) for v in value]
    if "separator" in spec:
        _append(root, spec["field"]).text = spec["separator"].join(texts)
    else:
        for text in texts:
            _append(root, spec["field"]).text = text


def read_fields(codec: Codec, node: etree._Element, fields: dict) -> dict:
    """Our values from a record element; nested records become lists of dicts, lists tuples."""
    return {key: _read(codec, node, spec) for key, spec in fields.items()}


def _read(codec: Codec, node: etree._Element, spec: dict) -> Any:
    if "records" in spec:
        return [read_fields(codec, child, spec["fields"]) for child in node.findall(spec["records"])]
    if spec.get("type") != "list":
        return codec.decode(node.findtext(spec["field"]), spec)
    if "separator" in spec:
        texts = (node.findtext(spec["field"]) or "").split(spec["separator"])
    else:
        texts = [n.text for n in node.findall(spec["field"])]
    values = (codec.decode(text, _item_spec(spec)) for text in texts)
    return tuple(v for v in values if v is not None)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def construct(cls: type, values: dict) -> Any:
    """cls from decoded values: absent ones take the defaults, nested records their field's item type."""
    hints, kwargs = _hints(cls), {}
    for key, value in values.items():
        if key not in hints or value is None or value in ((), []):
            continue
        if isinstance(value, list):  # nested records: the field is tuple[ItemClass, ...]
            item_cls = next(iter(typing.get_args(hints[key])), None)
            if not dataclasses.is_dataclass(item_cls):
                raise TypeError(f"{cls.__name__}.{key} does not hold records")
            value = tuple(construct(item_cls, item) for item in value)
        kwargs[key] = value
    return cls(**kwargs)


class Mapping:
    """A validated per-hospital mapping."""

    def __init__(self, raw: dict):
        service, resp = raw.get("service", {}), raw.get("response", {})
        self.operation = service.get("operation", "Invoke")
        self.code_param = service.get("code_param", "code")
        self.xml_param = service.get("xml_param", "xml")
        self.request_root = raw.get("request", {}).get("root", "Request")
        self.fixed = {k: str(v) for k, v in (raw.get("request", {}).get("fixed") or {}).items()}
        self.result_code = resp.get("result_code", "ResultCode")
        self.result_message = resp.get("result_message", "ResultMsg")
        self.success = {str(c) for c in resp.get("success", ["0"])}
        self.rejections = {str(k): v for k, v in (resp.get("rejections") or {}).items()}
        self.default_rejection = resp.get("default_rejection", port.REJECTED)
        self.codec = Codec(raw.get("formats", {}))
        declared = raw.get("operations", {}) or {}
        self.missing = frozenset(name for name in OPERATIONS if not (declared.get(name) or {}).get("code"))
        core_missing = sorted(self.missing.intersection(port.CORE_OPERATIONS))
        if core_missing:
            raise ValueError(f"mapping lacks operations.{core_missing[0]}.code (required: {', '.join(core_missing)})")
        # A missing optional operation turns its feature off (port.FEATURES) rather than failing the adapter.
        self.ops = {name: self._op(name, declared) for name in OPERATIONS if name not in self.missing}
        unknown = set(self.rejections.values()) - CANONICAL_CODES
        if unknown:
            raise ValueError(f"unknown canonical codes in mapping: {sorted(unknown)}")

    @staticmethod
    def _op(name: str, ops: dict) -> dict:
        op = ops.get(name)
        if not op or "code" not in op:
            raise ValueError(f"mapping lacks operations.{name}.code")
        return {"code": str(op["code"]), "records": op.get("records"), "record": op.get("record", "."),
                "request": {k: _spec(v, nested=False) for k, v in (op.get("request") or {}).items()},
                "fields": {k: _spec(v) for k, v in (op.get("fields") or {}).items()}}


class XmlWsHis(HisPort):
    """HisPort over an ``Invoke(code, xml)`` WebService, driven by a YAML mapping."""

    name = "xmlws"

    def __init__(self, mapping: dict, wsdl_url: str, endpoint: str | None = None, timeout: float = 5.0):
        self.mapping = Mapping(mapping)
        self.wsdl_url = wsdl_url
        self.endpoint = endpoint
        self.timeout = timeout
        self._service = None
        self._init_lock = threading.Lock()

    def missing_operations(self) -> frozenset[str]:
        """Operations the mapping leaves out."""
        return self.mapping.missing

    @classmethod
    def from_config(cls, mapping_path: str | Path, wsdl_url: str, timeout: float = 5.0,
                    endpoint: str | None = None) -> XmlWsHis:
        """Build the adapter from a mapping YAML file."""
        with open(mapping_path, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh), wsdl_url, endpoint=endpoint, timeout=timeout)

    # -- transport -------------------------------------------------------------------------

    def _get_service(self):
        """The zeep service proxy, built on first use (thread-safe, retried after a failure)."""
        if self._service is not None:
            return self._service
        with self._init_lock:
            if self._service is None:
                self._service = self._build_service()
            return self._service

    def _build_service(self):
        session = requests.Session()
        # The HIS sits on the hospital's own network: no proxy from the environment. Looking
        # proxies up scans the whole environment on every call, a millisecond of CPU each.
        session.trust_env = False
        session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64))
        session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64))
        transport = Transport(session=session, timeout=self.timeout, operation_timeout=self.timeout)
        try:
            client = zeep.Client(self.wsdl_url, transport=transport)
            if not self.endpoint:
                return client.service
            binding = next(iter(next(iter(client.wsdl.services.values())).ports.values())).binding
            return client.create_service(binding.name, self.endpoint)
        except (*NETWORK_ERRORS, StopIteration) as exc:
            log.warning("HIS WSDL not loaded from %s: %s", self.wsdl_url, type(exc).__name__)
            raise HisUnavailable(f"HIS WSDL unavailable: {type(exc).__name__}") from exc

    def _request_xml(self, op: dict, args: dict) -> str:
        root = etree.Element(self.mapping.request_root)
        for field, text in self.mapping.fixed.items():
            etree.SubElement(root, field).text = text
        for name, spec in op["request"].items():
            value = args.get(name)
            if value is not None and value != "" and not (isinstance(value, list | tuple) and not value):
                write_field(self.mapping.codec, root, spec, value)
        return etree.tostring(root, encoding="unicode")

    def _call(self, name: str, /, **args) -> etree._Element:
        """Run one transaction; the reply's root element when it succeeded."""
        op = self.mapping.ops.get(name)
        if op is None:
            raise HisUnsupported(name)
        service = self._get_service()
        try:
            request_xml = self._request_xml(op, args)
        except ValueError as exc:  # text XML cannot carry, e.g. control characters
            raise HisRejected(port.REJECTED, "请求内容包含无效字符") from exc
        params = {self.mapping.code_param: op["code"], self.mapping.xml_param: request_xml}
        try:
            reply = getattr(service, self.mapping.operation)(**params)
        except zeep.exceptions.Fault as exc:
            log.warning("HIS %s (%s) SOAP fault: %s", name, op["code"], exc.message)
            raise HisUnavailable(f"HIS SOAP fault on {name}") from exc
        except NETWORK_ERRORS as exc:
            log.warning("HIS %s (%s) failed: %s", name, op["code"], type(exc).__name__)
            raise HisUnavailable(f"HIS call {name} failed: {type(exc).__name__}", sent=not _never_sent(exc)) from exc
        return self._check(name, reply)

    def _check(self, name: str, reply: Any) -> etree._Element:
        if not isinstance(reply, str) or not reply.strip():
            raise HisUnavailable(f"HIS answered {name} with an empty reply")
        try:
            root = etree.fromstring(reply.encode("utf-8"), _safe_parser())
        except etree.XMLSyntaxError as exc:
            raise HisUnavailable(f"HIS answered {name} with unparsable XML") from exc
        code = root.findtext(self.mapping.result_code)
        if code is None:
            raise HisUnavailable(f"HIS reply to {name} has no result code")
        code = code.strip()
        if code not in self.mapping.success:
            message = (root.findtext(self.mapping.result_message) or "").strip()
            canonical = self.mapping.rejections.get(code, self.mapping.default_rejection)
            raise HisRejected(canonical, message, his_code=code)
        return root

    # -- reply records ---------------------------------------------------------------------

    def _build(self, cls, name: str, node: etree._Element, /, **defaults):
        try:
            found = read_fields(self.mapping.codec, node, self.mapping.ops[name]["fields"])
        except (ValueError, ArithmeticError, InvalidOperation) as exc:
            raise HisUnavailable(f"HIS reply to {name} has a malformed field") from exc
        # Empty values and empty lists are absent: the defaults (our own arguments) stand in.
        found = {k: v for k, v in found.items() if v is not None and v not in ((), [])}
        try:
            return construct(cls, {**defaults, **found})
        except TypeError as exc:
            raise HisUnavailable(f"HIS reply to {name} lacks fields for {cls.__name__}") from exc

    def _one(self, cls, name: str, root: etree._Element, /, **defaults):
        node = root.find(self.mapping.ops[name]["record"])
        if node is None:
            raise HisUnavailable(f"HIS reply to {name} has no record")
        return self._build(cls, name, node, **defaults)

    def _many(self, cls, name: str, root: etree._Element, /, **defaults) -> list:
        path = self.mapping.ops[name]["records"]
        return [self._build(cls, name, node, **defaults) for node in root.findall(path)]

    # -- the port --------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise HisUnavailable unless the HIS answers."""
        try:
            self._call("ping")
        except HisRejected as exc:
            raise HisUnavailable(f"HIS refused the heartbeat: {exc.message}") from exc

    def list_departments(self) -> list[Department]:
        """All departments, top-level and their children."""
        return self._many(Department, "list_departments", self._call("list_departments"))

    def list_doctors(self, department_code: str | None = None) -> list[Doctor]:
        """Doctors, optionally of one department."""
        root = self._call("list_doctors", department_code=department_code)
        return self._many(Doctor, "list_doctors", root)

    def list_schedules(self, department_code: str | None = None, doctor_code: str | None = None,
                       date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[Schedule]:
        """Schedules, including ones not yet released."""
        root = self._call("list_schedules", department_code=department_code, doctor_code=doctor_code,
                          date_from=date_from, date_to=date_to)
        return self._many(Schedule, "list_schedules", root)

    def get_schedule(self, schedule_id: str) -> Schedule:
        """One schedule; HisRejected(NOT_FOUND) when unknown."""
        root = self._call("get_schedule", schedule_id=schedule_id)
        return self._one(Schedule, "get_schedule", root, id=schedule_id)

    def list_slots(self, schedule_id: str) -> list[TimeSlot]:
        """The time slots of one schedule."""
        root = self._call("list_slots", schedule_id=schedule_id)
        return self._many(TimeSlot, "list_slots", root, schedule_id=schedule_id)

    def find_or_create_patient(self, info: PatientInfo) -> HisPatient:
        """Find the patient by ID number, creating the record (建档) when missing."""
        root = self._call("find_or_create_patient", **dataclasses.asdict(info))
        return self._one(HisPatient, "find_or_create_patient", root, name=info.name)

    def find_patient(self, id_type: str, id_number: str) -> HisPatientRecord | None:
        """The HIS's record of this ID number with its phone on file; None when it has none."""
        try:
            root = self._call("find_patient", id_type=id_type, id_number=id_number)
        except HisRejected as exc:
            if exc.code == port.NOT_FOUND:
                return None
            raise
        return self._one(HisPatientRecord, "find_patient", root)

    def lock_slot(self, request_id: str, his_patient_id: str, schedule_id: str, slot_id: str) -> SlotLock:
        """Hold one place in a slot; idempotent by request_id."""
        ids = {"request_id": request_id, "schedule_id": schedule_id, "slot_id": slot_id}
        root = self._call("lock_slot", his_patient_id=his_patient_id, **ids)
        return self._one(SlotLock, "lock_slot", root, **ids)

    def unlock_slot(self, request_id: str) -> None:
        """Release the hold made by request_id; a no-op when there is none."""
        try:
            self._call("unlock_slot", request_id=request_id)
        except HisRejected as exc:
            if exc.code not in (port.NOT_FOUND, port.LOCK_EXPIRED):
                raise

    def confirm_registration(self, request_id: str, trade_no: str | None = None, paid_fee: int = 0) -> Registration:
        """Turn the hold into a registration; idempotent by request_id."""
        root = self._call("confirm_registration", request_id=request_id, trade_no=trade_no,
                          paid_fee=paid_fee or None)
        return self._one(Registration, "confirm_registration", root, request_id=request_id)

    def query_registration(self, request_id: str) -> Registration | None:
        """Compensation query: the registration committed for request_id, or None."""
        try:
            root = self._call("query_registration", request_id=request_id)
        except HisRejected as exc:
            if exc.code == port.NOT_FOUND:
                return None
            raise
        return self._one(Registration, "query_registration", root, request_id=request_id)

    def cancel_registration(self, registration_id: str, reason: str = "") -> None:
        """Cancel (退号) a registration; cancelling twice is a no-op."""
        try:
            self._call("cancel_registration", registration_id=registration_id, reason=reason)
        except HisRejected as exc:
            if exc.code != port.ALREADY_CANCELLED:
                raise

    def check_in(self, registration_id: str) -> CheckIn:
        """Sign in (签到) for today's visit and get a queue number."""
        root = self._call("check_in", registration_id=registration_id)
        return self._one(CheckIn, "check_in", root, registration_id=registration_id)

    def queue_status(self, registration_id: str) -> QueueStatus:
        """Where the patient stands in the doctor's queue."""
        root = self._call("queue_status", registration_id=registration_id)
        return self._one(QueueStatus, "queue_status", root, registration_id=registration_id)

    def list_pending_bills(self, his_patient_id: str) -> list[Bill]:
        """Unpaid outpatient fees of a patient; a HIS answering "no record" (NOT_FOUND) has none."""
        try:
            root = self._call("list_pending_bills", his_patient_id=his_patient_id)
        except HisRejected as exc:
            if exc.code == port.NOT_FOUND:
                return []
            raise
        return self._many(Bill, "list_pending_bills", root, his_patient_id=his_patient_id)

    def settle_bills(self, request_id: str, his_patient_id: str, bill_ids: list[str], trade_no: str,
                     amount: int) -> BillSettlement:
        """Settle the bills as paid by trade_no; idempotent by request_id."""
        ids = list(dict.fromkeys(bill_ids))
        sent = {"request_id": request_id, "his_patient_id": his_patient_id, "trade_no": trade_no, "amount": amount}
        root = self._call("settle_bills", bill_ids=ids, **sent)
        return self._one(BillSettlement, "settle_bills", root, bill_ids=tuple(ids), **sent)

    def query_settlement(self, request_id: str) -> BillSettlement | None:
        """Compensation query: the settlement committed for request_id, or None."""
        try:
            root = self._call("query_settlement", request_id=request_id)
        except HisRejected as exc:
            if exc.code == port.NOT_FOUND:
                return None
            raise
        return self._one(BillSettlement, "query_settlement", root, request_id=request_id)

    # -- 退费 (refund_bill) --
    def refund_bill(self, request_id: str, settlement_id: str, bill_ids: list[str], reason: str = "") -> BillRefund:
        """Refund (退费) settled bills; idempotent by request_id. HisUnsupported when the mapping has no 退费."""
        ids = list(dict.fromkeys(bill_ids))
        sent = {"request_id": request_id, "settlement_id": settlement_id}
        root = self._call("refund_bill", bill_ids=ids, reason=reason, **sent)
        return self._one(BillRefund, "refund_bill", root, bill_ids=tuple(ids), **sent)

    def list_payment_records(self, date: dt.date) -> list[HisPaymentRecord]:
        """The HIS's payments report of one day (日结对账)."""
        root = self._call("list_payment_records", date=date)
        return sorted(self._many(HisPaymentRecord, "list_payment_records", root), key=lambda r: r.at)
