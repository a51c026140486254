"""Runs the mass-cancellation guard held back: what confirming one would cancel, and the decision on it.

:func:`held_preview` answers the editor's question before confirming — which stored occurrences would
be cancelled, which would only count one more missing run — by replaying the run's write phase in
memory, read-only: the same dedupe assignment (:mod:`aggregator.stored_index`), the same rule for
vanished records (:func:`aggregator.store.vanishing`) and the same status rule
(:func:`aggregator.derive.status_of`) that :func:`confirm_run` then applies.
:func:`confirm_held` applies the run, :func:`discard_held` drops its batch; both record who decided.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from aggregator.actions import COMMAND_LINE, ActionRefused, Change, audited
from aggregator.audit import Actor
from aggregator.decisions import merge_rules
from aggregator.derive import status_of
from aggregator.ingest import ingest, run_listings
from aggregator.models import Event, Occurrence, SourceRecord, SourceRun, SourceState
from aggregator.run_details import RunSummary
from aggregator.runs import IngestContext, RunReport, start_run
from aggregator.serialise import listing_from_data, listing_to_data
from aggregator.store import vanishing
from aggregator.stored_index import load_index
from aggregator.types import RunStatus, Status
from aggregator.venue_registry import load_registry

CONFIRM_TRIGGER = "confirm"
"""The trigger of the run that applies a confirmed held-back run."""
STALE_CLAIM = timedelta(hours=1)
"""A decision still in progress after this long was interrupted (see :func:`claim_decision`)."""


@dataclass(frozen=True, slots=True)
class StoredOccurrence:
    """A stored occurrence as the runs before the held one left it (what the public sees now)."""

    id: str
    event_id: str
    title: str
    start: datetime
    end: datetime | None
    all_day: bool
    venue: str | None
    room: str | None
    status: str


@dataclass(frozen=True, slots=True)
class PreviewItem:
    """One stored occurrence the held run touches, and why."""

    occurrence: StoredOccurrence
    record_id: str | None
    """The held run's source's record for it (None when the source never listed it)."""
    last_seen: datetime | None
    """When a run of the source last listed it."""
    missing_runs: int
    """Runs in a row without it, once confirmed."""
    reason: str
    """For a cancellation: ``vanished`` (no source lists it any more), ``moved`` (the source lists its
    record at another time) or ``source`` (the source says it is cancelled). For an occurrence that
    stays: ``counted`` (cancelled only after ``missing_runs_before_cancel`` runs without it) or
    ``listed_elsewhere`` (this source dropped it, another source still lists it)."""


@dataclass(frozen=True, slots=True)
class HeldPreview:
    """What confirming a held run would do, computed from the store as it is now."""

    run: RunSummary
    as_of: datetime
    """The moment the run was held: confirming replays it as of then."""
    listings: int
    """Listings the run would apply."""
    future: int
    """The source's active future records now."""
    cancels: list[PreviewItem]
    """Stored occurrences confirming cancels, by start."""
    counts_missing: list[PreviewItem]
    """Stored occurrences the run no longer lists that confirming does not cancel (yet), by start."""
    missing_runs_before_cancel: int
    newer_runs: list[RunSummary]
    """Runs of the source that applied data after this one was held: confirming replays an older state."""


def held_preview(session: Session, ctx: IngestContext, run_id: int) -> HeldPreview:
    """What :func:`confirm_held` would cancel and count missing, without changing anything.

    Raises :class:`ActionRefused` when ``run_id`` is not a held run awaiting a decision.
    """
    run = session.get(SourceRun, run_id)
    if run is None:
        raise ActionRefused("no_run", f"no run {run_id}", run=run_id)
    if run.status != RunStatus.SUSPICIOUS.value or not run.held:
        raise ActionRefused(
            "not_held", f"run {run_id} is {run.status}, not held back", run=run_id, status=run.status
        )
    source = run.source
    held_now = run.held.get("now")
    as_of = datetime.fromisoformat(held_now) if held_now else run.started_at
    replay = replace(ctx, shift_weeks=0)  # as _confirm replays it
    held = (listing_from_data(item) for item in run.held["listings"])
    # the stored registry, as a confirmation reads it (which first seeds the table; a preview writes nothing)
    venues = load_registry(session, ctx.venues)
    listings, _ = run_listings(replay, source, held, venues=venues, now=as_of)

    # the stored decisions, and the venues these listings name
    index, own = load_index(session, replay, source, as_of, merge_rules(session), listings)
    assignments = index.assign(listings, now=as_of).assignments
    placed = {a.listing.record_id: a for a in assignments}
    state = session.get(SourceState, source)
    found = vanishing(
        own.values(),
        set(placed),
        last_listings=state.last_listings if state is not None else 0,
        settings=ctx.settings.ingest,
        force=True,
        now=as_of,
    )
    deactivated = {record.record_id for record in found.cancelled}

    # this source's records after the run: listed ones placed, deactivated ones inactive, others unchanged
    kind = replay.priority.kind(source)
    after_own: list[SourceRecord] = []
    for record_id, record in own.items():
        if record_id in placed:
            continue
        after_own.append(_copy(record, active=record.active and record_id not in deactivated))
    moved: set[str] = set()
    for record_id, assignment in placed.items():
        known = own.get(record_id)
        data = listing_to_data(assignment.listing) | {"_kind": kind}
        after_own.append(
            SourceRecord(
                id=known.id if known else None,
                source=source,
                record_id=record_id,
                data=data,
                occurrence_id=assignment.occurrence_id,
                first_seen=known.first_seen if known else as_of,
                active=True,
            )
        )
        if known is not None and known.occurrence_id != assignment.occurrence_id:
            moved.add(known.occurrence_id)

    touched = moved | {a.occurrence_id for a in assignments} | {own[r].occurrence_id for r in deactivated}
    shown = touched | {record.occurrence_id for record in found.missing}
    occurrences = {
        o.id: o
        for o in session.scalars(
            select(Occurrence)
            .where(Occurrence.id.in_(sorted(shown)))
            .options(selectinload(Occurrence.event).selectinload(Event.venue))
        )
    }
    after: defaultdict[str, list[SourceRecord]] = defaultdict(list)
    for record in after_own:
        after[record.occurrence_id].append(record)
    others = select(SourceRecord).where(
        SourceRecord.occurrence_id.in_(sorted(touched)), SourceRecord.source != source
    )
    for record in session.scalars(others):
        after[record.occurrence_id].append(record)

    priority = replay.priority
    own_on: defaultdict[str, list[SourceRecord]] = defaultdict(list)
    for record in own.values():
        own_on[record.occurrence_id].append(record)
    cancels: list[PreviewItem] = []
    for occurrence in (occurrences[o] for o in sorted(touched) if o in occurrences):
        status, why = status_of(after[occurrence.id], priority)
        if status != Status.CANCELLED.value or occurrence.status == Status.CANCELLED.value:
            continue
        reason = "moved" if why == "vanished" and occurrence.id in moved else str(why)
        cancels.append(_item(occurrence, own_on[occurrence.id], placed, reason))
    cancelled_ids = {item.occurrence.id for item in cancels}
    counts_missing = [
        _item(
            occurrences[record.occurrence_id],
            [record],
            placed,
            "listed_elsewhere" if record.record_id in deactivated else "counted",
        )
        for record in found.missing
        if record.occurrence_id not in cancelled_ids and record.occurrence_id in occurrences
    ]
    newer = session.scalars(
        select(SourceRun)
        .where(
            SourceRun.source == source,
            SourceRun.id > run.id,
            SourceRun.status == RunStatus.SUCCESS.value,
        )
        .order_by(SourceRun.id)
    )
    return HeldPreview(
        run=RunSummary.of(run),
        as_of=as_of,
        listings=len(listings),
        future=len(found.future),
        cancels=_by_start(cancels),
        counts_missing=_by_start(counts_missing),
        missing_runs_before_cancel=ctx.settings.ingest.missing_runs_before_cancel,
        newer_runs=[RunSummary.of(r) for r in newer],
    )


def _copy(record: SourceRecord, *, active: bool) -> SourceRecord:
    """A detached stand-in for ``record`` as the run would leave it (never added to a session)."""
    return SourceRecord(
        id=record.id,
        source=record.source,
        record_id=record.record_id,
        data=record.data,
        occurrence_id=record.occurrence_id,
        first_seen=record.first_seen,
        active=active,
    )


def _item(
    occurrence: Occurrence, records: Iterable[SourceRecord], placed: dict[str, Any], reason: str
) -> PreviewItem:
    record = next(iter(records), None)
    missing = 0
    if record is not None and record.record_id not in placed:
        missing = record.missing_runs + (1 if record.active else 0)
    event = occurrence.event
    return PreviewItem(
        occurrence=StoredOccurrence(
            id=occurrence.id,
            event_id=occurrence.event_id,
            title=event.title,
            start=occurrence.start,
            end=occurrence.end,
            all_day=occurrence.all_day,
            venue=event.venue.name if event.venue is not None else None,
            room=occurrence.room,
            status=occurrence.status,
        ),
        record_id=record.record_id if record is not None else None,
        last_seen=record.last_seen if record is not None else None,
        missing_runs=missing,
        reason=reason,
    )


def _by_start(items: list[PreviewItem]) -> list[PreviewItem]:
    return sorted(items, key=lambda item: (item.occurrence.start, item.occurrence.id))


def _decision_data(run: SourceRun) -> dict[str, Any]:
    """A held run's state, JSON-ready (for the audit log)."""
    return {
        "status": run.status,
        "decision": run.decision,
        "decided_by": run.decided_by,
        "decided_at": run.decided_at.isoformat() if run.decided_at else None,
        "held_listings": len(run.held.get("listings", [])) if run.held else 0,
    }


def claim_decision(
    session: Session, run_id: int, decision: str, *, actor: Actor, now: datetime
) -> tuple[SourceRun, dict[str, Any]]:
    """Record ``decision`` by ``actor`` on held run ``run_id`` unless someone decided before; returns the
    run and its state before.

    The conditional update makes the first decision win on both databases (PostgreSQL re-checks the
    condition after a concurrent update commits; SQLite serialises writers). A claim older than
    :data:`STALE_CLAIM` belongs to a confirmation whose process died, and may be taken over. Raises
    :class:`ActionRefused` when there is nothing to decide.
    """
    current = session.get(SourceRun, run_id)
    if current is None:
        raise ActionRefused("no_run", f"no run {run_id}", run=run_id)
    before = _decision_data(current)
    claimed = session.execute(
        update(SourceRun)
        .where(
            SourceRun.id == run_id,
            SourceRun.status == RunStatus.SUSPICIOUS.value,
            or_(SourceRun.decision.is_(None), SourceRun.decided_at < now - STALE_CLAIM),
        )
        .values(decision=decision, decided_by=actor.label, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    run = session.get_one(SourceRun, run_id, populate_existing=True)
    if not claimed.rowcount:  # type: ignore[attr-defined]
        if run.decision is not None and run.status == RunStatus.SUSPICIOUS.value:
            raise ActionRefused(
                "already_decided",
                f"run {run_id} is being {run.decision} by {run.decided_by}",
                run=run_id,
                decision=run.decision,
                decided_by=run.decided_by,
            )
        raise ActionRefused(
            "not_held",
            f"run {run_id} is {run.status}, only held runs can be confirmed or discarded",
            run=run_id,
            status=run.status,
        )
    if not run.held:
        raise ActionRefused("no_batch", f"run {run_id} no longer has its listings", run=run_id)
    return run, before


def confirm_run(
    ctx: IngestContext, run_id: int, *, actor: Actor = COMMAND_LINE, now: datetime | None = None
) -> RunReport:
    """Apply a run the guard held back, as ``actor`` decided at ``now``; returns the applying run's report.

    The run is replayed as of the moment it was held (its ``now``), so what counts as past, future
    and vanished is exactly what the operator was shown — however long the confirmation took. The
    decision is claimed first (:func:`claim_decision`); if the replay fails, the claim is released and
    the run stays held. On success the run becomes ``confirmed`` and the audit log says who did it.
    Raises :class:`ActionRefused` for a run that does not exist, is not held, or was decided already.
    """
    return _confirm(ctx, run_id, actor, now or ctx.clock())[0]


def confirm_held(ctx: IngestContext, run_id: int, *, actor: Actor, now: datetime) -> Change:
    """Apply held run ``run_id`` as ``actor`` decided at ``now`` (see :func:`confirm_run`).

    Raises :class:`ActionRefused` when there is nothing to confirm, or when applying failed (the run
    then stays held, and the failed attempt is a run of its own with the reason).
    """
    report, change = _confirm(ctx, run_id, actor, now)
    if change is None:
        raise ActionRefused(
            "confirm_failed",
            f"run {run_id} could not be applied (run {report.run_id}): {report.error}",
            run=run_id,
            attempt=report.run_id,
            error=report.error,
        )
    return change


def _confirm(ctx: IngestContext, run_id: int, actor: Actor, now: datetime) -> tuple[RunReport, Change | None]:
    with ctx.factory() as session, session.begin():
        run, before = claim_decision(session, run_id, "confirmed", actor=actor, now=now)
        batch = run.held or {}
        listings = [listing_from_data(item) for item in batch["listings"]]
        source = run.source
        held_now = batch.get("now")
        as_of = datetime.fromisoformat(held_now) if held_now else run.started_at
    replay = replace(ctx, shift_weeks=0)  # the held listings were moved when they were held
    applying = start_run(ctx, source, CONFIRM_TRIGGER, now=now)
    report = ingest(replay, source, listings, run_id=applying, force=True, now=as_of)
    with ctx.factory() as session, session.begin():
        held = session.get_one(SourceRun, run_id)
        if report.status != RunStatus.SUCCESS:
            held.decision = held.decided_by = held.decided_at = None
            return report, None
        held.status = RunStatus.CONFIRMED.value
        held.held = None
        held.error = f"confirmed by {actor.label}; applied as run {report.run_id}"
        counts = {name: getattr(report, name) for name in ("added", "updated", "unchanged", "cancelled")}
        change = Change(
            "run.confirm",
            "run",
            str(run_id),
            before,
            _decision_data(held),
            {"applied_as": report.run_id, **counts},
        )
        return report, audited(session, actor, change, now=now)


def discard_held(factory: sessionmaker[Session], run_id: int, *, actor: Actor, now: datetime) -> Change:
    """Drop held run ``run_id``'s batch without applying anything, as ``actor`` decided at ``now``.

    The run becomes ``discarded``; no record, occurrence or event changes. Raises :class:`ActionRefused`
    when there is nothing to discard.
    """
    with factory() as session, session.begin():
        run, before = claim_decision(session, run_id, "discarded", actor=actor, now=now)
        run.status = RunStatus.DISCARDED.value
        run.held = None
        run.error = f"discarded by {actor.label}: held back and not applied; its listings were dropped"
        change = Change("run.discard", "run", str(run_id), before, _decision_data(run))
        return audited(session, actor, change, now=now)
