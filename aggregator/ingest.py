"""The import pipeline: listings → normalise → deduplicate → upsert, one transaction per run.

:func:`ingest` takes the listings of one source run (already fetched and parsed by the caller,
who owns the network), records a :class:`~aggregator.models.SourceRun`, and either applies the whole
run or nothing. Listings that vanish are not deleted: a future occurrence that no source lists for
``missing_runs_before_cancel`` successful runs becomes cancelled, and a run that would drop a large
share of a source's future records at once is held back as suspicious until an operator confirms.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from aggregator import dedupe
from aggregator.clock import Clock
from aggregator.config import Settings
from aggregator.derive import Priority, derive_event, derive_occurrence, visible_hash
from aggregator.listing import Listing, Rejection
from aggregator.models import (
    Event,
    EventRedirect,
    Occurrence,
    SourceRecord,
    SourceRun,
    SourceState,
    Venue,
)
from aggregator.normalise.categories import CategoryVocabulary, load_categories
from aggregator.normalise.pipeline import normalise
from aggregator.normalise.venues import VenueRegistry, load_venues
from aggregator.serialise import content_hash, listing_from_data, listing_to_data
from aggregator.split import record_keys, split_forbidden
from aggregator.timeshift import shift_listing
from aggregator.types import RunStatus, Status

log = logging.getLogger(__name__)
INGEST_LOCK = ":stadtkalender-ingest"
MAX_STORED_REJECTIONS = 500


class IngestError(Exception):
    """A run could not be applied; the message says why. Nothing was written."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{source}: {message}")


class _Held(Exception):
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
    categories: CategoryVocabulary = field(default_factory=load_categories)
    shift_weeks: int = 0
    """The demo only: every normalised listing moves this many weeks forward (aggregator.timeshift)."""

    @property
    def priority(self) -> Priority:
        """Source priority from settings and the kinds of the configured sources."""
        return Priority(self.settings.dedupe.priority, self.kinds)

    def rules(self) -> dedupe.MergeRules:
        """The operator's merge rules from settings."""
        return dedupe.MergeRules.parse(self.settings.dedupe.never_merge, self.settings.dedupe.always_merge)


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


def ingest(
    ctx: IngestContext,
    source: str,
    listings: Iterable[Listing],
    *,
    run_id: int | None = None,
    rejections: Sequence[Rejection] = (),
    warnings: Sequence[str] = (),
    complete: bool = True,
    force: bool = False,
    now: datetime | None = None,
) -> RunReport:
    """Apply one run of ``source``.

    ``complete`` says the listings are the source's whole current programme (so missing ones count
    as vanished); ``force`` applies a run even when the mass-cancellation guard would hold it.
    Raises nothing for bad data: the run ends failed or suspicious and says why.
    """
    now = now or ctx.clock()
    run_id = run_id if run_id is not None else start_run(ctx, source)
    try:
        items = list(listings)
        result = normalise(items, venues=ctx.venues, categories=ctx.categories, now=now)
    except Exception as exc:  # the source failed while producing listings, or a normalisation step broke
        log.exception("listings of %s could not be read or normalised", source)
        return fail_run(ctx, run_id, f"{type(exc).__name__}: {exc}")
    rejected = list(rejections) + list(result.rejected)
    notes = list(warnings)
    if len(rejected) > MAX_STORED_REJECTIONS:  # first, so that the cap on warnings never hides it
        notes.insert(0, f"{len(rejected) - MAX_STORED_REJECTIONS} more rejections not kept with the run")
    notes += [f"unknown venue: {name}" for name in result.unknown_venues]
    notes += [f"unknown category: {name}" for name in result.unknown_categories]
    if ctx.shift_weeks:
        notes.append(f"demo: every date moved {ctx.shift_weeks} weeks forward from the snapshot")
    valid = _one_per_record(
        shift_listing(listing.evolve(source=source), ctx.shift_weeks) for listing in result.listings
    )
    duplicates = len(result.listings) - len(valid)
    if duplicates:
        notes.append(f"{duplicates} listings repeated a record id of this run; the last one of each was kept")
    total = len(valid) + len(rejected)
    if total and len(valid) / total < ctx.settings.ingest.min_valid_ratio:
        failed = fail_run(
            ctx,
            run_id,
            f"only {len(valid)} of {total} listings are valid (threshold "
            f"{ctx.settings.ingest.min_valid_ratio:.0%}); first problem: {rejected[0].reason}",
            listings=total,
        )
        failed.rejected, failed.rejections, failed.warnings = len(rejected), rejected, notes
        _keep_rejections(ctx, failed)
        return failed
    report = RunReport(
        run_id,
        source,
        RunStatus.SUCCESS,
        listings=len(valid),
        rejected=len(rejected),
        warnings=notes,
        rejections=rejected,
    )
    try:
        with ctx.factory() as session, session.begin():
            _lock_for_ingest(session)
            _apply(session, ctx, source, valid, report, complete=complete, force=force, now=now)
            _finish(session, run_id, report, ctx.clock())
    except _Held as held:
        try:
            return _hold(ctx, run_id, source, valid, report, held, now)
        except Exception as exc:  # the held batch could not be stored: nothing applies, the run failed
            log.exception("holding back a run of %s failed", source)
            return fail_run(
                ctx,
                run_id,
                f"held back, but could not be stored: {type(exc).__name__}: {exc}",
                listings=len(valid),
            )
    except Exception as exc:
        log.exception("ingest of %s failed", source)
        return fail_run(ctx, run_id, f"{type(exc).__name__}: {exc}", listings=len(valid))
    return report


def _lock_for_ingest(session: Session) -> None:
    """One ingest at a time per database, across processes, for the whole read-modify-write.

    PostgreSQL: an advisory transaction lock per schema (not across installations sharing a server).
    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the first read (waiting up to
    the busy timeout), so no other process can commit between this run's reads and its writes.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :key))"), {"key": INGEST_LOCK}
        )
    elif dialect == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _one_per_record(listings: Iterable[Listing]) -> list[Listing]:
    """A record id appears once per run (a page listing one date twice must not write it twice)."""
    kept: dict[str, Listing] = {}
    for listing in listings:
        kept.pop(listing.record_id, None)
        kept[listing.record_id] = listing
    return list(kept.values())


def _finish(session: Session, run_id: int, report: RunReport, finished: datetime) -> None:
    run = session.get_one(SourceRun, run_id)
    run.status = report.status.value
    for name in ("listings", "added", "updated", "unchanged", "cancelled", "rejected"):
        setattr(run, name, getattr(report, name))
    run.warnings = run_notes(report)
    run.finished_at = finished
    _bump_state(session, run.source, failed=False, listings=report.listings, now=finished)


def run_notes(report: RunReport) -> list[Any]:
    """What a run keeps of its problems: each rejection as an object (see :meth:`Rejection.to_data`), then
    the warnings as text; ``stadtkalender runs show RUN`` prints both."""
    kept = [rejection.to_data() for rejection in report.rejections[:MAX_STORED_REJECTIONS]]
    return [*kept, *report.warnings[:200]]


def _keep_rejections(ctx: IngestContext, report: RunReport) -> None:
    """Record a failed run's rejections, so that the operator can see what was wrong with the data."""
    with ctx.factory() as session, session.begin():
        run = session.get_one(SourceRun, report.run_id)
        run.rejected = report.rejected
        run.warnings = run_notes(report)


def _hold(
    ctx: IngestContext,
    run_id: int,
    source: str,
    listings: list[Listing],
    report: RunReport,
    held: _Held,
    now: datetime,
) -> RunReport:
    message = (
        (
            "held back: this run has no listings at all, after earlier runs had some; nothing was changed. "
            f"Check the source, then `stadtkalender runs confirm {run_id}` to apply it."
        )
        if not listings
        else (
            f"held back: this run would drop {held.missing} of {held.future} future listings "
            f"(over {ctx.settings.ingest.mass_cancel_ratio:.0%}); nothing was changed. "
            f"Check the source, then `stadtkalender runs confirm {run_id}` to apply it."
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


def confirm_run(ctx: IngestContext, run_id: int) -> RunReport:
    """Apply a run the guard held back, as the operator asked.

    The run is replayed as of the moment it was held (its ``now``), so what counts as past, future
    and vanished is exactly what the operator was shown — however long the confirmation took.
    """
    with ctx.factory() as session:
        run = session.get(SourceRun, run_id)
        if run is None:
            raise IngestError("?", f"no run {run_id}")
        if run.status != RunStatus.SUSPICIOUS.value or not run.held:
            raise IngestError(run.source, f"run {run_id} is {run.status}, only held runs can be confirmed")
        listings = [listing_from_data(item) for item in run.held["listings"]]
        source = run.source
        held_now = run.held.get("now")
        as_of = datetime.fromisoformat(held_now) if held_now else run.started_at
    report = ingest(ctx, source, listings, force=True, now=as_of)
    if report.status == RunStatus.SUCCESS:
        with ctx.factory() as session, session.begin():
            held = session.get_one(SourceRun, run_id)
            held.status = RunStatus.CONFIRMED.value
            held.held = None
            held.error = f"confirmed; applied as run {report.run_id}"
    return report


# -- the write phase -------------------------------------------------------------------------


def _index_occurrence(
    index: dedupe.DedupeIndex, occurrence: Occurrence, sources: set[str], now: datetime
) -> None:
    event = occurrence.event
    if event.id not in index.events:
        index.add_event(
            dedupe.EventRef(
                event.id, event.venue_slug, event.title, event.created_at, occurrence.start, occurrence.start
            )
        )
    representative = Listing(
        source="",
        record_id=occurrence.id,
        title=event.title,
        fetched_at=now,
        start=occurrence.start,
        end=occurrence.end,
        all_day=occurrence.all_day,
        room=occurrence.room,
        venue_slug=event.venue_slug,
    )
    index.add_occurrence(dedupe.OccurrenceRef(occurrence.id, event.id, representative, sources))


def _load_index(
    session: Session, ctx: IngestContext, source: str, now: datetime
) -> tuple[dedupe.DedupeIndex, dict[str, SourceRecord]]:
    """The dedupe index of recent occurrences, and ``source``'s own records by record id."""
    settings = ctx.settings
    index = dedupe.DedupeIndex(
        rules=ctx.rules(),
        title_threshold=settings.dedupe.title_threshold,
        tolerance_minutes=settings.dedupe.time_tolerance_minutes,
    )
    horizon = now - timedelta(days=settings.ingest.match_past_days)
    occurrences = session.scalars(
        select(Occurrence).where(Occurrence.start >= horizon).options(selectinload(Occurrence.event))
    ).all()
    own = {r.record_id: r for r in session.scalars(select(SourceRecord).where(SourceRecord.source == source))}
    sources_of: dict[str, set[str]] = defaultdict(set)
    for occ_id, record_source in session.execute(
        select(SourceRecord.occurrence_id, SourceRecord.source)
        .join(Occurrence, Occurrence.id == SourceRecord.occurrence_id)
        .where(Occurrence.start >= horizon, SourceRecord.active.is_(True))
    ):
        sources_of[occ_id].add(record_source)
    for occurrence in occurrences:
        _index_occurrence(index, occurrence, sources_of.get(occurrence.id, set()), now)
    for record_id, record in own.items():
        if record.occurrence_id not in index.occurrences:  # an older record of this source
            _index_occurrence(index, session.get_one(Occurrence, record.occurrence_id), {source}, now)
        index.add_record(source, record_id, record.occurrence_id, record.data.get("series_key"))
    rules = index.rules
    if rules.never or rules.always:  # rules need every known event's keys
        known = select(SourceRecord).where(SourceRecord.event_id.in_(list(index.events)))
        for record in session.scalars(known):
            index.events[record.event_id].keys |= record_keys(record)
    return index, own


def _ensure_venues(session: Session, ctx: IngestContext, listings: Sequence[Listing], now: datetime) -> None:
    wanted = {listing.venue_slug: listing for listing in listings if listing.venue_slug}
    existing = set(session.scalars(select(Venue.slug).where(Venue.slug.in_(list(wanted)))))
    for slug, listing in wanted.items():
        if slug in existing:
            continue
        info = ctx.venues.get(slug)
        if info is not None:
            session.add(
                Venue(
                    slug=slug,
                    name=info.name,
                    aliases=list(info.aliases),
                    street=info.street,
                    postcode=info.postcode,
                    city=info.city,
                    lat=info.lat,
                    lon=info.lon,
                    district=info.district,
                    rooms=list(info.rooms),
                    url=info.url,
                    accessibility=info.accessibility,
                    known=True,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            session.add(
                Venue(
                    slug=slug,
                    name=listing.venue_name or slug,
                    aliases=[],
                    street=listing.venue_address,
                    lat=listing.geo[0] if listing.geo else None,
                    lon=listing.geo[1] if listing.geo else None,
                    known=False,
                    rooms=[],
                    created_at=now,
                    updated_at=now,
                )
            )
    session.flush()


def _apply(
    session: Session,
    ctx: IngestContext,
    source: str,
    listings: list[Listing],
    report: RunReport,
    *,
    complete: bool,
    force: bool,
    now: datetime,
) -> None:
    _ensure_venues(session, ctx, listings, now)
    rules = ctx.rules()
    split_events, split_occurrences = split_forbidden(session, rules, now)
    index, records = _load_index(session, ctx, source, now)
    result = index.assign(listings, now=now)
    touched_events: set[str] = set(split_events)
    touched_occurrences: set[str] = set(split_occurrences)
    kind = ctx.priority.kind(source)

    for assignment in result.assignments:
        listing = assignment.listing
        if assignment.new_event and session.get(Event, assignment.event_id) is None:
            session.add(
                Event(
                    id=assignment.event_id,
                    title=listing.title,
                    title_key="",
                    venue_slug=listing.venue_slug,
                    categories=[],
                    field_sources={},
                    created_at=now,
                    updated_at=now,
                    sequence=0,
                )
            )
        if assignment.new_occurrence and session.get(Occurrence, assignment.occurrence_id) is None:
            assert listing.start is not None
            session.add(
                Occurrence(
                    id=assignment.occurrence_id,
                    event_id=assignment.event_id,
                    start=listing.start,
                    end=listing.end,
                    all_day=listing.all_day,
                    status=Status.SCHEDULED.value,
                    created_at=now,
                    updated_at=now,
                    sequence=0,
                    visible_hash="",
                )
            )
    session.flush()
    for loser, survivor in result.merges:
        _merge_events(session, loser, survivor, now)
        touched_events.add(survivor)

    seen: set[str] = set()
    for assignment in result.assignments:
        listing = assignment.listing
        seen.add(listing.record_id)
        data = listing_to_data(listing)
        data["_kind"] = kind
        digest = content_hash(listing)
        record = records.get(listing.record_id)
        if record is None:
            record = SourceRecord(source=source, record_id=listing.record_id, first_seen=now)
            session.add(record)
            records[listing.record_id] = record
            report.added += 1
        elif (
            record.content_hash != digest
            or record.occurrence_id != assignment.occurrence_id
            or not record.active
        ):
            report.updated += 1
        else:
            report.unchanged += 1
        if record.occurrence_id and record.occurrence_id != assignment.occurrence_id:
            touched_occurrences.add(record.occurrence_id)
            touched_events.add(record.event_id)
        record.url = listing.url
        record.fetched_at = listing.fetched_at
        record.content_hash = digest
        record.raw = listing.raw
        record.data = data
        record.event_id = assignment.event_id
        record.occurrence_id = assignment.occurrence_id
        record.last_seen = now
        record.missing_runs = 0
        record.active = True
        touched_events.add(assignment.event_id)
        touched_occurrences.add(assignment.occurrence_id)
        report.event_ids.add(assignment.event_id)

    if complete:
        _mark_missing(
            session, ctx, source, records, seen, touched_occurrences, touched_events, force=force, now=now
        )
    session.flush()
    report.cancelled = _rederive(session, ctx, touched_events, touched_occurrences, now)


def _mark_missing(
    session: Session,
    ctx: IngestContext,
    source: str,
    records: dict[str, SourceRecord],
    seen: set[str],
    touched_occurrences: set[str],
    touched_events: set[str],
    *,
    force: bool,
    now: datetime,
) -> None:
    future = [r for r in records.values() if r.active and _starts_after(r, now)]
    missing = [r for r in future if r.record_id not in seen]
    settings = ctx.settings.ingest
    if not force and not seen:
        state = session.get(SourceState, source)
        if future or (state is not None and state.last_listings > 0):
            raise _Held(len(missing), len(future))  # zero listings after some: a broken scrape
    if (
        not force
        and len(missing) > settings.mass_cancel_min
        and len(missing) > settings.mass_cancel_ratio * len(future)
    ):
        raise _Held(len(missing), len(future))
    for record in missing:
        record.missing_runs += 1
        if record.missing_runs >= settings.missing_runs_before_cancel:
            record.active = False
            touched_occurrences.add(record.occurrence_id)
            touched_events.add(record.event_id)


def _starts_after(record: SourceRecord, now: datetime) -> bool:
    start = record.data.get("start")
    return bool(start) and datetime.fromisoformat(str(start)) > now


def _merge_events(session: Session, loser: str, survivor: str, now: datetime) -> None:
    if session.get(Event, loser) is None or loser == survivor:
        return
    session.execute(update(Occurrence).where(Occurrence.event_id == loser).values(event_id=survivor))
    session.execute(update(SourceRecord).where(SourceRecord.event_id == loser).values(event_id=survivor))
    session.execute(update(EventRedirect).where(EventRedirect.event_id == loser).values(event_id=survivor))
    session.flush()
    session.expire_all()
    lost = session.get_one(Event, loser)
    session.delete(lost)
    session.flush()
    session.add(EventRedirect(old_id=loser, event_id=survivor, created_at=now))
    session.flush()


def _rederive(
    session: Session, ctx: IngestContext, event_ids: set[str], occurrence_ids: set[str], now: datetime
) -> int:
    priority = ctx.priority
    cancelled = 0
    events = session.scalars(
        select(Event)
        .where(Event.id.in_(list(event_ids)))
        .options(selectinload(Event.records), selectinload(Event.occurrences).selectinload(Occurrence.offers))
    ).all()
    occurrences = {
        o.id: o
        for o in session.scalars(
            select(Occurrence)
            .where(Occurrence.id.in_(list(occurrence_ids)))
            .options(selectinload(Occurrence.records), selectinload(Occurrence.offers))
        )
    }
    for occurrence in occurrences.values():
        before = occurrence.status
        derive_occurrence(occurrence, occurrence.records, priority)
        if occurrence.status == Status.CANCELLED and before != Status.CANCELLED:
            cancelled += 1
    for event in events:
        if derive_event(event, event.records, priority):
            event.sequence += 1 if event.updated_at != now else 0
            event.updated_at = now
        for occurrence in event.occurrences:
            digest = visible_hash(event, occurrence)
            if digest != occurrence.visible_hash:
                if occurrence.visible_hash:
                    occurrence.sequence += 1
                occurrence.visible_hash = digest
                occurrence.updated_at = now
        if not event.records:
            session.delete(event)
    return cancelled
