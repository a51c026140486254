"""Per-token request limits: a sliding one-minute window whose counts every server process shares.

Counted requests are rows of ``push_rate_hits`` (like the login throttle's ``login_failures``), so N
worker processes — or N hosts on one PostgreSQL — allow a token the configured rate, not N times it.
Checking and counting happen in one transaction that holds the key's lock (a PostgreSQL advisory
lock; on SQLite the first statement is a write, which takes the database's write lock), so two
processes cannot both see room for the last request. Refused requests do not count, so
``Retry-After`` is exact: the time until the oldest counted request leaves the window.
"""

from __future__ import annotations

import math
import zlib
from datetime import timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from aggregator.clock import Clock
from aggregator.db import transaction
from aggregator.models import PushRateHit

WINDOW = timedelta(minutes=1)
_LOCK_SPACE = zlib.crc32(b"stadtkalender.push_rate") - 2**31
"""First half of the two-part advisory lock key: keeps these locks apart from the scheduler's."""


class SharedWindowLimiter:
    """At most ``limit`` requests per ``window`` per key, counted in the database (``limit <= 0``: none)."""

    def __init__(
        self, factory: sessionmaker[Session], limit: int, *, clock: Clock, window: timedelta = WINDOW
    ) -> None:
        self.factory = factory
        self.limit = limit
        self.window = window
        self._clock = clock

    def hit(self, key: str) -> int | None:
        """Count a request for ``key``; None if allowed, else the whole seconds to wait (Retry-After)."""
        if self.limit <= 0:
            return None
        now = self._clock()
        since = now - self.window
        with transaction(self.factory) as session:
            _lock(session, key)
            session.execute(delete(PushRateHit).where(PushRateHit.key == key, PushRateHit.at <= since))
            counted = list(
                session.scalars(
                    select(PushRateHit.at)
                    .where(PushRateHit.key == key, PushRateHit.at > since)
                    .order_by(PushRateHit.at)
                    .limit(self.limit)
                )
            )
            if len(counted) >= self.limit:
                return max(1, math.ceil((counted[0] + self.window - now).total_seconds()))
            session.add(PushRateHit(key=key, at=now))
            return None


def _lock(session: Session, key: str) -> None:
    """Hold ``key``'s lock until the transaction ends (PostgreSQL; SQLite's write lock does it there)."""
    if session.get_bind().dialect.name == "postgresql":
        part = zlib.crc32(key.encode("utf-8")) - 2**31
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _LOCK_SPACE, "b": part})
