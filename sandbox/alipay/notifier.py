"""Asynchronous notifications as Alipay sends them: a signed form POSTed to the trade's notify_url,
sent again on Alipay's schedule until the answer is exactly ``success``.

Alipay's real schedule after the first try is 4m, 10m, 10m, 1h, 2h, 6h, 15h; ``retry_delays``
scales it down (``REAL_RETRY_DELAYS`` divided by 60 by default) so tests and demos do not wait.
For fault tests a notification can be delayed, and with ``hold`` on they are kept back and later
released together in the order asked (``reverse`` sends the newest first).
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

import requests

log = logging.getLogger(__name__)
REAL_RETRY_DELAYS = (240, 600, 600, 3600, 7200, 21600, 54000)
DEFAULT_RETRY_DELAYS = tuple(d / 60 for d in REAL_RETRY_DELAYS)
POST_TIMEOUT = 5.0


@dataclass
class Delivery:
    """One notification and every attempt to deliver it."""

    id: int
    out_trade_no: str
    url: str
    form: dict
    retries: bool = True
    attempts: list = field(default_factory=list)
    acknowledged: bool = False

    def view(self) -> dict:
        """What the control API shows."""
        return {"id": self.id, "out_trade_no": self.out_trade_no, "notify_id": self.form.get("notify_id"),
                "trade_status": self.form.get("trade_status"), "out_biz_no": self.form.get("out_biz_no"),
                "attempts": list(self.attempts), "acknowledged": self.acknowledged}


class Notifier:
    """One worker thread sending due deliveries in order of due time."""

    def __init__(self, retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS):
        self.retry_delays = tuple(retry_delays)
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._session = requests.Session()
        self.reset()
        self._thread = threading.Thread(target=self._run, name="sandbox-alipay-notify", daemon=True)
        self._thread.start()

    def reset(self) -> None:
        """Drop everything queued, held or recorded; hold off."""
        with self._cond:
            self._queue: list[tuple[float, int, Delivery, int]] = []
            self._held: list[Delivery] = []
            self.deliveries: list[Delivery] = []
            self.holding = False

    def send(self, out_trade_no: str, url: str, form: dict, delay: float = 0.0, retries: bool = True) -> Delivery:
        """Queue a new delivery of form to url (held back while holding)."""
        with self._cond:
            delivery = Delivery(next(self._ids), out_trade_no, url, dict(form), retries)
            self.deliveries.append(delivery)
            if self.holding:
                self._held.append(delivery)
            else:
                self._push(delivery, delay, 0)
            return delivery

    def _push(self, delivery: Delivery, delay: float, step: int) -> None:
        heapq.heappush(self._queue, (time.monotonic() + delay, delivery.id, delivery, step))
        self._cond.notify()

    def resend(self, out_trade_no: str, times: int, delay: float = 0.0) -> list[Delivery]:
        """The trade's last notification sent again, times times (each once, no retries)."""
        with self._cond:
            last = next((d for d in reversed(self.deliveries) if d.out_trade_no == out_trade_no), None)
        if last is None:
            return []
        return [self.send(out_trade_no, last.url, last.form, delay, retries=False) for _ in range(times)]

    def hold(self, on: bool) -> None:
        """Keep new notifications back (on) or not; turning it off does not release the held ones."""
        with self._cond:
            self.holding = on

    def release(self, order: str = "fifo") -> int:
        """Send the held notifications now, oldest first or ("reverse") newest first; how many."""
        with self._cond:
            held = self._held[::-1] if order == "reverse" else list(self._held)
            self._held = []
            for i, delivery in enumerate(held):
                self._push(delivery, i * 0.001, 0)  # distinct due times keep the asked order
            return len(held)

    def views(self, out_trade_no: str | None = None) -> list[dict]:
        """Deliveries (all, or one trade's) with their attempts."""
        with self._cond:
            return [d.view() for d in self.deliveries if out_trade_no in (None, d.out_trade_no)]

    def _next_due(self):
        with self._cond:
            while True:
                if self._queue and self._queue[0][0] <= time.monotonic():
                    return heapq.heappop(self._queue)
                timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                self._cond.wait(timeout)

    def _run(self) -> None:
        while True:
            _, _, delivery, step = self._next_due()
            ok, answer = self._post(delivery)
            with self._cond:
                delivery.attempts.append({"at": time.time(), "answer": answer})
                if ok:
                    delivery.acknowledged = True
                elif delivery.retries and step < len(self.retry_delays) and delivery in self.deliveries:
                    self._push(delivery, self.retry_delays[step], step + 1)

    def _post(self, delivery: Delivery) -> tuple[bool, str]:
        try:
            reply = self._session.post(delivery.url, data=delivery.form, timeout=POST_TIMEOUT,
                                       headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        except requests.RequestException as exc:
            return False, type(exc).__name__
        body = reply.text[:100]
        return reply.status_code == 200 and body.strip() == "success", f"{reply.status_code} {body}"
