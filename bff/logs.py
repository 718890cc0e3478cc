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

# An 18-digit resident ID (last may be X) and a mainland mobile number, wherever they appear.
_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def scrub(text: str) -> str:
    """Mask ID numbers and phone numbers in free text."""
    text = _ID_NUMBER.sub(r"\1********\2", text)
    return _PHONE.sub(r"\1****\2", text)


# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        line = {"time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                "request_id": getattr(record, "request_id", None)}
        line.update((k, scrub(v) if isinstance(v, str) else v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


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
