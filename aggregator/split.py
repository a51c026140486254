"""Undoing a wrong merge: ``never_merge`` rules and editors' keep-apart decisions split an event.

A rule ``"A | B"`` names two things by key: an event ID, or ``source:record_id`` / ``source:series_key``.
When one event holds both, the records matching ``B`` leave it for an event of their own (the ID they
would have had, so a merged-away ID comes back), and a performance both sides shared is split too.
A keep-apart decision (:mod:`aggregator.decisions`) names two sets of records by ``source:record_id``;
an event holding records of both loses one side the same way. Nothing is deleted; both events are
re-derived from their records afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from aggregator import ids
from aggregator.dedupe import MergeRules
from aggregator.models import Event, EventRedirect, Occurrence, SourceRecord


def record_keys(record: SourceRecord) -> set[str]:
    """The rule keys a record answers to."""
    series = record.data.get("series_key")
    return keys_of(record.source, record.record_id, str(series) if series else None)


def keys_of(source: str, record_id: str, series_key: str | None) -> set[str]:
    """The rule keys of a record of ``source``: its own, its series', and the event ID it would build."""
    keys = {f"{source}:{record_id}"}
    if series_key:
        keys.add(f"{source}:{series_key}")
    keys.add(ids.event_id(source, series_key or record_id))
    return keys


def _matching(records: Iterable[SourceRecord], key: str) -> list[SourceRecord]:
    return [r for r in records if key in record_keys(r)]


def split_forbidden(session: Session, rules: MergeRules, now: datetime) -> tuple[set[str], set[str]]:
    """Apply every never-merge and keep-apart rule; returns the touched event and occurrence IDs."""
    touched_events: set[str] = set()
    touched_occurrences: set[str] = set()
    if rules.never:
        _split_never(session, rules, now, touched_events, touched_occurrences)
    if rules.apart:
        _split_apart(session, rules, now, touched_events, touched_occurrences)
    session.flush()
    return touched_events, touched_occurrences


def _split_never(
    session: Session,
    rules: MergeRules,
    now: datetime,
    touched_events: set[str],
    touched_occurrences: set[str],
) -> None:
    records = list(session.scalars(select(SourceRecord)))
    by_event: dict[str, list[SourceRecord]] = {}
    for record in records:
        by_event.setdefault(record.event_id, []).append(record)
    for rule in rules.never:
        if len(rule) != 2:
            continue
        first, second = sorted(rule)
        for event_id, members in list(by_event.items()):
            keys = {k for r in members for k in record_keys(r)} | {event_id}
            if first not in keys or second not in keys:
                continue
            # The side that created the event keeps its ID; the other side leaves.
            side_a, side_b = _matching(members, first), _matching(members, second)
            creator_a = any(event_id in record_keys(r) for r in side_a)
            moving = side_b if creator_a else side_a
            if not moving or len(moving) == len(members):
                moving = [r for r in members if r not in (side_a if moving is side_b else side_b)]
            if not moving or len(moving) == len(members):
                continue
            new_event = detach(session, event_id, moving, now, touched_occurrences)
            by_event[event_id] = [r for r in members if r not in moving]
            by_event[new_event] = moving
            touched_events |= {event_id, new_event}


def _split_apart(
    session: Session,
    rules: MergeRules,
    now: datetime,
    touched_events: set[str],
    touched_occurrences: set[str],
) -> None:
    """Split each event that holds records of both sides of a keep-apart rule (an editor's decision)."""
    where = events_by_keys(session, {key for left, right in rules.apart for key in left | right})
    for left, right in rules.apart:
        events = {where[k] for k in left if k in where} & {where[k] for k in right if k in where}
        for event_id in sorted(events):
            members = list(session.scalars(select(SourceRecord).where(SourceRecord.event_id == event_id)))
            side_left = [r for r in members if record_key(r) in left]
            side_right = [r for r in members if record_key(r) in right]
            if not side_left or not side_right:
                continue
            creator_right = any(_created(event_id, r) for r in side_right) and not any(
                _created(event_id, r) for r in side_left
            )
            moving = side_left if creator_right else side_right
            new_event = detach(session, event_id, moving, now, touched_occurrences)
            touched_events |= {event_id, new_event}


def _created(event_id: str, record: SourceRecord) -> bool:
    """Whether ``record`` is the one the event was first built from (its natural event ID)."""
    return ids.event_id(record.source, str(record.data.get("series_key") or record.record_id)) == event_id


def record_key(record: SourceRecord) -> str:
    """The key naming exactly this record: ``source:record_id``."""
    return f"{record.source}:{record.record_id}"


def records_by_keys(session: Session, keys: Iterable[str]) -> dict[str, SourceRecord]:
    """The stored records named by ``source:record_id`` keys (sources and record IDs may hold colons)."""
    wanted = set(keys)
    found: dict[str, SourceRecord] = {}
    for sources, record_ids in _lookups(wanted):
        query = select(SourceRecord).where(
            SourceRecord.source.in_(sources), SourceRecord.record_id.in_(record_ids)
        )
        for record in session.scalars(query):
            if record_key(record) in wanted:
                found[record_key(record)] = record
    return found


def events_by_keys(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """The event of each stored record named by a ``source:record_id`` key (reads no record data)."""
    wanted = set(keys)
    found: dict[str, str] = {}
    for sources, record_ids in _lookups(wanted):
        query = select(SourceRecord.source, SourceRecord.record_id, SourceRecord.event_id).where(
            SourceRecord.source.in_(sources), SourceRecord.record_id.in_(record_ids)
        )
        for source, record_id, event_id in session.execute(query):
            key = f"{source}:{record_id}"
            if key in wanted:
                found[key] = str(event_id)
    return found


def _lookups(keys: set[str]) -> Iterator[tuple[set[str], set[str]]]:
    """(sources, record IDs) to query for ``keys``, a chunk at a time: each key split at each colon."""
    pairs = sorted({(key[:at], key[at + 1 :]) for key in keys for at, char in enumerate(key) if char == ":"})
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start : start + _CHUNK]
        yield {source for source, _ in chunk}, {record_id for _, record_id in chunk}


_CHUNK = 400
"""Keys looked up per query (each becomes at most two bound parameters)."""


def detach(
    session: Session,
    event_id: str,
    moving: list[SourceRecord],
    now: datetime,
    touched_occurrences: set[str],
    *,
    new_id: str | None = None,
    occurrence_ids: dict[int, str] | None = None,
) -> str:
    """Move ``moving`` records out of ``event_id`` into a new event; returns its ID.

    The new event gets ``new_id`` (an editor's undo restores the ID a merge took away), else the ID
    the first moving record would have built. An occurrence whose records all move goes along; a
    record sharing its occurrence with records that stay gets an occurrence of its own, with the ID
    ``occurrence_ids`` gives for the record's row id, else its natural one.
    """
    if new_id is None:
        first = moving[0]
        base = ids.event_id(first.source, str(first.data.get("series_key") or first.record_id))
        new_id = ids.first_free(base, lambda i: i == event_id or session.get(Event, i) is not None)
    session.execute(delete(EventRedirect).where(EventRedirect.old_id == new_id))
    old = session.get_one(Event, event_id)
    session.add(
        Event(
            id=new_id,
            title=old.title,
            title_key=old.title_key,
            venue_slug=old.venue_slug,
            categories=[],
            field_sources={},
            created_at=now,
            updated_at=now,
            sequence=0,
        )
    )
    session.flush()
    moving_ids = {r.id for r in moving}
    wanted = occurrence_ids or {}
    groups: dict[tuple[str, str | None], list[SourceRecord]] = {}
    for record in moving:
        groups.setdefault((record.occurrence_id, wanted.get(record.id)), []).append(record)
    taken_along: set[str] = set()
    for (occurrence_id, preferred), group in sorted(groups.items(), key=lambda g: g[0][1] != g[0][0]):
        occurrence = session.get_one(Occurrence, occurrence_id)
        stays = any(r.id not in moving_ids for r in occurrence.records)
        if not stays and occurrence_id not in taken_along and preferred in (None, occurrence_id):
            occurrence.event_id = new_id
            taken_along.add(occurrence_id)
            touched_occurrences.add(occurrence_id)
        else:  # a performance both sides claimed: this side gets its own occurrence
            own = _new_occurrence(session, occurrence, group[0], new_id, preferred, now)
            touched_occurrences |= {occurrence_id, own}
            for record in group:
                record.occurrence_id = own
        for record in group:
            record.event_id = new_id
    session.flush()
    return new_id


def _new_occurrence(
    session: Session,
    like: Occurrence,
    record: SourceRecord,
    event_id: str,
    preferred: str | None,
    now: datetime,
) -> str:
    """A copy of ``like`` in ``event_id`` for ``record``: the ``preferred`` ID if free, else its own."""
    if preferred is not None and session.get(Occurrence, preferred) is None:
        occurrence_id = preferred
    else:
        occurrence_id = ids.first_free(
            ids.occurrence_id(record.source, record.record_id),
            lambda i: session.get(Occurrence, i) is not None,
        )
    session.add(
        Occurrence(
            id=occurrence_id,
            event_id=event_id,
            start=like.start,
            end=like.end,
            all_day=like.all_day,
            status=like.status,
            room=like.room,
            created_at=now,
            updated_at=now,
            sequence=0,
            visible_hash="",
        )
    )
    session.flush()
    return occurrence_id
