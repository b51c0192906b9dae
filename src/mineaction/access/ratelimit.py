"""A small in-process sliding-window limiter for sign-in attempts per client address.

Lock-out of an account is kept in the database (:mod:`mineaction.access.accounts`);
this limiter slows down one address trying many accounts.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from mineaction.access.errors import TooManyAttempts

__all__ = ["SlidingWindow"]


class SlidingWindow:
    """At most ``limit`` events per key within ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one event, or raise :class:`TooManyAttempts` when over the limit."""
        now = time.monotonic()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                retry = int(events[0] + self.window_s - now) + 1
                raise TooManyAttempts(f"too many sign-in attempts from {key}", retry_after_s=retry)
            events.append(now)
