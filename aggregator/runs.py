"""Source runs: what a run needs, what it did, and its row from start to success, failure or hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from aggregator.clock import Clock
from aggregator.config import Settings
from aggregator.derive import Priority
from aggregator.listing import Listing, Rejection
from aggregator.models import SourceRun, SourceState
from aggregator.normalise.categories import CategoryVocabulary, load_categories
from aggregator.normalise.venues import VenueRegistry, load_venues
from aggregator.serialise import listing_to_data
from aggregator.types import RunStatus

MAX_STORED_REJECTIONS = 500


class Held(Exception):
    """The mass-cancellation guard stopped a write: ``missing`` of ``future`` listings would vanish."""

    def __init__(self, missing: int, future: int) -> None:
        self.missing = missing
        self.future = future


@dataclass(slots=True)
class RunReport:
    """What one run did."""

    run_id: int
    source: str
    status: RunStatus
    listings: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    rejected: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    event_ids: set[str] = field(default_factory=set)
    rejections: list[Rejection] = field(default_factory=list)


@dataclass(slots=True)
class IngestContext:
    """Everything a run needs besides its listings."""

    factory: sessionmaker[Session]
    settings: Settings
    clock: Clock = field(kw_only=True)
    """When things happen: run bookkeeping, and "now" for a run that is given none."""
    kinds: Mapping[str, str] = field(default_factory=dict)
    venues: VenueRegistry = field(default_factory=load_venues)
    """The seed of the venue registry (``venues.toml``); runs match against the stored registry
    (:func:`aggregator.ingest.current_venues`)."""
    categories: CategoryVocabulary = field(default_factory=load_categories)
    shift_weeks: int = 0
    """The demo only: every normalised listing moves this many weeks forward (aggregator.timeshift)."""

    @property
    def priority(self) -> Priority:
        """Source priority from settings and the kinds of the configured sources."""
        return Priority(self.settings.dedupe.priority, self.kinds)


def start_run(
    ctx: IngestContext, source: str, trigger: str = "manual", *, now: datetime | None = None
) -> int:
    """Record that a run began at ``now`` (committed at once, so a crash leaves a trace)."""
    with ctx.factory() as session, session.begin():
        run = SourceRun(
            source=source, status=RunStatus.RUNNING.value, trigger=trigger, started_at=now or ctx.clock()
        )
        session.add(run)
        session.flush()
        return run.id


def fail_run(ctx: IngestContext, run_id: int, error: str, *, listings: int = 0) -> RunReport:
    """Close a run as failed with ``error``; the source's data stays as it was."""
    with ctx.factory() as session, session.begin():
        run = session.get_one(SourceRun, run_id)
        run.status = RunStatus.FAILED.value
        run.error = error[:4000]
        run.listings = listings
        finished = ctx.clock()
        run.finished_at = finished
        _bump_state(session, run.source, failed=True, listings=None, now=finished)
        return RunReport(run_id, run.source, RunStatus.FAILED, listings=listings, error=error)


def _bump_state(session: Session, source: str, *, failed: bool, listings: int | None, now: datetime) -> None:
    state = session.get(SourceState, source)
    if state is None:
        state = SourceState(
            source=source, consecutive_failures=0, last_listings=0, enabled=True, updated_at=now
        )
        session.add(state)
    state.consecutive_failures = state.consecutive_failures + 1 if failed else 0
    if listings is not None:
        state.last_listings = listings
    state.updated_at = now


def finish_run(session: Session, run_id: int, report: RunReport, finished: datetime) -> None:
    run = session.get_one(SourceRun, run_id)
    run.status = report.status.value
    for name in ("listings", "added", "updated", "unchanged", "cancelled", "rejected"):
        setattr(run, name, getattr(report, name))
    run.warnings = run_notes(report)
    run.error = report.error[:4000] if report.error else None
    run.finished_at = finished
    _bump_state(session, run.source, failed=False, listings=report.listings, now=finished)


def run_notes(report: RunReport) -> list[Any]:
    """What a run keeps of its problems: each rejection as an object (see :meth:`Rejection.to_data`), then
    the warnings as text; ``stadtkalender runs show RUN`` prints both."""
    kept = [rejection.to_data() for rejection in report.rejections[:MAX_STORED_REJECTIONS]]
    return [*kept, *report.warnings[:200]]


def keep_rejections(ctx: IngestContext, report: RunReport) -> None:
    """Record a failed run's rejections, so that the operator can see what was wrong with the data."""
    with ctx.factory() as session, session.begin():
        run = session.get_one(SourceRun, report.run_id)
        run.rejected = report.rejected
        run.warnings = run_notes(report)


def hold_run(
    ctx: IngestContext,
    run_id: int,
    source: str,
    listings: list[Listing],
    report: RunReport,
    held: Held,
    now: datetime,
) -> RunReport:
    message = (
        (
            "held back: this run has no listings at all, after earlier runs had some; nothing was changed. "
            f"Check the source, then confirm or discard it at /admin/runs/{run_id} "
            f"(or `stadtkalender runs confirm {run_id}`)."
        )
        if not listings
        else (
            f"held back: this run would drop {held.missing} of {held.future} future listings "
            f"(over {ctx.settings.ingest.mass_cancel_ratio:.0%}); nothing was changed. "
            f"Check the source, then confirm or discard it at /admin/runs/{run_id} "
            f"(or `stadtkalender runs confirm {run_id}`)."
        )
    )
    with ctx.factory() as session, session.begin():
        run = session.get_one(SourceRun, run_id)
        run.status = RunStatus.SUSPICIOUS.value
        run.error = message
        run.listings = report.listings
        run.rejected = report.rejected
        run.warnings = run_notes(report)
        run.held = {
            "listings": [listing_to_data(item) for item in listings],
            "missing": held.missing,
            "future": held.future,
            "now": now.isoformat(),
        }
        run.finished_at = ctx.clock()
    report.status = RunStatus.SUSPICIOUS
    report.error = message
    return report
