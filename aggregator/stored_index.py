"""The dedupe index of a run, loaded from the store: recent occurrences and the source's own records."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from aggregator import dedupe
from aggregator.listing import Listing
from aggregator.models import Occurrence, SourceRecord
from aggregator.runs import IngestContext
from aggregator.split import keys_of


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
        subtitle=event.subtitle,
        fetched_at=now,
        start=occurrence.start,
        end=occurrence.end,
        all_day=occurrence.all_day,
        room=occurrence.room,
        venue_slug=event.venue_slug,
    )
    index.add_occurrence(dedupe.OccurrenceRef(occurrence.id, event.id, representative, sources))


def load_index(
    session: Session, ctx: IngestContext, source: str, now: datetime, rules: dedupe.MergeRules
) -> tuple[dedupe.DedupeIndex, dict[str, SourceRecord]]:
    """The dedupe index of recent occurrences under ``rules``, and ``source``'s own records by record id."""
    settings = ctx.settings
    index = dedupe.DedupeIndex(
        rules=rules,
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
    if rules.never or rules.always or rules.apart:  # rules need every known event's keys
        known = select(
            SourceRecord.event_id,
            SourceRecord.source,
            SourceRecord.record_id,
            SourceRecord.data["series_key"].as_string(),
        ).where(SourceRecord.event_id.in_(list(index.events)))
        for event_id, record_source, record_id, series_key in session.execute(known):
            index.events[event_id].keys |= keys_of(record_source, record_id, series_key or None)
    return index, own
