"""Consecutive failures push a source's next attempt further out, up to a cap.

The base step is the source's own slot: after the first failure the source simply tries again at its
next slot, after the second it skips one slot, then three, and so on, never waiting longer than
``settings.scheduler.max_backoff_hours`` (or one slot, if that is longer). The wait is stored in
:attr:`SourceState.next_attempt_at`, so every scheduler instance on the database honours it, and the
health view can show it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import SourceState
from aggregator.types import RunStatus

FAILED = frozenset({RunStatus.FAILED, RunStatus.ABORTED})


def backoff_delay(failures: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """``base · 2^(failures-1)``, at most ``max(cap, base)``; zero when nothing failed."""
    if failures <= 0:
        return timedelta(0)
    ceiling = max(cap, base)
    if failures > 40:  # 2**40 slots is beyond any cap; avoid overflowing timedelta
        return ceiling
    return min(base * (1 << (failures - 1)), ceiling)


def record_outcome(
    factory: sessionmaker[Session],
    source: str,
    status: RunStatus,
    *,
    base: timedelta,
    cap: timedelta,
    now: datetime,
) -> datetime | None:
    """After a run ended with ``status``, store (and return) when the next attempt may start.

    Reads the failure count that ingest already bumped; a success or held run clears the wait.
    """
    with factory() as session, session.begin():
        state = session.get(SourceState, source)
        if state is None:
            state = SourceState(
                source=source, consecutive_failures=0, last_listings=0, enabled=True, updated_at=now
            )
            session.add(state)
        if status in FAILED:
            state.next_attempt_at = now + backoff_delay(
                max(state.consecutive_failures, 1), base=base, cap=cap
            )
        else:
            state.next_attempt_at = None
        state.updated_at = now
        return state.next_attempt_at
