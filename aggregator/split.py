"""Undoing a wrong merge: ``never_merge`` rules split records back out of an event on the next run.

A rule ``"A | B"`` names two things by key: an event ID, or ``source:record_id`` / ``source:series_key``.
When one event holds both, the records matching ``B`` leave it for an event of their own (the ID they
would have had, so a merged-away ID comes back), and a performance both sides shared is split too.
Nothing is deleted; both events are re-derived from their records afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from aggregator import ids
from aggregator.dedupe import MergeRules
from aggregator.models import Event, EventRedirect, Occurrence, SourceRecord


def record_keys(record: SourceRecord) -> set[str]:
    """The rule keys a record answers to."""
    keys = {f"{record.source}:{record.record_id}"}
    series = record.data.get("series_key")
    if series:
        keys.add(f"{record.source}:{series}")
    keys.add(ids.event_id(record.source, str(series or record.record_id)))
    return keys


def _matching(records: Iterable[SourceRecord], key: str) -> list[SourceRecord]:
    return [r for r in records if key in record_keys(r)]


def split_forbidden(session: Session, rules: MergeRules, now: datetime) -> tuple[set[str], set[str]]:
    """Apply every never-merge rule; returns the touched event and occurrence IDs."""
    touched_events: set[str] = set()
    touched_occurrences: set[str] = set()
    if not rules.never:
        return touched_events, touched_occurrences
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
            new_event = _detach(session, event_id, moving, now, touched_occurrences)
            by_event[event_id] = [r for r in members if r not in moving]
            by_event[new_event] = moving
            touched_events |= {event_id, new_event}
    session.flush()
    return touched_events, touched_occurrences


def _detach(
    session: Session, event_id: str, moving: list[SourceRecord], now: datetime, touched_occurrences: set[str]
) -> str:
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
    for record in moving:
        occurrence = session.get_one(Occurrence, record.occurrence_id)
        others = [r for r in occurrence.records if r.id not in moving_ids]
        if others:  # a performance both sides claimed: this side gets its own occurrence
            occurrence_id = ids.first_free(
                ids.occurrence_id(record.source, record.record_id),
                lambda i: session.get(Occurrence, i) is not None,
            )
            session.add(
                Occurrence(
                    id=occurrence_id,
                    event_id=new_id,
                    start=occurrence.start,
                    end=occurrence.end,
                    all_day=occurrence.all_day,
                    status=occurrence.status,
                    room=occurrence.room,
                    created_at=now,
                    updated_at=now,
                    sequence=0,
                    visible_hash="",
                )
            )
            session.flush()
            touched_occurrences |= {occurrence.id, occurrence_id}
            record.occurrence_id = occurrence_id
        else:
            occurrence.event_id = new_id
            touched_occurrences.add(occurrence.id)
        record.event_id = new_id
    session.flush()
    return new_id
