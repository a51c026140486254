"""The tests' one notion of "now": the day the bundled snapshots show, and a clock standing on it.

Import from here (``from fixed_clock import NOW, clock``) instead of reading the wall clock, so the suite
gives the same answers on any date (CI runs it again shifted by years under libfaketime).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aggregator.clock import FixedClock

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
"""The snapshots' day (``current_on`` in tests/fixtures/snapshots.toml): every fixture is upcoming from here."""


def clock(now: datetime = NOW) -> FixedClock:
    """A fresh clock standing at ``now``."""
    return FixedClock(now)
