"""Reads behind the API: the data version, event pages, single events, venues and feed rows.

Everything here takes a :class:`~sqlalchemy.orm.Session` and returns plain values or detached ORM
rows; nothing writes. :func:`consistent_read` runs a read so that it sees one committed state.
Events and occurrences an editor hid are in no list, page or feed (:func:`occurrence_conditions`,
:func:`event_conditions`, :func:`event_view`); a hidden event's own view says it is hidden.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, exists, func, literal, not_, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased, selectinload, sessionmaker
from sqlalchemy.orm.util import AliasedClass

from aggregator.event_search import highlight_now
from aggregator.models import (
    Change,
    ChangePrune,
    Event,
    EventRedirect,
    Occurrence,
    Offer,
    SourceRecord,
    Venue,
)
from aggregator.types import Availability, Status
from calendar_api.filters import Cursor, EventFilter, Window

T = TypeVar("T")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_GOOD = [
    Availability.AVAILABLE.value,
    Availability.FEW_LEFT.value,
    Availability.FREE.value,
    Availability.NOT_BOOKABLE_ONLINE.value,
]
_BAD = [Availability.SOLD_OUT.value, Availability.WAITING_LIST.value]
_MAX_REDIRECT_HOPS = 10


@dataclass(frozen=True, slots=True)
class DataVersion:
    """What the public data looks like right now, cheaply: a token that changes with every visible
    change (newest update, row counts, newest source record and offer, merges, the sums of the
    occurrences' and the events' SEQUENCEs — so two writes within one clock tick still differ, and a
    highlight, which moves only the event's, shows) and the newest update time."""

    token: str
    time: datetime


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One source record merged into an event."""

    source: str
    record_id: str
    url: str | None


@dataclass(slots=True)
class EventView:
    """An event with the occurrences a request asked for and every source record behind it.

    ``highlight``: the editors recommend it today.
    """

    event: Event
    occurrences: list[Occurrence]
    sources: list[SourceRef] = field(default_factory=list)
    highlight: bool = False


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of the event list and where the next one starts (None on the last page)."""

    events: list[EventView]
    next_cursor: Cursor | None


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One occurrence of a feed with its event and the source records behind the event."""

    occurrence: Occurrence
    event: Event
    sources: list[SourceRef]


def data_version(session: Session) -> DataVersion:
    """The current :class:`DataVersion`, in one statement of index-backed aggregates.

    Nothing here scans the large tables (occurrences, events, offers, source records, changes): each
    is a maximum of an indexed column. What a maximum cannot see is recorded elsewhere: every write of
    public data goes through :func:`aggregator.store.rederive` or the purge, which record the change
    (:mod:`aggregator.changes`) in the same transaction, so ``max(changes.id)`` moves with deletions,
    offer removals, merges and a second write within one clock tick; a replaced offer gets a new id.
    Venues and redirects are small tables and are counted outright (an edit of a venue records no change).
    """
    row = session.execute(
        select(
            select(func.max(Occurrence.updated_at)).scalar_subquery(),
            select(func.max(Event.updated_at)).scalar_subquery(),
            select(func.max(Venue.updated_at)).scalar_subquery(),
            select(func.max(EventRedirect.created_at)).scalar_subquery(),
            select(func.count()).select_from(Venue).scalar_subquery(),
            select(func.count()).select_from(EventRedirect).scalar_subquery(),
            select(func.max(SourceRecord.id)).scalar_subquery(),
            select(func.max(Offer.id)).scalar_subquery(),
            select(func.max(Change.id)).scalar_subquery(),
            select(func.max(ChangePrune.id)).scalar_subquery(),
        )
    ).one()
    times = [value for value in row[:4] if value is not None]
    newest = max((_aware(value) for value in times), default=EPOCH)
    token = hashlib.blake2b(repr(tuple(row)).encode("utf-8"), digest_size=10).hexdigest()
    return DataVersion(token, newest)


def consistent_read(
    factory: sessionmaker[Session], read: Callable[[Session, DataVersion], T]
) -> tuple[DataVersion, T]:
    """Run ``read`` on one committed state (it gets that state's data version) and return both.

    The version and the whole read run in one read-only snapshot transaction: REPEATABLE READ on
    PostgreSQL; on SQLite an explicit ``BEGIN`` (the driver would otherwise run each statement on its
    own), which in WAL mode reads one snapshot however often writers commit meanwhile. A reader never
    mixes two states and never has to retry.
    """
    with factory() as session:
        begin_snapshot(session)
        version = data_version(session)
        return version, read(session, version)


def begin_snapshot(session: Session) -> None:
    """Start ``session``'s transaction as a read-only snapshot of the committed data."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    elif dialect == "sqlite":
        session.connection().exec_driver_sql("BEGIN")


def current_version(factory: sessionmaker[Session]) -> DataVersion:
    """The data version, read in a short session of its own."""
    with factory() as session:
        return data_version(session)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite hands scalar subqueries back untyped on some paths
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def occurrence_conditions(
    filters: EventFilter,
    window: Window,
    *,
    cancelled_since: datetime | None = None,
    occurrence: type[Occurrence] | AliasedClass[Occurrence] = Occurrence,
) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Occurrence` (or an alias of it): not hidden, in the window, matching status,
    free and available."""
    o = occurrence
    start = window.start
    conditions: list[ColumnElement[bool]] = [
        o.hidden.is_(False),
        or_(
            o.end > start,
            and_(o.end.is_(None), o.start >= start),
            and_(
                o.end.is_(None),
                o.all_day.is_(True),
                o.start > start - timedelta(days=1),
            ),
        ),
    ]
    if window.end is not None:
        conditions.append(o.start < window.end)
    if filters.statuses:
        conditions.append(o.status.in_(filters.statuses))
    if filters.free:
        conditions.append(
            exists().where(
                Offer.occurrence_id == o.id,
                or_(
                    Offer.availability == Availability.FREE.value,
                    Offer.price_max == 0,
                    and_(Offer.price_max.is_(None), Offer.price_min == 0),
                ),
            )
        )
    if filters.available:
        bad = exists().where(Offer.occurrence_id == o.id, Offer.availability.in_(_BAD))
        good = exists().where(Offer.occurrence_id == o.id, Offer.availability.in_(_GOOD))
        conditions.append(o.status != Status.CANCELLED.value)
        conditions.append(or_(not_(bad), good))
    if cancelled_since is not None:
        conditions.append(or_(o.status != Status.CANCELLED.value, o.updated_at >= cancelled_since))
    return conditions


def event_conditions(
    filters: EventFilter,
    dialect: str,
    window: Window,
    *,
    changed: type[Occurrence] | AliasedClass[Occurrence] = Occurrence,
) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Event` and an outer-joined :class:`Venue`; hidden events never match.

    ``updated_since`` looks at the event's occurrences through ``changed``: an alias where the
    statement already selects from :class:`Occurrence` and means any occurrence of the event.
    """
    conditions: list[ColumnElement[bool]] = [Event.hidden.is_(False)]
    if filters.highlight:
        conditions.append(highlight_now(window.today))
    if filters.venues:
        conditions.append(Event.venue_slug.in_(filters.venues))
    if filters.categories:
        conditions.append(_has_any_category(filters.categories, dialect))
    for term in filters.terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (Event.title, Event.subtitle, Event.description, Venue.name)
                )
            )
        )
    if filters.district is not None:
        conditions.append(func.lower(Venue.district) == filters.district.lower())
    if filters.accessible:
        conditions.append(and_(Venue.accessibility.is_not(None), func.trim(Venue.accessibility) != ""))
    if filters.updated_since is not None:
        since = filters.updated_since
        touched = exists().where(changed.event_id == Event.id, changed.updated_at >= since)
        conditions.append(or_(Event.updated_at >= since, touched))
    if filters.lang is not None:
        conditions.append(
            or_(
                func.lower(Event.language) == filters.lang,
                func.lower(Event.language).like(filters.lang + "-%"),
            )
        )
    return conditions


def _has_any_category(slugs: Sequence[str], dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        column = type_coerce(Event.categories, JSONB)
        return or_(*(column.contains([slug]) for slug in slugs))
    if dialect == "sqlite":
        each = func.json_each(Event.categories).table_valued("value", joins_implicitly=True)
        return exists(select(literal(1)).select_from(each).where(each.c.value.in_(slugs)))
    raise NotImplementedError(f"category filter has no implementation for the {dialect} dialect")


def event_page(session: Session, filters: EventFilter, window: Window) -> EventPage:
    """Events with an occurrence matching ``filters`` in ``window``, by next occurrence then id.

    With ``sort=highlights`` the editors' highlights come first, each part in that order (two walks).
    """
    occurrence_where = occurrence_conditions(filters, window)
    cursor, wanted = filters.cursor, filters.limit + 1
    rows: list[tuple[str, datetime, bool | None]] = []
    if filters.sort != "highlights":
        rows = [
            (id_, start, None)
            for id_, start in _first_occurrences(session, filters, window, None, cursor, wanted)
        ]
    else:
        picked = highlight_now(window.today)
        if cursor is None or cursor.highlight:
            found = _first_occurrences(session, filters, window, picked, cursor, wanted)
            rows = [(id_, start, True) for id_, start in found]
            cursor = None
        if len(rows) < wanted:
            found = _first_occurrences(session, filters, window, not_(picked), cursor, wanted - len(rows))
            rows += [(id_, start, False) for id_, start in found]
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    ids = [row[0] for row in rows]
    views = _views(session, ids, occurrence_where, window.today)
    next_cursor = None
    if more:
        last_id, last_start, last_highlight = rows[-1]
        next_cursor = Cursor(_aware(last_start), last_id, last_highlight)
    return EventPage([views[event_id] for event_id in ids if event_id in views], next_cursor)


def _first_occurrences(
    session: Session,
    filters: EventFilter,
    window: Window,
    part: ColumnElement[bool] | None,
    cursor: Cursor | None,
    limit: int,
) -> list[tuple[str, datetime]]:
    """The first ``limit`` events (and their next start) matching ``filters`` and ``part``, after ``cursor``.

    Each event is represented by its first matching occurrence (by start, then id: no earlier one of the
    same event matches), so these are the first such occurrences in (start, event id) order: the
    database walks occurrences by start and stops there, instead of grouping every matching occurrence
    of the table into events and sorting them all.
    """
    earlier = aliased(Occurrence, name="earlier")
    has_earlier = exists().where(
        earlier.event_id == Occurrence.event_id,
        or_(
            earlier.start < Occurrence.start,
            and_(earlier.start == Occurrence.start, earlier.id < Occurrence.id),
        ),
        *occurrence_conditions(filters, window, occurrence=earlier),
    )
    statement = (
        select(Occurrence.event_id, Occurrence.start)
        .join(Event, Event.id == Occurrence.event_id)
        .outerjoin(Venue, Venue.slug == Event.venue_slug)
        .where(*occurrence_conditions(filters, window), not_(has_earlier))
        .where(
            *event_conditions(
                filters, session.get_bind().dialect.name, window, changed=aliased(Occurrence, name="changed")
            )
        )
    )
    if part is not None:
        statement = statement.where(part)
    if cursor is not None:
        statement = statement.where(
            Occurrence.start >= cursor.start,  # implied by the next condition, but usable on the index
            or_(
                Occurrence.start > cursor.start,
                and_(Occurrence.start == cursor.start, Occurrence.event_id > cursor.event_id),
            ),
        )
    statement = statement.order_by(Occurrence.start, Occurrence.event_id).limit(limit)
    return [(event_id, start) for event_id, start in session.execute(statement)]


def _views(
    session: Session, ids: Sequence[str], occurrence_where: Iterable[ColumnElement[bool]], today: datetime
) -> dict[str, EventView]:
    if not ids:
        return {}
    events = session.scalars(select(Event).where(Event.id.in_(ids))).unique().all()
    views = {event.id: EventView(event, [], highlight=is_highlight(event, today)) for event in events}
    occurrences = session.scalars(
        select(Occurrence)
        .where(Occurrence.event_id.in_(ids), *occurrence_where)
        .order_by(Occurrence.start, Occurrence.id)
        .options(selectinload(Occurrence.offers))
    ).all()
    for occurrence in occurrences:
        views[occurrence.event_id].occurrences.append(occurrence)
    for event_id, refs in source_refs(session, ids).items():
        views[event_id].sources = refs
    return views


def is_highlight(event: Event, today: datetime) -> bool:
    """Whether the editors recommend ``event`` on the Berlin day that began at ``today``."""
    until = event.highlight_until
    return event.highlight and (until is None or _aware(until) > today)


def source_refs(session: Session, event_ids: Sequence[str]) -> dict[str, list[SourceRef]]:
    """Source records per event (source, record id, URL), without their stored payloads."""
    refs: dict[str, list[SourceRef]] = {}
    for chunk_start in range(0, len(event_ids), 500):
        chunk = list(event_ids[chunk_start : chunk_start + 500])
        rows = session.execute(
            select(SourceRecord.event_id, SourceRecord.source, SourceRecord.record_id, SourceRecord.url)
            .where(SourceRecord.event_id.in_(chunk))
            .order_by(SourceRecord.event_id, SourceRecord.source, SourceRecord.record_id)
        ).all()
        for event_id, source, record_id, url in rows:
            refs.setdefault(event_id, []).append(SourceRef(source, record_id, url))
    return refs


def event_view(session: Session, event_id: str, today: datetime) -> EventView | None:
    """One event with all its occurrences an editor did not hide, or None.

    A hidden event is returned too (``view.event.hidden``): the caller answers 410 Gone for it.
    """
    views = _views(session, [event_id], [Occurrence.hidden.is_(False)], today)
    return views.get(event_id)


def redirect_target(session: Session, event_id: str) -> str | None:
    """The surviving event an old (merged) id now points at, following chains; None if not merged."""
    seen = {event_id}
    target: str | None = None
    current = event_id
    for _hop in range(_MAX_REDIRECT_HOPS):
        redirect = session.get(EventRedirect, current)
        if redirect is None or redirect.event_id in seen:
            break
        target = current = redirect.event_id
        seen.add(current)
    return target


def feed_rows(
    session: Session, filters: EventFilter, window: Window, *, cancelled_since: datetime | None
) -> list[FeedRow]:
    """Occurrences of a feed, each with its event, by start time."""
    dialect = session.get_bind().dialect.name
    statement = (
        select(Occurrence, Event)
        .join(Event, Occurrence.event_id == Event.id)
        .outerjoin(Venue, Venue.slug == Event.venue_slug)
        .where(*occurrence_conditions(filters, window, cancelled_since=cancelled_since))
        .where(*event_conditions(filters, dialect, window))
        .order_by(Occurrence.start, Occurrence.id)
        .options(selectinload(Occurrence.offers))
    )
    pairs = session.execute(statement).unique().all()
    refs = source_refs(session, sorted({event.id for _occurrence, event in pairs}))
    return [FeedRow(occurrence, event, refs.get(event.id, [])) for occurrence, event in pairs]


def event_feed_rows(session: Session, event_id: str, today: datetime) -> tuple[Event, list[FeedRow]] | None:
    """Every occurrence of one event an editor did not hide, for its own .ics (none when the event is
    hidden); None when there is no such event."""
    view = event_view(session, event_id, today)
    if view is None:
        return None
    if view.event.hidden:
        return view.event, []
    return view.event, [FeedRow(o, view.event, view.sources) for o in view.occurrences]


def venues(session: Session) -> list[Venue]:
    """Every venue, by name."""
    return list(session.scalars(select(Venue).order_by(func.lower(Venue.name), Venue.slug)))


def venue(session: Session, slug: str) -> Venue | None:
    """One venue by slug."""
    return session.get(Venue, slug)


def used_categories(session: Session) -> list[str]:
    """Category slugs that at least one event carries (when no category vocabulary is installed)."""
    found: set[str] = set()
    for categories in session.scalars(select(Event.categories).where(Event.categories.is_not(None))):
        found.update(str(c) for c in categories or [])
    return sorted(found)
