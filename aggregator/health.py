"""Source health as operators see it: last run, consecutive failures, and a one-word verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.derive import source_kind_default
from aggregator.models import SourceRecord, SourceRun, SourceState
from aggregator.types import Health, RunStatus


class SourceInfo(Protocol):
    """What health needs to know of a configured source (read-only)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def schedule(self) -> str: ...
    @property
    def enabled(self) -> bool: ...


@dataclass(slots=True)
class SourceHealth:
    """One row of the health view."""

    name: str
    kind: str
    schedule: str
    health: str
    consecutive_failures: int
    last_run: SourceRun | None
    last_success: datetime | None
    records: int
    next_attempt_at: datetime | None


def verdict(enabled: bool, last: SourceRun | None, failures: int) -> Health:
    """The health word for a source from its last run."""
    if not enabled:
        return Health.DISABLED
    if last is None:
        return Health.NEVER_RUN
    if last.status in (RunStatus.FAILED.value, RunStatus.ABORTED.value) or failures > 0:
        return Health.FAILING
    if last.status in (RunStatus.SUSPICIOUS.value, RunStatus.EXPIRED.value, RunStatus.DISCARDED.value):
        return Health.SUSPICIOUS
    if last.status == RunStatus.DEGRADED.value:
        return Health.DEGRADED
    return Health.OK


def source_health(factory: sessionmaker[Session], specs: Mapping[str, SourceInfo]) -> list[SourceHealth]:
    """Health of every configured source (and of sources with runs but no configuration, e.g. imports)."""
    with factory() as session:
        latest = {
            run.source: run
            for run in session.scalars(
                select(SourceRun).where(
                    SourceRun.id.in_(
                        select(func.max(SourceRun.id))
                        .where(SourceRun.status != "running")
                        .group_by(SourceRun.source)
                    )
                )
            )
        }
        successes = dict(
            session.execute(
                select(SourceRun.source, func.max(SourceRun.finished_at))
                .where(SourceRun.status.in_([RunStatus.SUCCESS.value, RunStatus.CONFIRMED.value]))
                .group_by(SourceRun.source)
            ).all()
        )
        counts = dict(
            session.execute(
                select(SourceRecord.source, func.count())
                .where(SourceRecord.active.is_(True))
                .group_by(SourceRecord.source)
            ).all()
        )
        states = {s.source: s for s in session.scalars(select(SourceState))}
    names: Sequence[str] = sorted(set(specs) | set(latest))
    rows = []
    for name in names:
        spec = specs.get(name)
        state = states.get(name)
        failures = state.consecutive_failures if state else 0
        enabled = spec.enabled if spec else True
        if state is not None and not state.enabled:
            enabled = False
        rows.append(
            SourceHealth(
                name=name,
                kind=spec.kind if spec else source_kind_default(name),
                schedule=spec.schedule if spec else "manual",
                health=verdict(enabled, latest.get(name), failures).value,
                consecutive_failures=failures,
                last_run=latest.get(name),
                last_success=successes.get(name),
                records=counts.get(name, 0),
                next_attempt_at=state.next_attempt_at if state else None,
            )
        )
    return rows


def recent_runs(factory: sessionmaker[Session], source: str, *, limit: int = 20) -> list[SourceRun]:
    """The newest runs of ``source``."""
    with factory() as session:
        return list(
            session.scalars(
                select(SourceRun).where(SourceRun.source == source).order_by(SourceRun.id.desc()).limit(limit)
            )
        )
