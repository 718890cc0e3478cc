"""What the SMS simulator remembers: the messages it delivered and how many each number got lately."""
from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

THIRTY_SECOND_LIMIT = "LimitExceeded.PhoneNumberThirtySecondLimit"
ONE_HOUR_LIMIT = "LimitExceeded.PhoneNumberOneHourLimit"
DAILY_LIMIT = "LimitExceeded.PhoneNumberDailyLimit"


@dataclass
class Limits:
    """Messages one number may receive: Tencent Cloud's defaults are 1 in 30 s, 5 an hour, 10 a day."""

    thirty_seconds: int = 1
    hour: int = 5
    day: int = 10

    def update(self, changes: dict) -> None:
        """Set the limits given (non-negative integers), leave the others."""
        for name in ("thirty_seconds", "hour", "day"):
            if name in changes:
                setattr(self, name, max(0, int(changes[name])))

    def settings(self) -> dict:
        """The limits as JSON."""
        return {"thirty_seconds": self.thirty_seconds, "hour": self.hour, "day": self.day}


@dataclass(frozen=True)
class Message:
    """One delivered message."""

    phone: str  # +86 and 11 digits
    template_id: str
    params: tuple[str, ...]
    text: str
    sent_at: dt.datetime

    def as_json(self) -> dict:
        """The control API's view."""
        return {"phone": self.phone, "template_id": self.template_id, "params": list(self.params),
                "text": self.text, "sent_at": self.sent_at.isoformat()}


class Outbox:
    """Thread-safe record of deliveries per number, with the frequency limits."""

    def __init__(self, clock: Callable[[], dt.datetime], limits: Limits | None = None):
        self.clock = clock
        self.default_limits = limits or Limits()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every message; the limits go back to those the simulator was made with."""
        with self._lock:
            self.limits = Limits(**self.default_limits.settings())
            self._by_phone: dict[str, list[Message]] = defaultdict(list)
            self._all: list[Message] = []

    def deliver(self, phone: str, template_id: str, params: tuple[str, ...], text: str) -> str | None:
        """Record a message unless a limit stops it; answers the limit's error code, or None when sent."""
        with self._lock:
            now = self.clock()
            refused = self._limit_reached(self._by_phone[phone], now)
            if refused is None:
                message = Message(phone, template_id, params, text, now)
                self._by_phone[phone].append(message)
                self._all.append(message)
            return refused

    def _limit_reached(self, earlier: list[Message], now: dt.datetime) -> str | None:
        def since(delta: dt.timedelta) -> int:
            return sum(1 for m in earlier if now - m.sent_at < delta)

        # A day is the calendar day in China, as the service counts it.
        today = sum(1 for m in earlier if m.sent_at.astimezone(now.tzinfo).date() == now.date())
        if since(dt.timedelta(seconds=30)) >= self.limits.thirty_seconds:
            return THIRTY_SECOND_LIMIT
        if since(dt.timedelta(hours=1)) >= self.limits.hour:
            return ONE_HOUR_LIMIT
        if today >= self.limits.day:
            return DAILY_LIMIT
        return None

    def messages(self, phone: str | None = None) -> list[Message]:
        """Delivered messages (to phone, +86 form, if given), newest first."""
        with self._lock:
            return [m for m in reversed(self._all) if phone is None or m.phone == phone]
