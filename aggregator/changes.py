"""The change feed: every change the public can see, recorded in the transaction that makes it.

Writers call :func:`record_change` (the one place that adds a :class:`~aggregator.models.Change`);
:class:`Watch` notes what re-derivation changes and records it. The cursor is the change's id, a
database sequence: on PostgreSQL each writer takes a transaction lock before its first change, so a
later id is never committed before an earlier one and a reader following ids misses nothing. (On
SQLite the database lets one writer in at a time anyway.) Deleted and merged events stay as
tombstones for ``open_data.change_retention_days``; a cursor older than the pruned part is stale.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.orm import Session

from aggregator.derive import EVENT_FIELDS, offer_values
from aggregator.models import Change, ChangePrune, Event, Occurrence
from aggregator.types import Status

CHANGE_LOCK = ":stadtkalender-changes"


class ChangeKind(StrEnum):
    """What happened to an event (or, with an occurrence id, to one of its dates)."""

    CREATED = "created"
    UPDATED = "updated"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    HIDDEN = "hidden"
    UNHIDDEN = "unhidden"
    MERGED = "merged"
    DELETED = "deleted"


def _joined(values: Iterable[str]) -> str:
    return "|" + "".join(f"{value}|" for value in sorted(set(values)) if value)


def lock_changes(session: Session) -> None:
    """Hold the change lock until ``session``'s transaction ends (PostgreSQL; re-entrant).

    Taken once per transaction, without flushing: a run records thousands of changes, and a lock
    statement (with its autoflush) per change would turn the bulk write path back into one row at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("change_lock") is transaction:
        return
    with session.no_autoflush:
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :key))"), {"key": CHANGE_LOCK}
        )
    session.info["change_lock"] = transaction


def record_change(
    session: Session,
    kind: ChangeKind,
    event: Event,
    *,
    now: datetime,
    occurrence_id: str | None = None,
    fields: Sequence[str] = (),
    data: dict[str, Any] | None = None,
) -> None:
    """Record one change of ``event`` in the current transaction (call it where the write happens)."""
    lock_changes(session)
    with session.no_autoflush:
        sources = _joined(r.source for r in event.records)
    session.add(
        Change(
            at=now,
            kind=kind.value,
            event_id=event.id,
            occurrence_id=occurrence_id,
            fields=list(fields),
            data=data or {},
            venue=event.venue_slug or "",
            categories=_joined(str(c) for c in event.categories or ()),
            sources=sources,
        )
    )


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class _OccurrenceState:
    start: datetime
    values: dict[str, Any]
    shown: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class _EventState:
    values: dict[str, Any]
    occurrences: dict[str, _OccurrenceState]
    hidden: bool

    @property
    def shown(self) -> bool:
        """Whether the event was derived (and so published) before: a new one has no visible hash yet."""
        return any(o.shown for o in self.occurrences.values())


def _occurrence_state(occurrence: Occurrence) -> _OccurrenceState:
    offers = [offer_values(o) for o in occurrence.offers]
    values = {
        "start": occurrence.start,
        "end": occurrence.end,
        "all_day": occurrence.all_day,
        "status": occurrence.status,
        "room": occurrence.room,
        "offers": offers,
    }
    return _OccurrenceState(occurrence.start, values, bool(occurrence.visible_hash), occurrence.hidden)


def _event_state(event: Event) -> _EventState:
    values: dict[str, Any] = {name: getattr(event, name) for name in EVENT_FIELDS}
    values["image_credit"] = event.image_credit
    values["image_licence"] = event.image_licence
    values["categories"] = list(event.categories or ())
    values["venue"] = event.venue_slug
    values["highlight"] = event.highlight
    values["sources"] = sorted((r.source, r.record_id, r.url or "") for r in event.records if r.active)
    return _EventState(values, {o.id: _occurrence_state(o) for o in event.occurrences}, event.hidden)


class Watch:
    """What a re-derivation changes: note events with :meth:`before`, record changes with :meth:`record`."""

    def __init__(self, states: dict[str, tuple[Event, _EventState]]) -> None:
        self._states = states

    @classmethod
    def before(cls, events: Iterable[Event], occurrences: Iterable[Occurrence]) -> Watch:
        """Note the visible state of ``events`` and of the events of ``occurrences``."""
        states: dict[str, tuple[Event, _EventState]] = {}
        for event in [*events, *(o.event for o in occurrences)]:
            if event.id not in states:
                states[event.id] = (event, _event_state(event))
        return cls(states)

    def record(self, session: Session, now: datetime) -> None:
        """Record every change between the noted state and now, event by event in id order."""
        for event_id in sorted(self._states):
            event, before = self._states[event_id]
            if event in session.deleted or not event.records:
                if before.shown:
                    record_change(session, ChangeKind.DELETED, event, now=now)
                continue
            after = _event_state(event)
            if not before.shown:
                if after.occurrences and not after.hidden:
                    record_change(session, ChangeKind.CREATED, event, now=now)
                continue
            if before.hidden or after.hidden:  # a hidden event tells the public nothing but that
                if before.hidden != after.hidden:
                    kind = ChangeKind.HIDDEN if after.hidden else ChangeKind.UNHIDDEN
                    record_change(session, kind, event, now=now)
                continue
            fields = [name for name, value in after.values.items() if before.values.get(name) != value]
            added = sorted(set(after.occurrences) - {k for k, o in before.occurrences.items() if o.shown})
            removed = sorted(set(before.occurrences) - set(after.occurrences))
            if added or removed:
                fields.append("occurrences")
            if fields:
                data = {"added": added, "removed": removed} if added or removed else None
                record_change(session, ChangeKind.UPDATED, event, now=now, fields=fields, data=data)
            for occurrence_id in sorted(set(before.occurrences) & set(after.occurrences)):
                self._occurrence(
                    session,
                    event,
                    before.occurrences[occurrence_id],
                    after.occurrences[occurrence_id],
                    occurrence_id,
                    now,
                )

    @staticmethod
    def _occurrence(
        session: Session,
        event: Event,
        old: _OccurrenceState,
        new: _OccurrenceState,
        occurrence_id: str,
        now: datetime,
    ) -> None:
        if not old.shown:
            return  # a new date: the event's ``occurrences`` change names it
        if old.hidden or new.hidden:
            if old.hidden != new.hidden:
                kind = ChangeKind.HIDDEN if new.hidden else ChangeKind.UNHIDDEN
                record_change(session, kind, event, now=now, occurrence_id=occurrence_id)
            return
        changed = [name for name, value in new.values.items() if old.values[name] != value]
        if new.values["status"] == Status.CANCELLED and old.values["status"] != Status.CANCELLED:
            record_change(session, ChangeKind.CANCELLED, event, now=now, occurrence_id=occurrence_id)
            changed.remove("status")
        if new.start != old.start:
            data = {"previous_start": _instant(old.start), "start": _instant(new.start)}
            record_change(
                session, ChangeKind.RESCHEDULED, event, now=now, occurrence_id=occurrence_id, data=data
            )
            changed.remove("start")
        if changed:
            record_change(
                session, ChangeKind.UPDATED, event, now=now, occurrence_id=occurrence_id, fields=changed
            )


def record_merge(session: Session, loser: Event, survivor_id: str, now: datetime) -> None:
    """Record that ``loser`` is merged into ``survivor_id`` (its id redirects there from now on), and
    that the survivor gains the loser's dates."""
    record_change(session, ChangeKind.MERGED, loser, now=now, data={"into": survivor_id})
    survivor = session.get(Event, survivor_id)
    if survivor is not None:
        added = sorted(o.id for o in loser.occurrences)
        data = {"added": added, "removed": [], "merged": [loser.id]}
        record_change(session, ChangeKind.UPDATED, survivor, now=now, fields=["occurrences"], data=data)


def record_purge(session: Session, occurrence_ids: Collection[str], now: datetime) -> None:
    """Record, before they go, the deletion of long-past cancelled occurrences (``occurrence_ids``) and
    of the events they leave with no date and no record."""
    doomed = set(occurrence_ids)
    occurrences = session.scalars(select(Occurrence).where(Occurrence.id.in_(sorted(doomed)))).all()
    events = {o.event_id: o.event for o in occurrences}
    for event_id in sorted(events):
        event = events[event_id]
        emptied = all(o.id in doomed for o in event.occurrences) and all(
            r.occurrence_id in doomed for r in event.records
        )
        if emptied:
            record_change(session, ChangeKind.DELETED, event, now=now)
            continue
        for occurrence in sorted(event.occurrences, key=lambda o: o.id):
            if occurrence.id in doomed:
                record_change(session, ChangeKind.DELETED, event, now=now, occurrence_id=occurrence.id)


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One page of the feed: the changes after the cursor, and the cursor to ask with next."""

    changes: list[Change]
    next_cursor: int


class StaleCursor(Exception):
    """The cursor points into changes that were pruned: start again from a full export."""

    def __init__(self, cursor: int, oldest: int) -> None:
        self.cursor = cursor
        self.oldest = oldest
        super().__init__(f"changes up to {oldest} were pruned; cursor {cursor} is too old")


def read_changes(
    session: Session,
    since: int,
    limit: int,
    *,
    venues: Sequence[str] = (),
    categories: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> ChangePage:
    """The changes after cursor ``since`` matching the filters (any of each list), oldest first.

    The next cursor is the last change returned, or — when the page is not full — the newest change
    of all, so that a filtered reader moves past changes it does not want. Raises :class:`StaleCursor`
    when ``since`` lies in the pruned part of the feed.
    """
    pruned = session.scalar(select(func.max(ChangePrune.through_id)))
    if pruned is not None and since < pruned:
        raise StaleCursor(since, pruned)
    newest = session.scalar(select(func.max(Change.id))) or 0  # first: a later commit waits for the next page
    query = select(Change).where(Change.id > since, Change.id <= newest)
    if venues:
        query = query.where(Change.venue.in_(list(venues)))
    if categories:
        query = query.where(or_(*(Change.categories.contains(f"|{c}|", autoescape=True) for c in categories)))
    if sources:
        query = query.where(or_(*(Change.sources.contains(f"|{s}|", autoescape=True) for s in sources)))
    rows = list(session.scalars(query.order_by(Change.id).limit(limit)))
    if len(rows) == limit:
        return ChangePage(rows, rows[-1].id)
    return ChangePage(rows, max(since, newest))


def prune_changes(session: Session, *, retention: timedelta, now: datetime) -> int:
    """Delete changes older than ``retention``; returns how many. Cursors before them become stale."""
    cutoff = now - retention
    through = session.scalar(select(func.max(Change.id)).where(Change.at < cutoff))
    if through is None:
        return 0
    result = session.execute(delete(Change).where(Change.id <= through))
    session.add(ChangePrune(at=now, through_id=through))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
