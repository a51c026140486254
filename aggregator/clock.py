"""The clock: what "now" means, passed down from the program's edges.

Nothing below the edges (the CLI, the app factory, the scheduler service) reads the wall clock; they
create one :func:`system_clock` and hand it down, and every other module takes a :class:`Clock` or a
``now``. Tests pass a :class:`FixedClock`, so the suite gives the same answers on any date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that answers "now" as an aware datetime in UTC."""

    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    """The wall clock, aware, in UTC — the one place the program reads it."""
    return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until it is moved (tests, replays, the demo)."""

    def __init__(self, now: datetime) -> None:
        self.set(now)

    def __call__(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        """Move the clock to ``now``."""
        if now.tzinfo is None:
            raise ValueError(f"a clock needs an aware datetime, not {now!r}")
        self._now = now.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now += delta
