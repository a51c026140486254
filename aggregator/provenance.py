"""Per-field provenance of one event for the console: what each field shows, who said so, what sources say.

For every field an editor can set, on the event and on each occurrence: the value the public sees,
its source (a source's name or ``editor``), the editor's override with who set it and when, and the
value the sources would give without it. Hiding and highlight marks come with their reason and author.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from aggregator.decisions import load_picks
from aggregator.derive import Picks, Priority, occurrence_source_values, source_values
from aggregator.models import Event, EventOverride, Occurrence, OccurrenceOverride
from aggregator.override_fields import (
    EDITOR,
    EVENT_FIELDS,
    HIDDEN,
    HIGHLIGHT,
    OCCURRENCE_FIELDS,
    from_json,
    highlight_last_day,
)


@dataclass(frozen=True, slots=True)
class Mark:
    """An editor's override row: its value, reason, author and time."""

    value: Any
    reason: str | None
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class FieldState:
    """One field: what the public sees and where it comes from, and what the sources alone say."""

    name: str
    value: Any
    source: str | None
    override: Mark | None
    source_value: Any
    source_name: str | None

    @property
    def edited(self) -> bool:
        """Whether an editor's value is in force."""
        return self.override is not None


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source record behind the event."""

    source: str
    record_id: str
    url: str | None
    active: bool
    occurrence_id: str
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class OccurrenceState:
    """One occurrence with its fields and whether (why, by whom) it is hidden."""

    id: str
    start: datetime
    status: str
    sequence: int
    fields: list[FieldState]
    hidden: Mark | None


@dataclass(frozen=True, slots=True)
class EventState:
    """One event as the console shows it."""

    id: str
    title: str
    sequence: int
    updated_at: datetime
    fields: list[FieldState]
    hidden: Mark | None
    highlight: Mark | None
    highlight_last_day: date | None
    occurrences: list[OccurrenceState]
    records: list[SourceRow]


def _mark(row: EventOverride | OccurrenceOverride) -> Mark:
    return Mark(from_json(row.field, row.value), row.reason, row.account_email, row.set_at)


def event_state(session: Session, event_id: str, priority: Priority) -> EventState | None:
    """The event with per-field provenance, or None when there is no such event."""
    event = session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .options(
            selectinload(Event.records),
            selectinload(Event.occurrences).selectinload(Occurrence.records),
        )
    ).first()
    if event is None:
        return None
    marks = {
        row.field: _mark(row)
        for row in session.scalars(select(EventOverride).where(EventOverride.event_id == event_id))
    }
    ranked = sorted((r for r in event.records if r.active), key=priority.rank) or sorted(
        event.records, key=priority.rank
    )
    picks = load_picks(session)
    values, sources = source_values(ranked, picks)
    provenance = event.field_sources or {}
    fields = [
        FieldState(
            name,
            getattr(event, spec.column),
            provenance.get(name) if name not in marks else EDITOR,
            marks.get(name),
            values.get(spec.column),
            sources.get(name),
        )
        for name, spec in EVENT_FIELDS.items()
    ]
    occurrence_marks: dict[str, dict[str, Mark]] = {}
    ids = [o.id for o in event.occurrences]
    if ids:
        for row in session.scalars(
            select(OccurrenceOverride).where(OccurrenceOverride.occurrence_id.in_(ids))
        ):
            occurrence_marks.setdefault(row.occurrence_id, {})[row.field] = _mark(row)
    occurrences = [
        _occurrence_state(o, occurrence_marks.get(o.id, {}), priority, picks) for o in event.occurrences
    ]
    records = sorted(
        (
            SourceRow(r.source, r.record_id, r.url, r.active, r.occurrence_id, r.last_seen)
            for r in event.records
        ),
        key=lambda row: (row.source, row.record_id),
    )
    return EventState(
        event.id,
        event.title,
        event.sequence,
        event.updated_at,
        fields,
        marks.get(HIDDEN),
        marks.get(HIGHLIGHT),
        highlight_last_day(event.highlight_until) if event.highlight else None,
        occurrences,
        records,
    )


def _occurrence_state(
    occurrence: Occurrence, marks: dict[str, Mark], priority: Priority, picks: Picks
) -> OccurrenceState:
    values, sources = occurrence_source_values(occurrence.records, priority, picks)
    fields = [
        FieldState(
            name,
            getattr(occurrence, name),
            EDITOR if name in marks else sources.get(name),
            marks.get(name),
            values.get(name),
            sources.get(name),
        )
        for name in OCCURRENCE_FIELDS
    ]
    return OccurrenceState(
        occurrence.id, occurrence.start, occurrence.status, occurrence.sequence, fields, marks.get(HIDDEN)
    )
