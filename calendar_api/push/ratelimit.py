"""Per-token request limits: a sliding one-minute window kept in this process.

Each process keeps its own window, so with N server processes a token can make up to N times the
configured rate. The push API is meant to run in one process (or behind a proxy that routes a
token to one); a shared counter (Redis, the database) would be the next step, not needed yet.
Refused requests do not count, so ``Retry-After`` is exact: the time until the oldest counted
request leaves the window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable


class SlidingWindowLimiter:
    """At most ``limit`` requests per ``window`` seconds per key; ``limit <= 0`` means no limit."""

    def __init__(
        self, limit: int, window: float = 60.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> int | None:
        """Count a request for ``key``; None if allowed, else the whole seconds to wait (Retry-After)."""
        if self.limit <= 0:
            return None
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return None
