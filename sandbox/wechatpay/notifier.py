"""Notification delivery with WeChat Pay's retry schedule, scaled down, plus held and delayed sends.

WeChat Pay posts a notification, and while the merchant does not acknowledge it (v3: a 2xx
status; v2: ``return_code`` SUCCESS in the XML answer) posts it again after 15s, 15s, 30s, 3m,
10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h (16 attempts, 24h04m). ``scale`` multiplies
that schedule (0.001 makes the first retries 15 ms apart). A scheduler thread hands due
attempts to a small pool, so several deliveries (duplicates included) may arrive concurrently,
as they do from the real gateway. Other timed work (refunds finishing) uses the same scheduler.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from sandbox.wechatpay.messages import Message, parse_v2_xml

SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)


def _acked(message: Message, response: requests.Response) -> bool:
    if message.notice.api == "v3":
        return 200 <= response.status_code < 300
    try:
        return response.status_code == 200 and parse_v2_xml(response.content).get("return_code") == "SUCCESS"
    except ValueError:
        return False


@dataclass
class Delivery:
    """One notification on its way: attempts so far and how each went."""

    id: int
    message: Message
    forge: str | None
    status: str = "pending"  # pending | held | acked | gave_up
    answers: list = field(default_factory=list)  # HTTP status per attempt, or the error's name

    def view(self) -> dict:
        """What /_control/notifications shows."""
        notice = self.message.notice
        return {"delivery": self.id, "notification_id": notice.id, "kind": notice.kind, "api": notice.api,
                "out_trade_no": notice.out_trade_no, "out_refund_no": notice.out_refund_no, "url": notice.url,
                "forge": self.forge, "status": self.status, "attempts": len(self.answers), "answers": self.answers}


class Notifier:
    """Delivers messages on the scaled schedule; thread-safe."""

    def __init__(self, scale: float = 0.01, timeout: float = 5.0, workers: int = 4):
        self.scale, self.timeout = scale, timeout
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wxpay-notify")
        self._http = requests.Session()
        self._http.trust_env = False  # notify URLs are the merchant's own; never through a proxy
        self._closed = False
        self.reset()
        self._thread = threading.Thread(target=self._run, name="wxpay-scheduler", daemon=True)
        self._thread.start()

    def reset(self) -> None:
        """Drop every delivery and pending job (attempts in flight finish but are not retried)."""
        with self._cond:
            self._heap: list = []
            self._seq = itertools.count()
            self.deliveries: list[Delivery] = []
            self._generation = getattr(self, "_generation", 0) + 1
            self._cond.notify()

    def close(self) -> None:
        """Stop the scheduler and the pool."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=2)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def later(self, delay: float, job: Callable[[], None]) -> None:
        """Run job after delay seconds (unscaled), on the pool."""
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), self._generation, job))
            self._cond.notify()

    def send(self, message: Message, delay: float = 0.0, hold: bool = False, forge: str | None = None) -> Delivery:
        """Queue a delivery: first attempt after delay seconds, or held until released."""
        with self._cond:
            delivery = Delivery(next(self._ids), message, forge, status="held" if hold else "pending")
            self.deliveries.append(delivery)
            generation = self._generation
        if not hold:
            self.later(delay, lambda: self._attempt(delivery, generation))
        return delivery

    def release(self, out_trade_no: str, newest_first: bool = False, delay: float = 0.0) -> list[Delivery]:
        """Start the held deliveries of a trade, oldest (or newest) first; each first attempt waits for the previous."""
        with self._cond:
            held = [d for d in self.deliveries if d.status == "held" and d.message.notice.out_trade_no == out_trade_no]
            for d in held:
                d.status = "pending"
            generation = self._generation
        ordered = list(reversed(held)) if newest_first else held

        def in_order() -> None:
            # first attempts one after the other, so the order asked is the order of arrival
            for delivery in ordered:
                self._attempt(delivery, generation)

        self.later(delay, in_order)
        return ordered

    def views(self, out_trade_no: str | None = None) -> list[dict]:
        """Deliveries (of one trade, or all)."""
        with self._cond:
            return [d.view() for d in self.deliveries
                    if out_trade_no is None or d.message.notice.out_trade_no == out_trade_no]

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(timeout=(self._heap[0][0] - time.monotonic()) if self._heap else None)
                if self._closed:
                    return
                _, _, generation, job = heapq.heappop(self._heap)
                if generation != self._generation:
                    continue
            self._pool.submit(job)

    def _attempt(self, delivery: Delivery, generation: int) -> None:
        message = delivery.message
        headers = {"Content-Type": message.content_type, "User-Agent": "Mozilla/4.0", **message.headers()}
        try:
            response = self._http.post(message.notice.url, data=message.body, headers=headers, timeout=self.timeout)
            answer, acked = response.status_code, _acked(message, response)
        except requests.RequestException as exc:
            answer, acked = type(exc).__name__, False
        with self._cond:
            if generation != self._generation:
                return
            delivery.answers.append(answer)
            tries = len(delivery.answers)
            if acked:
                delivery.status = "acked"
                return
            if tries > len(SCHEDULE):
                delivery.status = "gave_up"
                return
        self.later(SCHEDULE[tries - 1] * self.scale, lambda: self._attempt(delivery, generation))
