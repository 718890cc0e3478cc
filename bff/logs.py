"""JSON logs, one line per record, with the request id and without personal data."""
from __future__ import annotations

import atexit
import datetime as dt
import logging
import logging.handlers
import queue
import re
import sys
import time
import uuid

import orjson
from flask import g, has_request_context, request

# Values logged under these names are never written as they are, whatever they look like: the
# name says what they are (a pattern guessing from the value misses numbers of unusual shapes).
SECRET_FIELDS = frozenset({
    "password", "token", "access_token", "refresh_token", "session_key", "secret", "api_key", "key",
    "signature", "authorization", "code", "js_code", "auth_code", "qr_code_text", "sms_code",
    "verification_code", "pickup_code"})  # nothing of these is kept
IDENTIFYING_FIELDS = frozenset({
    "id_number", "phone", "mobile", "openid", "unionid", "out_trade_no", "trade_no", "transaction_id",
    "out_refund_no", "refund_no", "refund_id", "buyer_id", "payer_id", "buyer_logon_id", "health_card_id",
    "card_no", "bank_card"})  # the last 4 characters are kept, to tell two apart when tracing
# Any field whose name ends with one of these (e.g. payer_phone, wechat_trade_no) is treated the same way.
_SECRET_SUFFIXES = ("_password", "_token", "_secret", "_auth_code", "_qr_code_text", "_signature")
_IDENTIFYING_SUFFIXES = ("_id_number", "_phone", "_mobile", "_openid", "_trade_no", "_transaction_id", "_refund_no")

REDACTED = "[redacted]"

# The second net, for free text (messages, exceptions): an 18-digit resident ID (last may be X), a
# mainland mobile number, a run of 19 digits or more (the gateways' transaction and refund numbers
# are 28 to 32), and our own out_trade_no / out_refund_no (a prefix, 14 digits of time, 10 hex).
_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")  # +86…, 138-1234-5678
_TRADE_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{15,}|[A-Z]{1,6}\d{10}[0-9A-F]{10})(\d{4}|[0-9A-F]{4})"
                           r"(?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Mask ID numbers, phone numbers and trade numbers in free text."""
    text = _ID_NUMBER.sub(r"\1********\2", text)
    text = _PHONE.sub(r"\1****\2", text)
    return _TRADE_NUMBER.sub(r"****\1", text)


def _kind(name: str) -> str | None:
    lowered = name.lower()
    if lowered in SECRET_FIELDS or lowered.endswith(_SECRET_SUFFIXES):
        return "secret"
    if lowered in IDENTIFYING_FIELDS or lowered.endswith(_IDENTIFYING_SUFFIXES):
        return "identifying"
    return None


def _mask(value) -> str:
    text = str(value)
    return "****" + text[-4:] if len(text) >= 8 else "****"


def scrub_field(name: str, value):
    """A structured field as it may be logged: masked by its name, then by pattern, nested values too."""
    if value is None or isinstance(value, bool):
        return value
    kind = _kind(name)
    if kind == "secret":
        return REDACTED
    if kind == "identifying":
        return _mask(value)
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_field(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub_field(name, v) for v in value]
    if isinstance(value, int) and abs(value) >= 10**11:  # a trade or phone number passed as an int
        return scrub(str(value))
    return value


# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and any extras (scrubbed)."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        line = {"time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": scrub(record.getMessage()),
                "request_id": getattr(record, "request_id", None)}
        line.update((k, scrub_field(k, v)) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(line, default=lambda v: scrub(str(v))).decode()


class ContextFilter(logging.Filter):
    """Adds the request id and scrubs personal data from the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(g, "request_id", None) if has_request_context() else None
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_listener: logging.handlers.QueueListener | None = None


@atexit.register
def _stop_writer() -> None:
    """Write out what is still queued and stop the writer thread."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


def configure(level: str = "INFO") -> None:
    """Send JSON lines to stderr for the whole process, written by a thread of their own.

    Request threads only format the line and put it on a queue: a write to stderr (a pipe or a
    journal that may block) never holds up a request, and the handler lock every thread shares
    is held while a line is queued, never across a write.
    """
    global _listener
    _stop_writer()
    lines: queue.SimpleQueue = queue.SimpleQueue()
    enqueue = logging.handlers.QueueHandler(lines)
    enqueue.setFormatter(JsonLineFormatter())
    enqueue.addFilter(ContextFilter())
    writer = logging.StreamHandler(sys.stderr)  # each queued record's message is already its JSON line
    _listener = logging.handlers.QueueListener(lines, writer)
    _listener.start()
    root = logging.getLogger()
    root.handlers[:] = [enqueue]
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def install_request_logging(app) -> None:
    """Give every request an id (from X-Request-Id or new), echo it, and log one access line."""
    access = logging.getLogger("bff.access")

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if re.fullmatch(r"[A-Za-z0-9._-]{8,64}", incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        elapsed = (time.perf_counter() - getattr(g, "started", time.perf_counter())) * 1000
        access.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"status": response.status_code, "ms": round(elapsed, 1),
                           "user_id": getattr(g, "user_id", None)})
        return response
