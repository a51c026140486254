"""The sources as the editorial console shows them: health, recent runs, next run, backoff, pause, requests.

Everything is read from the database and the configured sources' schedules, so the web process can
show it without asking the scheduler: the next run is where the source's schedule fires next
(:func:`aggregator.schedules.next_scheduled_run`, before jitter), pushed out while it backs off, and
none while it is paused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, sessionmaker

from aggregator.derive import source_kind_default
from aggregator.health import SourceHealth, SourceInfo, source_health
from aggregator.models import SourceRun, SourceState
from aggregator.run_details import RunSummary
from aggregator.schedules import ScheduleError, next_scheduled_run
from aggregator.types import Health, RunStatus

_LIGHT = (defer(SourceRun.held), defer(SourceRun.warnings))
"""A list of runs needs neither a held batch nor the kept rejections, which can be large."""


@dataclass(frozen=True, slots=True)
class SourceOverview:
    """One source in the console."""

    name: str
    kind: str
    schedule: str
    health: str
    configured: bool
    """A configured source; the others (imports, venues' pushes) have runs but no schedule to steer."""
    enabled_in_settings: bool
    paused: bool
    paused_at: datetime | None
    paused_by: str | None
    records: int
    """Active source records: what the source currently contributes."""
    consecutive_failures: int
    last_success: datetime | None
    backoff_until: datetime | None
    """While failures push the next attempt out: when the source may run again."""
    next_run: datetime | None
    run_requested_at: datetime | None
    run_requested_by: str | None
    runs: list[RunSummary]
    """The newest runs, newest first."""
    held_runs: list[int]
    """Runs held back by the guard that await a decision, oldest first."""

    @property
    def can_steer(self) -> bool:
        """Whether pause, resume and run now apply (a configured source enabled in the settings)."""
        return self.configured and self.enabled_in_settings


def sources_overview(
    factory: sessionmaker[Session], specs: Mapping[str, SourceInfo], *, now: datetime, runs: int = 5
) -> list[SourceOverview]:
    """Every configured source (and every source with runs), with its newest ``runs`` runs."""
    rows = source_health(factory, specs)
    with factory() as session:
        states = {state.source: state for state in session.scalars(select(SourceState))}
        recent = _recent_runs(session, runs)
        held = _held_runs(session)
    return [
        _overview(row, specs, states.get(row.name), recent[row.name], held[row.name], now) for row in rows
    ]


def source_overview(
    factory: sessionmaker[Session],
    specs: Mapping[str, SourceInfo],
    name: str,
    *,
    now: datetime,
    runs: int = 20,
) -> SourceOverview | None:
    """One source with its newest ``runs`` runs (None when it is neither configured nor has runs)."""
    with factory() as session:
        state = session.get(SourceState, name)
        newest = session.scalars(
            select(SourceRun)
            .options(*_LIGHT)
            .where(SourceRun.source == name)
            .order_by(SourceRun.id.desc())
            .limit(runs)
        ).all()
        recent = [RunSummary.of(run) for run in newest]
        held = _held_runs(session, name)[name]
    if name not in specs and not recent:
        return None
    rows = source_health(factory, {name: specs[name]} if name in specs else {})
    row = next((r for r in rows if r.name == name), None)
    if row is None:  # runs, but none finished yet (health counts finished runs only)
        row = SourceHealth(
            name, source_kind_default(name), "manual", Health.NEVER_RUN.value, 0, None, None, 0, None
        )
    return _overview(row, specs, state, recent, held, now)


def _overview(
    row: SourceHealth,
    specs: Mapping[str, SourceInfo],
    state: SourceState | None,
    recent: list[RunSummary],
    held: list[int],
    now: datetime,
) -> SourceOverview:
    spec = specs.get(row.name)
    paused = state is not None and not state.enabled
    attempt = state.next_attempt_at if state is not None else None
    next_run = None
    if spec is not None and spec.enabled and not paused:
        try:
            next_run = next_scheduled_run(row.schedule, name=row.name, now=now, next_attempt_at=attempt)
        except ScheduleError:  # the scheduler refuses to start with it; nothing will run
            next_run = None
    return SourceOverview(
        name=row.name,
        kind=row.kind,
        schedule=row.schedule,
        health=row.health,
        configured=spec is not None,
        enabled_in_settings=spec.enabled if spec is not None else False,
        paused=paused,
        paused_at=state.paused_at if state is not None else None,
        paused_by=state.paused_by if state is not None else None,
        records=row.records,
        consecutive_failures=row.consecutive_failures,
        last_success=row.last_success,
        backoff_until=attempt if attempt is not None and attempt > now else None,
        next_run=next_run,
        run_requested_at=state.run_requested_at if state is not None else None,
        run_requested_by=state.run_requested_by if state is not None else None,
        runs=recent,
        held_runs=held,
    )


def _recent_runs(session: Session, limit: int) -> defaultdict[str, list[RunSummary]]:
    """Each source's newest ``limit`` runs, in one query."""
    place = func.row_number().over(partition_by=SourceRun.source, order_by=SourceRun.id.desc()).label("place")
    ranked = select(SourceRun.id, place).subquery()
    query = (
        select(SourceRun)
        .options(*_LIGHT)
        .join(ranked, ranked.c.id == SourceRun.id)
        .where(ranked.c.place <= limit)
        .order_by(SourceRun.source, SourceRun.id.desc())
    )
    found: defaultdict[str, list[RunSummary]] = defaultdict(list)
    for run in session.scalars(query):
        found[run.source].append(RunSummary.of(run))
    return found


def _held_runs(session: Session, source: str | None = None) -> defaultdict[str, list[int]]:
    """Runs awaiting a decision, by source (one source only when ``source`` is given)."""
    query = select(SourceRun.source, SourceRun.id).where(
        SourceRun.status == RunStatus.SUSPICIOUS.value, SourceRun.decision.is_(None)
    )
    if source is not None:
        query = query.where(SourceRun.source == source)
    found: defaultdict[str, list[int]] = defaultdict(list)
    for name, run_id in session.execute(query.order_by(SourceRun.id)):
        found[name].append(run_id)
    return found
