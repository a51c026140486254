"""The console's event search: every event (hidden ones too), by words, venue, dates and editorial marks.

Unlike the public list it shows hidden events and occurrences, past events and every status, and it
pages by number (editors jump to page 4; the public API's cursors are for clients that follow links).
Without dates, upcoming events come first by their next date, then past ones, most recent first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from aggregator.models import Event, EventOverride, Occurrence, OccurrenceOverride, Venue
from aggregator.override_fields import HIDDEN, HIGHLIGHT

MAX_PER_PAGE = 100
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class EventSearch:
    """What the editor asked for; ``None`` in a mark filter means "either"."""

    q: str = ""
    venue: str | None = None
    start: datetime | None = None
    """Only events with an occurrence starting at or after this instant."""
    end: datetime | None = None
    """Only events with an occurrence starting before this instant."""
    hidden: bool | None = None
    """True: the event or one of its occurrences is hidden; False: the event is not hidden."""
    highlight: bool | None = None
    """True: a highlight now; False: not one."""
    edited: bool | None = None
    """True: an editor set a field of the event or of one of its occurrences."""
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event found: enough to recognise it in a list."""

    id: str
    title: str
    venue: str | None
    next_start: datetime | None
    """The first occurrence in the date range, or (without dates) the next one from now."""
    last_start: datetime | None
    occurrences: int
    hidden: bool
    hidden_occurrences: int
    highlight: bool
    edited: bool


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results, with the total and the page count."""

    rows: list[EventRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the results fill (at least one)."""
        return max(1, -(-self.total // self.per_page))


def highlight_now(now: datetime) -> ColumnElement[bool]:
    """The condition "the event is a highlight at ``now``"."""
    return and_(Event.highlight.is_(True), or_(Event.highlight_until.is_(None), Event.highlight_until > now))


def _escaped(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _edited() -> ColumnElement[bool]:
    marks = (HIDDEN, HIGHLIGHT)
    on_event = exists().where(EventOverride.event_id == Event.id, EventOverride.field.not_in(marks))
    on_occurrence = exists().where(
        Occurrence.event_id == Event.id,
        OccurrenceOverride.occurrence_id == Occurrence.id,
        OccurrenceOverride.field.not_in(marks),
    )
    return or_(on_event, on_occurrence)


def search_events(session: Session, search: EventSearch, *, now: datetime) -> SearchPage:
    """One page of the events matching ``search``, the total count, and the page asked for."""
    per_page = min(max(search.per_page, 1), MAX_PER_PAGE)
    page = max(search.page, 1)
    in_range: list[ColumnElement[bool]] = []
    if search.start is not None:
        in_range.append(Occurrence.start >= search.start)
    if search.end is not None:
        in_range.append(Occurrence.start < search.end)
    dated = bool(in_range)
    upcoming = Occurrence.start >= now
    occurrences = (
        select(
            Occurrence.event_id.label("event_id"),
            func.min(Occurrence.start if dated else case((upcoming, Occurrence.start))).label("next_start"),
            func.max(Occurrence.start).label("last_start"),
            func.count().label("occurrences"),
            func.sum(case((Occurrence.hidden.is_(True), 1), else_=0)).label("hidden_occurrences"),
        )
        .where(*in_range)
        .group_by(Occurrence.event_id)
        .subquery()
    )
    conditions: list[ColumnElement[bool]] = []
    for word in search.q.split()[:20]:
        pattern = _escaped(word[:MAX_QUERY])
        columns = (Event.title, Event.subtitle, Event.description, Event.organiser, Venue.name)
        conditions.append(or_(Event.id == word, *(column.ilike(pattern, escape="\\") for column in columns)))
    if search.venue:
        conditions.append(Event.venue_slug == search.venue)
    if search.hidden is True:
        conditions.append(or_(Event.hidden.is_(True), occurrences.c.hidden_occurrences > 0))
    elif search.hidden is False:
        conditions.append(Event.hidden.is_(False))
    if search.highlight is not None:
        active = highlight_now(now)
        conditions.append(active if search.highlight else ~active)
    if search.edited is not None:
        conditions.append(_edited() if search.edited else ~_edited())
    joined = (
        select(Event.id)
        .outerjoin(Venue, Venue.slug == Event.venue_slug)
        .join(occurrences, occurrences.c.event_id == Event.id, isouter=not dated)
        .where(*conditions)
    )
    total = session.scalar(select(func.count()).select_from(joined.subquery())) or 0
    statement = (
        select(
            Event.id,
            Event.title,
            Venue.name,
            occurrences.c.next_start,
            occurrences.c.last_start,
            func.coalesce(occurrences.c.occurrences, 0),
            Event.hidden,
            func.coalesce(occurrences.c.hidden_occurrences, 0),
            highlight_now(now),
            _edited(),
        )
        .outerjoin(Venue, Venue.slug == Event.venue_slug)
        .join(occurrences, occurrences.c.event_id == Event.id, isouter=not dated)
        .where(*conditions)
        .order_by(
            occurrences.c.next_start.is_(None),
            occurrences.c.next_start,
            occurrences.c.last_start.desc(),
            Event.id,
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = [
        EventRow(
            id=event_id,
            title=title,
            venue=venue,
            next_start=_aware(next_start),
            last_start=_aware(last_start),
            occurrences=int(count),
            hidden=bool(hidden),
            hidden_occurrences=int(hidden_occurrences or 0),
            highlight=bool(highlight),
            edited=bool(edited),
        )
        for (
            event_id,
            title,
            venue,
            next_start,
            last_start,
            count,
            hidden,
            hidden_occurrences,
            highlight,
            edited,
        ) in (session.execute(statement).all())
    ]
    return SearchPage(rows, int(total), page, per_page)


def _aware(value: datetime | str | None) -> datetime | None:
    """A UTC datetime from an aggregate (SQLite hands back naive values or text for min/max)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
