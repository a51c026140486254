"""The write phase of a run: venues, dedupe assignments, records, vanishing and merges, then re-derivation.

The run's merge rules and picks are the stored duplicate decisions (:mod:`aggregator.decisions`), with
the settings' rules imported first; :func:`merge_events` and :func:`rederive` also serve the editors'
decisions (:mod:`aggregator.review`), which change the stored events at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from aggregator.batches import chunks, existing_ids
from aggregator.changes import Watch, record_merge
from aggregator.config import IngestSettings
from aggregator.decisions import import_settings, load_picks, merge_rules
from aggregator.derive import Priority, derive_event, derive_occurrence, visible_hash
from aggregator.listing import Listing
from aggregator.models import (
    Event,
    EventOverride,
    EventRedirect,
    Occurrence,
    OccurrenceOverride,
    SourceRecord,
    SourceState,
    Venue,
)
from aggregator.override_fields import from_json
from aggregator.runs import Held, IngestContext, RunReport
from aggregator.serialise import content_hash, listing_to_data
from aggregator.split import split_forbidden
from aggregator.stored_index import load_index
from aggregator.table_stats import refresh_after_growth
from aggregator.types import Status
from aggregator.venue_registry import add_unknown_venue


def apply_run(
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
    _ensure_venues(session, listings, now)
    import_settings(session, ctx.settings.dedupe, now)
    rules = merge_rules(session)
    split_events, split_occurrences = split_forbidden(session, rules, now)
    index, records = load_index(session, ctx, source, now, rules, listings)
    result = index.assign(listings, now=now)
    touched_events: set[str] = set(split_events)
    touched_occurrences: set[str] = set(split_occurrences)
    kind = ctx.priority.kind(source)

    known_events = existing_ids(session, Event.id, {a.event_id for a in result.assignments if a.new_event})
    known_occurrences = existing_ids(
        session, Occurrence.id, {a.occurrence_id for a in result.assignments if a.new_occurrence}
    )
    for assignment in result.assignments:
        listing = assignment.listing
        if assignment.new_event and assignment.event_id not in known_events:
            known_events.add(assignment.event_id)
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
        if assignment.new_occurrence and assignment.occurrence_id not in known_occurrences:
            assert listing.start is not None
            known_occurrences.add(assignment.occurrence_id)
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
        merge_events(session, loser, survivor, now)
        touched_events.add(survivor)

    seen: set[str] = set()
    for assignment in result.assignments:
        listing = assignment.listing
        seen.add(listing.record_id)
        data = listing_to_data(listing)
        data["_kind"] = kind
        digest = content_hash(listing)
        record = records.get(listing.record_id)
        untouched = False
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
            # what derivation reads of it is what it said before, where it was: nothing to derive again
            untouched = record.event_id == assignment.event_id and record.data.get("_kind") == kind
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
        report.event_ids.add(assignment.event_id)
        if not untouched:
            touched_events.add(assignment.event_id)
            touched_occurrences.add(assignment.occurrence_id)

    if complete:
        _mark_missing(
            session, ctx, source, records, seen, touched_occurrences, touched_events, force=force, now=now
        )
    session.flush()
    refresh_after_growth(session, report.added)
    report.cancelled = rederive(session, ctx.priority, touched_events, touched_occurrences, now)


def _ensure_venues(session: Session, listings: Sequence[Listing], now: datetime) -> None:
    """Keep every place the run names that the venues table lacks (the registry's venues are seeded)."""
    wanted = {listing.venue_slug: listing for listing in listings if listing.venue_slug}
    existing = set(session.scalars(select(Venue.slug).where(Venue.slug.in_(list(wanted)))))
    for slug, listing in wanted.items():
        if slug not in existing:
            name = listing.venue_name or slug
            add_unknown_venue(session, slug, name, address=listing.venue_address, geo=listing.geo, now=now)
    session.flush()


@dataclass(frozen=True, slots=True)
class Vanishing:
    """What a complete run does to the source's records it did not list (see :func:`vanishing`)."""

    future: list[SourceRecord]
    """The source's active records of future performances, before the run."""
    missing: list[SourceRecord]
    """Those the run did not list: each counts one more missing run."""
    cancelled: list[SourceRecord]
    """Those of ``missing`` that reach ``missing_runs_before_cancel`` now and become inactive."""
    held: bool
    """The mass-cancellation guard stops the run (only ever when not forced)."""


def vanishing(
    records: Iterable[SourceRecord],
    seen: Collection[str],
    *,
    last_listings: int,
    settings: IngestSettings,
    force: bool,
    now: datetime,
) -> Vanishing:
    """Which of a source's records a complete run listing ``seen`` (record ids) counts as missing,
    which of them it deactivates, and whether the guard holds the run. Changes nothing.

    ``last_listings`` is the listing count of the source's last run (``SourceState.last_listings``):
    a run with no listings after one with some is held, as a broken scrape.
    """
    future = [r for r in records if r.active and _starts_after(r, now)]
    missing = [r for r in future if r.record_id not in seen]
    held = not force and (
        (not seen and bool(future or last_listings > 0))  # zero listings after some: a broken scrape
        or (
            len(missing) > settings.mass_cancel_min
            and len(missing) > settings.mass_cancel_ratio * len(future)
        )
    )
    cancelled = [r for r in missing if r.missing_runs + 1 >= settings.missing_runs_before_cancel]
    return Vanishing(future, missing, cancelled, held)


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
    state = session.get(SourceState, source)
    found = vanishing(
        records.values(),
        seen,
        last_listings=state.last_listings if state is not None else 0,
        settings=ctx.settings.ingest,
        force=force,
        now=now,
    )
    if found.held:
        raise Held(len(found.missing), len(found.future))
    for record in found.missing:
        record.missing_runs += 1
    for record in found.cancelled:
        record.active = False
        touched_occurrences.add(record.occurrence_id)
        touched_events.add(record.event_id)


def _starts_after(record: SourceRecord, now: datetime) -> bool:
    start = record.data.get("start")
    return bool(start) and datetime.fromisoformat(str(start)) > now


def merge_events(session: Session, loser: str, survivor: str, now: datetime) -> None:
    """Move everything of event ``loser`` to ``survivor`` and leave a redirect (re-derive afterwards)."""
    lost_event = session.get(Event, loser)
    if lost_event is None or loser == survivor:
        return
    record_merge(session, lost_event, survivor, now)
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


def rederive(
    session: Session, priority: Priority, event_ids: set[str], occurrence_ids: set[str], now: datetime
) -> int:
    """Derive events and occurrences again from their records, the editors' picks and their overrides.

    The one place both apply: every ingest and every editorial change ends here. Occurrences in
    ``occurrence_ids`` are derived; every occurrence of the events in ``event_ids`` gets its visible
    hash checked, and SEQUENCE and the updated time move when it changed. Returns how many
    occurrences became cancelled. An event left without records is deleted (its overrides stay, unused).
    """
    picks = load_picks(session)
    cancelled = 0
    with_records = (selectinload(Occurrence.records), selectinload(Occurrence.offers))
    events = [
        event
        for part in chunks(event_ids)
        for event in session.scalars(
            select(Event)
            .where(Event.id.in_(part))
            .options(selectinload(Event.records), selectinload(Event.occurrences).options(*with_records))
        )
    ]
    # the occurrences come with their events; only those of other events are read on their own
    occurrences = {o.id: o for event in events for o in event.occurrences if o.id in occurrence_ids}
    occurrences.update(
        (o.id, o)
        for part in chunks(occurrence_ids - occurrences.keys())
        for o in session.scalars(select(Occurrence).where(Occurrence.id.in_(part)).options(*with_records))
    )
    watch = Watch.before(events, occurrences.values())
    event_overrides = load_overrides(session, EventOverride, [e.id for e in events])
    occurrence_overrides = load_overrides(session, OccurrenceOverride, list(occurrences))
    for occurrence in occurrences.values():
        before = occurrence.status
        overrides = occurrence_overrides.get(occurrence.id)
        derive_occurrence(occurrence, occurrence.records, priority, picks, overrides)
        if occurrence.status == Status.CANCELLED and before != Status.CANCELLED:
            cancelled += 1
    for event in events:
        if derive_event(event, event.records, priority, picks, event_overrides.get(event.id)):
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
    watch.record(session, now)
    return cancelled


def load_overrides(
    session: Session, model: type[EventOverride] | type[OccurrenceOverride], ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The editors' overrides of these events (or occurrences): id → field → value, as derivation takes it."""
    key = model.event_id if model is EventOverride else OccurrenceOverride.occurrence_id
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        for target, name, value in session.execute(
            select(key, model.field, model.value).where(key.in_(chunk))
        ):
            found.setdefault(target, {})[name] = from_json(name, value)
    return found
