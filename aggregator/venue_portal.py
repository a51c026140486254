"""What the venue portal shows a venue account: its venues' events with where each field came from,
and the sources that feed those venues. Every read is bounded to the account's venues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from aggregator.derive import EVENT_FIELDS
from aggregator.models import ApiToken, AuditEntry, Event, Occurrence, SourceRecord, Venue

RECENT = timedelta(days=1)
"""Events whose last date ended less than this ago still show in the list."""
MAX_EVENTS = 500


@dataclass(frozen=True, slots=True)
class FieldOrigin:
    """One field of an event as the public sees it, and the source that gave it."""

    name: str
    value: str
    source: str | None


@dataclass(frozen=True, slots=True)
class DateRow:
    """One date of an event: when, where, its status, and the offers with their sources."""

    id: str
    start: datetime
    end: datetime | None
    status: str
    previous_start: datetime | None
    room: str | None
    offers: tuple[tuple[str, str], ...]
    """(source, what it offers: price text or range, availability)."""
    own: bool = False
    """The venue's own push source gave this date (the portal may change it)."""


@dataclass(frozen=True, slots=True)
class EventSummary:
    """An event in the venue's list."""

    id: str
    title: str
    venue_slug: str
    next_start: datetime
    dates: int
    cancelled: int
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EventDetail:
    """An event with its provenance: fields, dates, records and what editors did to it."""

    id: str
    title: str
    venue_slug: str
    fields: tuple[FieldOrigin, ...]
    categories: tuple[str, ...]
    dates: tuple[DateRow, ...]
    records: tuple[tuple[str, str, bool], ...]
    """(source, record id, active)."""
    edits: tuple[AuditEntry, ...]
    """Audit entries about the event by people (editors' changes)."""


def venue_names(session: Session, slugs: Sequence[str]) -> dict[str, str]:
    """The names of the venues ``slugs`` (slug → name), in the order given."""
    rows = dict(session.execute(select(Venue.slug, Venue.name).where(Venue.slug.in_(list(slugs)))).all())
    return {slug: str(rows.get(slug, slug)) for slug in slugs}


def venue_events(session: Session, slugs: Sequence[str], *, now: datetime) -> list[EventSummary]:
    """The events at ``slugs`` with a date not long past, by their next date."""
    events = session.scalars(
        select(Event)
        .where(Event.venue_slug.in_(list(slugs)))
        .options(selectinload(Event.occurrences), selectinload(Event.records))
    ).unique()
    summaries = []
    for event in events:
        current = [o for o in event.occurrences if (o.end or o.start) >= now - RECENT]
        if not current:
            continue
        summaries.append(
            EventSummary(
                event.id,
                event.title,
                str(event.venue_slug),
                min(o.start for o in current),
                len(current),
                sum(1 for o in current if o.status == "cancelled"),
                tuple(sorted({r.source for r in event.records if r.active})),
            )
        )
    summaries.sort(key=lambda s: (s.next_start, s.title))
    return summaries[:MAX_EVENTS]


def _offer_text(
    source: str, price_text: str | None, low: object, high: object, availability: str | None
) -> str:
    price = price_text or (
        f"{low}–{high} €" if high not in (None, low) else (f"{low} €" if low is not None else "")
    )
    return " · ".join(part for part in (price, availability or "") if part) or "–"


def venue_event(
    session: Session, event_id: str, slugs: Sequence[str], *, own_source: str | None = None
) -> EventDetail | None:
    """The event ``event_id`` with its provenance, or ``None`` unless it is at one of ``slugs``.

    A date with a record of ``own_source`` (the venue's push source) is marked ``own``.
    """
    event = session.get(Event, event_id)
    if event is None or event.venue_slug not in slugs:
        return None
    fields = tuple(
        FieldOrigin(name, str(getattr(event, name)), event.field_sources.get(name))
        for name in EVENT_FIELDS
        if getattr(event, name)
    )
    dates = tuple(
        DateRow(
            o.id,
            o.start,
            o.end,
            o.status,
            o.previous_start,
            o.room,
            tuple(
                (
                    offer.source,
                    _offer_text(
                        offer.source, offer.price_text, offer.price_min, offer.price_max, offer.availability
                    ),
                )
                for offer in o.offers
            ),
            own_source is not None and any(r.source == own_source for r in o.records),
        )
        for o in session.scalars(
            select(Occurrence).where(Occurrence.event_id == event.id).order_by(Occurrence.start)
        )
    )
    records = tuple(
        (r.source, r.record_id, r.active)
        for r in session.scalars(
            select(SourceRecord)
            .where(SourceRecord.event_id == event.id)
            .order_by(SourceRecord.source, SourceRecord.record_id)
        )
    )
    edits = tuple(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == "event", AuditEntry.target_id == event.id)
            .order_by(AuditEntry.id.desc())
            .limit(50)
        )
    )
    for entry in edits:
        session.expunge(entry)
    return EventDetail(
        event.id,
        event.title,
        str(event.venue_slug),
        fields,
        tuple(str(c) for c in event.categories),
        dates,
        records,
        edits,
    )


def venue_sources(session: Session, slugs: Sequence[str]) -> list[str]:
    """The sources that feed ``slugs``: those with active records of their events, and their push tokens'."""
    fed = set(
        session.scalars(
            select(SourceRecord.source)
            .join(Event, Event.id == SourceRecord.event_id)
            .where(Event.venue_slug.in_(list(slugs)), SourceRecord.active.is_(True))
            .distinct()
        )
    )
    wanted = set(slugs)
    for token in session.scalars(select(ApiToken)):
        if wanted & {str(v) for v in token.venues} and set(token.venues) <= wanted:
            fed.add(token.source)
    return sorted(fed)
