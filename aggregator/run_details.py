"""A source run as people read it: counts, duration, the decision on a held run, rejections, warnings.

``stadtkalender runs show RUN`` and the console's run page both read runs through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from aggregator.listing import Rejection
from aggregator.models import SourceRun
from aggregator.types import RunStatus

COUNTS = ("listings", "added", "updated", "unchanged", "cancelled", "rejected")
"""A run's counters, in the order they are shown."""


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run's row: when, how it ended, what it changed; detached from the session."""

    id: int
    source: str
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    awaiting_decision: bool
    """Held back by the guard and nobody has decided yet: it can be confirmed or discarded."""

    @property
    def duration(self) -> timedelta | None:
        """How long the run took (None while it runs)."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    @classmethod
    def of(cls, run: SourceRun) -> RunSummary:
        """The summary of ``run``."""
        return cls(
            id=run.id,
            source=run.source,
            status=run.status,
            trigger=run.trigger,
            started_at=run.started_at,
            finished_at=run.finished_at,
            counts={name: int(getattr(run, name) or 0) for name in COUNTS},
            error=run.error,
            decision=run.decision,
            decided_by=run.decided_by,
            decided_at=run.decided_at,
            awaiting_decision=awaiting_decision(run),
        )


def awaiting_decision(run: SourceRun) -> bool:
    """Whether ``run`` is held back and undecided (a held run keeps its batch until a decision or expiry)."""
    return run.status == RunStatus.SUSPICIOUS.value and run.decision is None


@dataclass(frozen=True, slots=True)
class RunDetails:
    """A run with what it kept of its problems."""

    run: RunSummary
    rejections: list[Rejection]
    """Listings the adapter or a normalisation step refused, with the reason (at most 500 are kept)."""
    warnings: list[str]
    held_listings: int | None
    """For a run still holding its batch: how many listings it would apply."""


def run_details(session: Session, run_id: int) -> RunDetails | None:
    """Run ``run_id`` with its rejections and warnings (None when there is no such run)."""
    run = session.get(SourceRun, run_id)
    if run is None:
        return None
    notes: list[Any] = list(run.warnings or [])
    held = run.held if isinstance(run.held, dict) else None
    return RunDetails(
        run=RunSummary.of(run),
        rejections=[Rejection.from_data(entry) for entry in notes if isinstance(entry, dict)],
        warnings=[str(entry) for entry in notes if not isinstance(entry, dict)],
        held_listings=len(held.get("listings", [])) if held else None,
    )
