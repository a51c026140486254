"""The push API's writes: create/update, replace, cancel and sync a venue's records through ingest.

Every write is one :func:`aggregator.ingest.ingest` call for the token's source (so normalisation,
deduplication, provenance and source priority are those of every other source), with the source's
kind set to ``push``. Around it, the source's records are read before and after, under a lock per
source, to say per record what happened: ``created``, ``updated``, ``unchanged``, ``cancelled``,
and for a sync ``missing`` (not sent; cancelled once it has been missing from
``ingest.missing_runs_before_cancel`` successive syncs, the vanishing rule of every source).

The lock is a :class:`threading.Lock` per source in this process and, across processes, a session
advisory lock per source on PostgreSQL or an ``flock`` on a file beside a SQLite database, so that
concurrent pushes of one source from several processes are applied one after the other and the
before/after reading is exact. Ingest itself serialises all
runs with its own advisory lock.

Ownership: a token may touch only records of its own source, and of those only records placed at
one of its venues (:class:`Forbidden` otherwise). Ids are the venue's own and scoped to the source,
so one venue's ``@id`` can never address another venue's record.
"""

from __future__ import annotations

import fcntl
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, text

from aggregator.ingest import IngestContext, RunReport, ingest
from aggregator.listing import Listing
from aggregator.models import SourceRecord
from aggregator.serialise import listing_from_data
from aggregator.types import RunStatus, Status
from calendar_api.push.tokens import PushToken
from calendar_api.push.validate import Batch

PUSH_KIND = "push"
_LOCK_NAMESPACE = 7_411_2025
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class Forbidden(Exception):
    """The token may not touch these records; ``records`` are their ids."""

    def __init__(self, reason: str, records: Sequence[str]) -> None:
        self.reason = reason
        self.records = list(records)
        super().__init__(reason)


class NotFound(Exception):
    """The source has no record with this id."""

    def __init__(self, record_id: str) -> None:
        self.record_id = record_id
        super().__init__(f"no event with id {record_id!r}")


class WriteFailed(Exception):
    """Ingest failed (a database problem, a bug); nothing was written. ``run_id`` names the run."""

    def __init__(self, run_id: int, message: str) -> None:
        self.run_id = run_id
        self.message = message
        super().__init__(message)


class Held(WriteFailed):
    """The mass-cancellation guard held a sync back; nothing changed until an operator confirms the run."""


@dataclass(slots=True)
class Outcome:
    """What one record's write did."""

    id: str
    result: str
    path: str | None = None
    event_id: str | None = None
    occurrence_id: str | None = None
    missing_runs: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The outcome as it appears in a response and the audit log."""
        body: dict[str, Any] = {"id": self.id, "result": self.result}
        for name in ("path", "event_id", "occurrence_id", "missing_runs"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


@dataclass(slots=True)
class WriteResult:
    """What one write did: the run it made and each record's outcome."""

    run_id: int
    source: str
    records: list[Outcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many records had each result."""
        counts: dict[str, int] = {}
        for outcome in self.records:
            counts[outcome.result] = counts.get(outcome.result, 0) + 1
        return counts

    @property
    def created(self) -> bool:
        """Whether any record was created."""
        return any(outcome.result == "created" for outcome in self.records)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    content_hash: str
    active: bool
    occurrence_id: str
    event_id: str
    missing_runs: int
    status: str | None
    venue_slug: str | None


def push_context(ctx: IngestContext, source: str) -> IngestContext:
    """``ctx`` with ``source`` of kind ``push`` (first in the default source priority)."""
    return replace(ctx, kinds={**ctx.kinds, source: PUSH_KIND})


def upsert(ctx: IngestContext, token: PushToken, batch: Batch, *, now: datetime) -> WriteResult:
    """Create or update the batch's records (POST /events); nothing vanishes."""
    ids = batch.record_ids
    with _source_lock(ctx, token.source):
        before = _snapshots(ctx, token.source, ids)
        _own(token, before, ids)
        report = _ingest(ctx, token.source, [item.listing for item in batch.items], complete=False, now=now)
        after = _snapshots(ctx, token.source, ids)
    outcomes = [_outcome(item.listing.record_id, before, after, path=item.path) for item in batch.items]
    return WriteResult(report.run_id, token.source, outcomes)


def replace_event(
    ctx: IngestContext, token: PushToken, record_id: str, batch: Batch, *, now: datetime
) -> WriteResult:
    """Make the event ``record_id`` exactly the batch (PUT): dates of its series not sent are cancelled."""
    sent = set(batch.record_ids)
    with _source_lock(ctx, token.source):
        before = _snapshots(ctx, token.source, [record_id], series=True)
        _own(token, before, before)
        dropped = [
            _cancelled(ctx, token.source, rid, now)
            for rid, snap in before.items()
            if rid not in sent and snap.status != Status.CANCELLED.value
        ]
        listings = [item.listing for item in batch.items] + dropped
        report = _ingest(ctx, token.source, listings, complete=False, now=now)
        after = _snapshots(ctx, token.source, [record_id], series=True)
    outcomes = [_outcome(item.listing.record_id, before, after, path=item.path) for item in batch.items]
    outcomes += [_outcome(listing.record_id, before, after, changed="cancelled") for listing in dropped]
    return WriteResult(report.run_id, token.source, outcomes)


def cancel_event(ctx: IngestContext, token: PushToken, record_id: str, *, now: datetime) -> WriteResult:
    """Mark the event ``record_id`` (every date of its series) cancelled, keeping its history (DELETE)."""
    with _source_lock(ctx, token.source):
        before = _snapshots(ctx, token.source, [record_id], series=True)
        if not before:
            raise NotFound(record_id)
        _own(token, before, before)
        listings = [_cancelled(ctx, token.source, rid, now) for rid in sorted(before)]
        report = _ingest(ctx, token.source, listings, complete=False, now=now)
        after = _snapshots(ctx, token.source, [record_id], series=True)
    outcomes = [_outcome(listing.record_id, before, after, changed="cancelled") for listing in listings]
    return WriteResult(report.run_id, token.source, outcomes)


def sync(ctx: IngestContext, token: PushToken, batch: Batch, *, now: datetime) -> WriteResult:
    """Make the batch the source's whole programme (POST /sync); :class:`Held` when the guard holds it."""
    with _source_lock(ctx, token.source):
        before = _snapshots(ctx, token.source, None)
        _own(token, before, before)
        report = _ingest(ctx, token.source, [item.listing for item in batch.items], complete=True, now=now)
        after = _snapshots(ctx, token.source, None)
    sent = set(batch.record_ids)
    outcomes = [_outcome(item.listing.record_id, before, after, path=item.path) for item in batch.items]
    for record_id in sorted(set(before) - sent):
        old, new = before[record_id], after.get(record_id)
        if new is None or not old.active or (new.missing_runs == old.missing_runs and new.active):
            continue
        result = "missing" if new.active else "cancelled"
        outcomes.append(
            Outcome(
                record_id,
                result,
                event_id=new.event_id,
                occurrence_id=new.occurrence_id,
                missing_runs=new.missing_runs,
            )
        )
    return WriteResult(report.run_id, token.source, outcomes)


def stored_records(ctx: IngestContext, source: str, record_id: str) -> list[SourceRecord]:
    """The source's records of ``record_id`` (and the dates of its series), detached."""
    with ctx.factory() as session:
        return list(session.scalars(_series_query(source, [record_id]).order_by(SourceRecord.record_id)))


# -- helpers ----------------------------------------------------------------------------------


def _ingest(
    ctx: IngestContext, source: str, listings: list[Listing], *, complete: bool, now: datetime
) -> RunReport:
    report = ingest(push_context(ctx, source), source, listings, complete=complete, now=now)
    if report.status == RunStatus.SUSPICIOUS:
        raise Held(report.run_id, report.error or "held back by the mass-cancellation guard")
    if report.status != RunStatus.SUCCESS:
        raise WriteFailed(report.run_id, report.error or f"run {report.run_id} ended {report.status.value}")
    return report


def _series_query(source: str, record_ids: Sequence[str]) -> Any:
    matches = [SourceRecord.record_id == rid for rid in record_ids]
    matches += [SourceRecord.record_id.startswith(f"{rid}#", autoescape=True) for rid in record_ids]
    return select(SourceRecord).where(SourceRecord.source == source, or_(*matches))


def _snapshots(
    ctx: IngestContext, source: str, record_ids: Sequence[str] | None, *, series: bool = False
) -> dict[str, _Snapshot]:
    """The source's records (all, or these ids, or these ids with their series' dates) as they are now."""
    with ctx.factory() as session:
        if record_ids is None:
            queries = [select(SourceRecord).where(SourceRecord.source == source)]
        elif series:
            queries = [_series_query(source, record_ids)]
        else:
            queries = [
                select(SourceRecord).where(
                    SourceRecord.source == source, SourceRecord.record_id.in_(list(record_ids[at : at + 500]))
                )
                for at in range(0, len(record_ids), 500)
            ]
        return {record.record_id: _snapshot(record) for query in queries for record in session.scalars(query)}


def _snapshot(record: SourceRecord) -> _Snapshot:
    data = record.data or {}
    return _Snapshot(
        record.content_hash,
        record.active,
        record.occurrence_id,
        record.event_id,
        record.missing_runs,
        data.get("status"),
        data.get("venue_slug"),
    )


def _own(token: PushToken, snapshots: dict[str, _Snapshot], ids: Any) -> None:
    """Refuse when a stored record the write would touch is placed at a venue the token does not write for."""
    foreign = sorted(
        rid for rid in ids if rid in snapshots and snapshots[rid].venue_slug not in (None, *token.venues)
    )
    if foreign:
        raise Forbidden(
            f"stored at a venue this token does not write for (it writes for {', '.join(token.venues)})",
            foreign,
        )


def _cancelled(ctx: IngestContext, source: str, record_id: str, now: datetime) -> Listing:
    """The stored record ``record_id`` as a listing that says it is cancelled."""
    with ctx.factory() as session:
        record = session.scalars(
            select(SourceRecord).where(SourceRecord.source == source, SourceRecord.record_id == record_id)
        ).one()
        listing = listing_from_data(record.data)
    return listing.evolve(
        source=source,
        status=Status.CANCELLED,
        status_text=None,
        fetched_at=now,
        warnings=[],
        raw={**listing.raw, "cancelled_by": "push"},
    )


def _outcome(
    record_id: str,
    before: dict[str, _Snapshot],
    after: dict[str, _Snapshot],
    *,
    path: str | None = None,
    changed: str = "updated",
) -> Outcome:
    old, new = before.get(record_id), after.get(record_id)
    if new is None:  # cannot happen after a successful run; reported rather than hidden
        return Outcome(record_id, "rejected", path)
    if old is None:
        result = "created"
    elif (
        old.content_hash != new.content_hash
        or old.occurrence_id != new.occurrence_id
        or old.active != new.active
    ):
        result = changed
    else:
        result = "unchanged"
    return Outcome(record_id, result, path, new.event_id, new.occurrence_id)


@contextmanager
def _source_lock(ctx: IngestContext, source: str) -> Iterator[None]:
    """Hold the source's lock in this process and across processes (PostgreSQL and SQLite files)."""
    with _locks_guard:
        lock = _locks.setdefault(source, threading.Lock())
    with lock:
        engine = ctx.factory.kw.get("bind")
        if engine is not None and engine.dialect.name == "sqlite":
            with _file_lock(_sqlite_lock_path(engine.url.database)):
                yield
            return
        if engine is None or engine.dialect.name != "postgresql":
            yield
            return
        keys = {"a": _LOCK_NAMESPACE, "b": zlib.crc32(source.encode("utf-8")) - 2**31}
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:a, :b)"), keys)
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), keys)
                connection.commit()


def _sqlite_lock_path(database: str | None) -> Path | None:
    """The push lock file beside a file-backed SQLite database (None for an in-memory one)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return path.with_name(path.name + ".push.lock")


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` while a push reads, writes and reads back.

    SQLite has no advisory locks; several API processes on one database file take turns through this
    file instead (one lock for all sources: SQLite has one writer at a time anyway). The lock dies with
    its process, so a killed worker never leaves it behind.
    """
    if path is None:
        yield
        return
    with path.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
