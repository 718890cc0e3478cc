"""The app-token cache: one fetch at a time, refreshed early, dropped when the platform refuses it.

A token is good until ``expires_at``; inside the refresh margin before that, the first caller
to arrive fetches a new one while the others go on with the old (nobody waits for an early
refresh, and a failed early refresh keeps the old token). Once the token has expired or was
dropped, callers wait on the lock and only the first of them fetches.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from health_card.errors import HealthCardError
from health_card.models import AppToken

log = logging.getLogger(__name__)


class AppTokenCache:
    """Thread-safe holder of the current app token."""

    def __init__(self, fetch: Callable[[], AppToken], clock: Callable[[], dt.datetime],
                 refresh_margin: float = 300.0):
        self._fetch = fetch
        self._clock = clock
        self._margin = dt.timedelta(seconds=refresh_margin)
        self._lock = threading.Lock()
        self._token: AppToken | None = None

    def current(self) -> str:
        """A token to call with, fetching one when there is none worth using."""
        token, now = self._token, self._clock()
        if token is not None and now < token.expires_at - self._margin:
            return token.value
        if token is not None and now < token.expires_at:
            return self._refresh_early(token)
        with self._lock:
            if self._token is None or self._clock() >= self._token.expires_at - self._margin:
                self._token = self._fetch()
            return self._token.value

    def _refresh_early(self, stale: AppToken) -> str:
        if not self._lock.acquire(blocking=False):
            return stale.value  # someone is refreshing already
        try:
            if self._token is stale:
                self._token = self._fetch()
        except HealthCardError as exc:
            log.warning("health card token: early refresh failed (%s), keeping the current token", exc.code)
        finally:
            self._lock.release()
        return (self._token or stale).value

    def invalidate(self, value: str) -> None:
        """Forget the token if it is still the one the platform refused."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None
