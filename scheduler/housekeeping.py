"""The daily housekeeping job: close stale runs, purge old cancellations, expire held runs, trim logs.

- **Stale runs.** A run still ``running`` after ``scheduler.stale_run_minutes`` belongs to a process
  that died or was killed; its ingest transaction never committed (so none of its data exists). It
  is closed as ``aborted`` with the reason and counts as a failure of its source.
- **Old cancellations.** A cancelled occurrence stays in feeds for ``feeds.cancelled_retention_days``
  so calendar clients learn of the cancellation. After that — and only once it lies in the past by
  the same margin — it is deleted with its offers *and its source records*: records point at their
  occurrence, and a record of a long-past cancelled performance has no use left (ingest ignores
  listings that far in the past, so a source still showing it cannot bring it back). An event left
  with no occurrences and no records goes too, with its redirects.
- **Held runs.** A run the mass-cancellation guard held back keeps its whole batch in
  ``source_runs.held`` until an operator confirms it. Not confirmed within
  ``ingest.held_run_retention_days``, it is marked ``expired`` and the batch dropped: a batch that old
  must never apply later (the source has moved on), and it must not be stored for ever.
- **Push audit log.** Entries of refused pushes (4xx, 5xx) are deleted after
  ``push.refused_log_retention_days``, all others after ``push.log_retention_days``.
- **Change feed.** Changes and tombstones older than ``open_data.change_retention_days`` are pruned;
  a reader whose cursor lies before them must start again from a full export.
- **HTTP cache.** Conditional-request cache entries (``http.cache_dir``) that were not written for
  ``cache_max_age`` belong to URLs no source fetches any more; every fetch rewrites its entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator.changes import prune_changes, record_purge
from aggregator.config import Settings
from aggregator.ingest import wait_for_ingest
from aggregator.login_sessions import Lifetimes, drop_stale_sessions
from aggregator.models import Event, Occurrence, Offer, PushLog, SourceRecord, SourceRun, SourceState
from aggregator.types import RunStatus, Status

log = logging.getLogger(__name__)

CACHE_MAX_AGE = timedelta(days=30)
"""Default age after which an untouched HTTP cache entry is dropped."""


@dataclass(slots=True)
class PurgeCounts:
    """What :func:`purge_cancelled` deleted."""

    occurrences: int = 0
    records: int = 0
    events: int = 0


@dataclass(slots=True)
class HousekeepingReport:
    """What one housekeeping pass did."""

    aborted_runs: list[int]
    purged: PurgeCounts
    cache_files: int
    expired_runs: list[int]
    push_log: int
    console_sessions: int = 0
    changes: int = 0


def close_stale_runs(factory: sessionmaker[Session], *, older_than: timedelta, now: datetime) -> list[int]:
    """Mark runs still ``running`` after ``older_than`` as aborted; returns their ids."""
    cutoff = now - older_than
    minutes = int(older_than.total_seconds() // 60)
    with factory() as session, session.begin():
        stale = session.scalars(
            select(SourceRun)
            .where(SourceRun.status == RunStatus.RUNNING.value, SourceRun.started_at < cutoff)
            .order_by(SourceRun.id)
        ).all()
        for run in stale:
            run.status = RunStatus.ABORTED.value
            run.finished_at = now
            run.error = (
                f"aborted: still running after {minutes} minutes (its process stopped or was killed); "
                "nothing of this run was applied"
            )
            state = session.get(SourceState, run.source)
            if state is None:
                state = SourceState(
                    source=run.source, consecutive_failures=0, last_listings=0, enabled=True, updated_at=now
                )
                session.add(state)
            state.consecutive_failures = (state.consecutive_failures or 0) + 1
            state.updated_at = now
            log.warning(
                "closed stale run %s of %s as aborted",
                run.id,
                run.source,
                extra={"source": run.source, "run_id": run.id},
            )
        return [run.id for run in stale]


def purge_cancelled(factory: sessionmaker[Session], *, retention: timedelta, now: datetime) -> PurgeCounts:
    """Delete cancelled occurrences that started, and were last changed, over ``retention`` ago."""
    cutoff = now - retention
    counts = PurgeCounts()
    with factory() as session, session.begin():
        wait_for_ingest(session)  # the change feed's lock is taken after the ingest lock, never before
        doomed = session.execute(
            select(Occurrence.id, Occurrence.event_id).where(
                Occurrence.status == Status.CANCELLED.value,
                Occurrence.start < cutoff,
                Occurrence.updated_at < cutoff,
            )
        ).all()
        if not doomed:
            return counts
        ids = [row.id for row in doomed]
        event_ids = {row.event_id for row in doomed}
        record_purge(session, ids, now)
        for chunk in _chunks(ids):
            session.execute(delete(Offer).where(Offer.occurrence_id.in_(chunk)))
            records = session.execute(delete(SourceRecord).where(SourceRecord.occurrence_id.in_(chunk)))
            counts.records += records.rowcount or 0  # type: ignore[attr-defined]
            occurrences = session.execute(delete(Occurrence).where(Occurrence.id.in_(chunk)))
            counts.occurrences += occurrences.rowcount or 0  # type: ignore[attr-defined]
        still_used = set(
            session.scalars(
                select(Occurrence.event_id)
                .where(Occurrence.event_id.in_(event_ids))
                .union(select(SourceRecord.event_id).where(SourceRecord.event_id.in_(event_ids)))
            )
        )
        orphans = sorted(event_ids - still_used)
        for chunk in _chunks(orphans):
            counts.events += session.execute(delete(Event).where(Event.id.in_(chunk))).rowcount or 0  # type: ignore[attr-defined]
    log.info(
        "purged %d cancelled occurrences (%d records, %d events)",
        counts.occurrences,
        counts.records,
        counts.events,
    )
    return counts


def expire_held_runs(factory: sessionmaker[Session], *, older_than: timedelta, now: datetime) -> list[int]:
    """Mark held-back runs not confirmed for ``older_than`` as expired and drop their batches."""
    cutoff = now - older_than
    days = older_than.days
    with factory() as session, session.begin():
        ids = list(
            session.scalars(
                select(SourceRun.id)
                .where(
                    SourceRun.status == RunStatus.SUSPICIOUS.value,
                    func.coalesce(SourceRun.finished_at, SourceRun.started_at) < cutoff,
                )
                .order_by(SourceRun.id)
            )
        )
        for chunk in _chunks(ids):
            session.execute(
                update(SourceRun)
                .where(SourceRun.id.in_(chunk))
                .values(
                    status=RunStatus.EXPIRED.value,
                    held=None,
                    error=f"expired: held back and not confirmed within {days} days; its listings were "
                    "dropped and will never be applied",
                )
                .execution_options(synchronize_session=False)
            )
    for run_id in ids:
        log.warning(
            "held run %s expired unconfirmed; its batch was dropped", run_id, extra={"run_id": run_id}
        )
    return ids


def purge_push_log(
    factory: sessionmaker[Session], *, refused_older_than: timedelta, older_than: timedelta, now: datetime
) -> int:
    """Delete push audit entries: refused ones after ``refused_older_than``, all after ``older_than``."""
    with factory() as session, session.begin():
        result = session.execute(
            delete(PushLog).where(
                or_(
                    and_(PushLog.status >= 400, PushLog.at < now - refused_older_than),
                    PushLog.at < now - older_than,
                )
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def drop_expired_cache(directory: Path, *, max_age: timedelta = CACHE_MAX_AGE, now: datetime) -> int:
    """Delete cache files under ``directory`` not written for ``max_age``; returns how many."""
    if not directory.is_dir():
        return 0
    cutoff = now.timestamp() - max_age.total_seconds()
    removed = 0
    for path in directory.rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # a concurrent fetch replaced it
            continue
    return removed


def drop_old_changes(factory: sessionmaker[Session], *, retention: timedelta, now: datetime) -> int:
    """Prune the change feed of changes older than ``retention``; returns how many went."""
    with factory() as session, session.begin():
        return prune_changes(session, retention=retention, now=now)


def housekeeping(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    cache_max_age: timedelta = CACHE_MAX_AGE,
) -> HousekeepingReport:
    """One full pass, as the daily job runs it."""
    report = HousekeepingReport(
        aborted_runs=close_stale_runs(
            factory, older_than=timedelta(minutes=settings.scheduler.stale_run_minutes), now=now
        ),
        purged=purge_cancelled(
            factory, retention=timedelta(days=settings.feeds.cancelled_retention_days), now=now
        ),
        cache_files=drop_expired_cache(
            settings.project_path(settings.http.cache_dir), max_age=cache_max_age, now=now
        ),
        expired_runs=expire_held_runs(
            factory, older_than=timedelta(days=settings.ingest.held_run_retention_days), now=now
        ),
        push_log=purge_push_log(
            factory,
            refused_older_than=timedelta(days=settings.push.refused_log_retention_days),
            older_than=timedelta(days=settings.push.log_retention_days),
            now=now,
        ),
        changes=drop_old_changes(
            factory, retention=timedelta(days=settings.open_data.change_retention_days), now=now
        ),
        console_sessions=drop_stale_sessions(
            factory,
            now=now,
            lifetimes=Lifetimes(
                idle=timedelta(minutes=settings.console.idle_minutes),
                absolute=timedelta(hours=settings.console.absolute_hours),
            ),
        ),
    )
    log.info(
        "housekeeping: %d stale runs aborted, %d occurrences purged, %d cache files dropped, "
        "%d held runs expired, %d push log entries deleted, %d console sessions ended",
        len(report.aborted_runs),
        report.purged.occurrences,
        report.cache_files,
        len(report.expired_runs),
        report.push_log,
        report.console_sessions,
    )
    return report
