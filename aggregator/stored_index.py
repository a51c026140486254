"""The dedupe index of a run, loaded from the store: recent occurrences and the source's own records.

Every lookup of :class:`~aggregator.dedupe.DedupeIndex` is keyed by venue (occurrences by venue and day,
events by venue and title words), so a run needs only the recent occurrences at the venues its listings
name, besides its own records' occurrences wherever they are and the events an ``always`` rule names. A
city where fifty sources each list a few venues then reads a few venues' horizon per run, not the city's;
and only the occurrences on the days the run lists there are compared, the rest are known by their events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from aggregator import dedupe
from aggregator.batches import chunks
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, SourceRecord
from aggregator.runs import IngestContext
from aggregator.split import keys_of


class _Stored(NamedTuple):
    """One stored occurrence with what the index needs of its event: a plain row, not ORM objects."""

    id: str
    event_id: str
    start: datetime
    end: datetime | None
    all_day: bool
    room: str | None
    venue_slug: str | None
    title: str
    subtitle: str | None
    created_at: datetime


_COLUMNS = (
    Occurrence.id,
    Occurrence.event_id,
    Occurrence.start,
    Occurrence.end,
    Occurrence.all_day,
    Occurrence.room,
    Event.venue_slug,
    Event.title,
    Event.subtitle,
    Event.created_at,
)


def _stored(session: Session, where: ColumnElement[bool]) -> Iterator[_Stored]:
    rows = session.execute(select(*_COLUMNS).join(Event, Event.id == Occurrence.event_id).where(where))
    return (_Stored._make(row) for row in rows)


def _note_event(index: dedupe.DedupeIndex, stored: _Stored) -> None:
    """Make the occurrence's event known, and widen the span of its known dates to the occurrence's start."""
    event = index.events.get(stored.event_id)
    if event is None:
        index.add_event(
            dedupe.EventRef(
                stored.event_id,
                stored.venue_slug,
                stored.title,
                stored.created_at,
                stored.start,
                stored.start,
            )
        )
    else:
        event.first_start = min(event.first_start, stored.start)
        event.last_start = max(event.last_start, stored.start)


def _index_occurrence(index: dedupe.DedupeIndex, stored: _Stored, sources: set[str], now: datetime) -> None:
    if stored.event_id not in index.events:  # of a known event, add_occurrence widens the span itself
        _note_event(index, stored)
    representative = Listing(
        source="",
        record_id=stored.id,
        title=stored.title,
        subtitle=stored.subtitle,
        fetched_at=now,
        start=stored.start,
        end=stored.end,
        all_day=stored.all_day,
        room=stored.room,
        venue_slug=stored.venue_slug,
    )
    index.add_occurrence(dedupe.OccurrenceRef(stored.id, stored.event_id, representative, sources))


def at_venues(venues: Collection[str | None]) -> ColumnElement[bool]:
    """Events at one of ``venues`` (``None``: events at no known venue)."""
    named = [slug for slug in venues if slug is not None]
    conditions = [Event.venue_slug.in_(part) for part in chunks(named)]
    if None in venues:
        conditions.append(Event.venue_slug.is_(None))
    return or_(*conditions) if conditions else Event.venue_slug.in_([])


def _compared(
    occurrences: Iterable[_Stored], listings: Collection[Listing] | None, own: Collection[str]
) -> set[str]:
    """The ids of the stored occurrences a run's listings can be compared with: those in the (venue, day)
    blocks the listings fall in (every one without ``listings``), and the source's own records' occurrences.

    The index compares a listing only with its own block's occurrences; of the others it needs only their
    events and the span of their dates (:func:`_note_event`), so a run reads the rest as plain rows.
    """
    if listings is None:
        return {o.id for o in occurrences}
    blocks = {dedupe.block_of(item.venue_slug, item.start) for item in listings if item.start is not None}
    return {o.id for o in occurrences if o.id in own or dedupe.block_of(o.venue_slug, o.start) in blocks}


def _sources_of(session: Session, occurrence_ids: Collection[str]) -> dict[str, set[str]]:
    """The sources whose active records are at each of these occurrences."""
    found: dict[str, set[str]] = defaultdict(set)
    for part in chunks(occurrence_ids):
        for occ_id, record_source in session.execute(
            select(SourceRecord.occurrence_id, SourceRecord.source).where(
                SourceRecord.occurrence_id.in_(part), SourceRecord.active.is_(True)
            )
        ):
            found[occ_id].add(record_source)
    return found


def rule_venues(session: Session, rules: dedupe.MergeRules) -> set[str | None]:
    """The venues of the events an ``always`` rule names (by event ID, ``source:record`` or
    ``source:series``): a run scoped to other venues still sees both sides of a rule it could apply."""
    keys = {key for pair in rules.always for key in pair}
    if not keys:
        return set()
    found = set(session.scalars(select(Event.venue_slug).where(Event.id.in_(list(keys)))))
    for key in keys:
        source, sep, rest = key.partition(":")
        if not sep:
            continue
        named = or_(SourceRecord.record_id == rest, SourceRecord.data["series_key"].as_string() == rest)
        found.update(
            session.scalars(
                select(Event.venue_slug)
                .join(SourceRecord, SourceRecord.event_id == Event.id)
                .where(SourceRecord.source == source, named)
                .distinct()
            )
        )
    return found


def load_index(
    session: Session,
    ctx: IngestContext,
    source: str,
    now: datetime,
    rules: dedupe.MergeRules,
    listings: Collection[Listing] | None = None,
) -> tuple[dedupe.DedupeIndex, dict[str, SourceRecord]]:
    """The dedupe index of recent occurrences under ``rules``, and ``source``'s own records by record id.

    With ``listings`` (the run's), only the venues they name (and those :func:`rule_venues` adds) are read,
    and of those only the (venue, day) blocks the listings fall in become comparable occurrences (see
    :func:`_compared`); the run's assignments are the same as with every venue, since no lookup crosses
    venues and no occurrence lookup crosses days.
    """
    settings = ctx.settings
    index = dedupe.DedupeIndex(
        rules=rules,
        title_threshold=settings.dedupe.title_threshold,
        tolerance_minutes=settings.dedupe.time_tolerance_minutes,
    )
    horizon = now - timedelta(days=settings.ingest.match_past_days)
    recent: ColumnElement[bool] = Occurrence.start >= horizon
    if listings is not None:
        venues = {listing.venue_slug for listing in listings} | rule_venues(session, rules)
        recent = recent & at_venues(venues)
    occurrences = list(_stored(session, recent))
    own = {r.record_id: r for r in session.scalars(select(SourceRecord).where(SourceRecord.source == source))}
    kept = _compared(occurrences, listings, {r.occurrence_id for r in own.values()})
    sources_of = _sources_of(session, kept)
    for occurrence in occurrences:
        if occurrence.id in kept:
            _index_occurrence(index, occurrence, sources_of.get(occurrence.id, set()), now)
        else:
            _note_event(index, occurrence)
    wanted = {r.occurrence_id: None for r in own.values() if r.occurrence_id not in index.occurrences}
    older = {
        stored.id: stored for part in chunks(wanted) for stored in _stored(session, Occurrence.id.in_(part))
    }
    for occ_id in wanted:  # the occurrences of this source's older records, in the order of its records
        _index_occurrence(index, older[occ_id], {source}, now)
    for record_id, record in own.items():
        index.add_record(source, record_id, record.occurrence_id, record.data.get("series_key"))
    if rules.never or rules.always or rules.apart:  # rules need every known event's keys
        known = select(
            SourceRecord.event_id,
            SourceRecord.source,
            SourceRecord.record_id,
            SourceRecord.data["series_key"].as_string(),
        )
        for part in chunks(index.events):
            rows = session.execute(known.where(SourceRecord.event_id.in_(part)))
            for event_id, record_source, record_id, series_key in rows:
                index.events[event_id].keys |= keys_of(record_source, record_id, series_key or None)
    return index, own
