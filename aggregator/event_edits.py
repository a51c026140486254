"""Editors' changes to events: field overrides, hiding and highlights, each returned as a :class:`Change`.

Every function here takes a session opened by :func:`editing` (one transaction holding the writers'
lock, so an edit and a source run never interleave), the acting account (the audit log's
:class:`~aggregator.audit.Actor`) and ``now``. It stores the
editor's word as an :class:`~aggregator.models.EventOverride` or
:class:`~aggregator.models.OccurrenceOverride`, re-derives the event at once through
:func:`aggregator.store.rederive` — the place every run derives too, so the next run keeps the edit —
and returns the before and after of what it touched for the audit log. Nothing stored from the
sources is changed or deleted: removing an override gives the sources' values back.

Hiding takes an event or one occurrence out of every public page, list, widget and feed (the
stored rows stay); a hidden occurrence's SEQUENCE moves, so that when it is shown again every
calendar that kept a copy takes the new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.audit import Actor
from aggregator.decisions import load_picks
from aggregator.derive import Priority, occurrence_source_values
from aggregator.ingest import lock_for_ingest
from aggregator.models import Event, EventOverride, Occurrence, OccurrenceOverride, Venue
from aggregator.normalise.categories import load_categories
from aggregator.override_fields import (
    EDITOR,
    EVENT_FIELDS,
    HIDDEN,
    HIGHLIGHT,
    FieldSpec,
    Level,
    OverrideError,
    check,
    check_reason,
    from_json,
    highlight_end,
    highlight_last_day,
    spec_of,
    to_json,
)
from aggregator.store import rederive
from aggregator.types import BERLIN

__all__ = [
    "Actor",
    "Change",
    "EditNotFound",
    "OverrideError",
    "edit_event",
    "edit_occurrence",
    "editing",
    "hide_event",
    "hide_occurrence",
    "set_highlight",
    "unhide_event",
    "unhide_occurrence",
]


@dataclass(frozen=True, slots=True)
class Change:
    """One editorial action: what was done to which event or occurrence, and its before and after.

    ``before`` and ``after`` are JSON-ready dicts with the same keys (times in Berlin ISO 8601).
    """

    action: str
    """``event.edit``, ``event.hide``, ``event.unhide``, ``event.highlight``, ``occurrence.edit``,
    ``occurrence.hide`` or ``occurrence.unhide``."""
    target_kind: Level
    target_id: str
    event_id: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether anything is different afterwards."""
        return self.before != self.after


class EditNotFound(LookupError):
    """No event (or occurrence) has the id an edit named."""

    def __init__(self, kind: Level, target_id: str) -> None:
        self.kind = kind
        self.target_id = target_id
        super().__init__(f"there is no {kind} {target_id!r}")


@contextmanager
def editing(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction holding the writers' lock; committed when the block ends cleanly."""
    with factory() as session, session.begin():
        lock_for_ingest(session)
        yield session


@cache
def _vocabulary() -> frozenset[str]:
    return frozenset(category.slug for category in load_categories().all())


def _shown(value: Any) -> Any:
    """A value as the audit log and the console show it (times in Berlin)."""
    if isinstance(value, datetime):
        return value.astimezone(BERLIN).isoformat()
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return value


def _event(session: Session, event_id: str) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise EditNotFound("event", event_id)
    return event


def _occurrence(session: Session, occurrence_id: str) -> Occurrence:
    occurrence = session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise EditNotFound("occurrence", occurrence_id)
    return occurrence


def _rows(session: Session, level: Level, target_id: str) -> dict[str, EventOverride | OccurrenceOverride]:
    if level == "event":
        return {
            row.field: row
            for row in session.scalars(select(EventOverride).where(EventOverride.event_id == target_id))
        }
    return {
        row.field: row
        for row in session.scalars(
            select(OccurrenceOverride).where(OccurrenceOverride.occurrence_id == target_id)
        )
    }


def _put(
    session: Session,
    level: Level,
    target_id: str,
    name: str,
    value: Any,
    *,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Store (or replace) one override row."""
    row: EventOverride | OccurrenceOverride | None
    if level == "event":
        row = session.get(EventOverride, (target_id, name))
        if row is None:
            row = EventOverride(event_id=target_id, field=name)
            session.add(row)
    else:
        row = session.get(OccurrenceOverride, (target_id, name))
        if row is None:
            row = OccurrenceOverride(occurrence_id=target_id, field=name)
            session.add(row)
    row.value = to_json(name, value)
    row.reason = reason
    row.account_id = actor.account_id
    row.account_email = actor.label
    row.set_at = now


def _drop(session: Session, level: Level, target_id: str, names: Iterable[str]) -> None:
    wanted = list(names)
    if not wanted:
        return
    if level == "event":
        session.execute(
            delete(EventOverride).where(EventOverride.event_id == target_id, EventOverride.field.in_(wanted))
        )
    else:
        session.execute(
            delete(OccurrenceOverride).where(
                OccurrenceOverride.occurrence_id == target_id, OccurrenceOverride.field.in_(wanted)
            )
        )


def _event_state(event: Event, names: Iterable[str]) -> dict[str, Any]:
    sources = event.field_sources or {}
    return {
        name: {"value": _shown(getattr(event, EVENT_FIELDS[name].column)), "source": sources.get(name)}
        for name in names
    }


def _occurrence_state(
    session: Session,
    occurrence: Occurrence,
    names: Iterable[str],
    priority: Priority,
    overridden: Iterable[str],
) -> dict[str, Any]:
    _values, sources = occurrence_source_values(occurrence.records, priority, load_picks(session))
    editor = set(overridden)
    return {
        name: {
            "value": _shown(getattr(occurrence, name)),
            "source": EDITOR if name in editor else sources.get(name),
        }
        for name in names
    }


def _checked(
    session: Session, level: Level, values: Mapping[str, Any], reset: Iterable[str]
) -> tuple[dict[str, Any], list[str]]:
    """The editor's values checked field by field, and the fields to give back to the sources."""
    checked: dict[str, Any] = {}
    for name, raw in values.items():
        spec: FieldSpec = spec_of(level, name)
        checked[name] = check(spec, raw, categories=_vocabulary())
        venue = session.get(Venue, checked[name]) if spec.kind == "venue" and checked[name] else None
        if spec.kind == "venue" and checked[name] is not None and (venue is None or not venue.known):
            raise OverrideError(
                name,
                f"there is no venue {checked[name]!r} in the registry; add it to the venues first",
                f"es gibt keinen Ort „{checked[name]}“ im Verzeichnis; bitte zuerst bei den Orten anlegen",
            )
    back = list(dict.fromkeys(reset))
    for name in back:
        spec_of(level, name)
        if name in checked:
            raise OverrideError(
                name,
                f"{name} cannot be set and given back to the sources at once",
                f"{name} kann nicht zugleich gesetzt und den Quellen zurückgegeben werden",
            )
    if not checked and not back:
        raise OverrideError("fields", "nothing to change was given", "es wurde nichts zu ändern angegeben")
    return checked, back


def edit_event(
    session: Session,
    event_id: str,
    values: Mapping[str, Any],
    reset: Iterable[str] = (),
    *,
    actor: Actor,
    now: datetime,
    priority: Priority,
) -> Change:
    """Set the editor's ``values`` for fields of an event and give the ``reset`` fields back to the sources.

    Each value is checked (:func:`aggregator.override_fields.check`; a venue must exist); an empty value
    means "none" and still wins over the sources. Raises :class:`OverrideError` for bad input (nothing
    is stored then) and :class:`EditNotFound` for an unknown event.
    """
    event = _event(session, event_id)
    checked, back = _checked(session, "event", values, reset)
    names = [*checked, *back]
    before = _event_state(event, names)
    for name, value in checked.items():
        _put(session, "event", event_id, name, value, actor=actor, now=now)
    _drop(session, "event", event_id, back)
    session.flush()
    rederive(session, priority, {event_id}, set(), now)
    return Change("event.edit", "event", event_id, event_id, before, _event_state(event, names))


def edit_occurrence(
    session: Session,
    occurrence_id: str,
    values: Mapping[str, Any],
    reset: Iterable[str] = (),
    *,
    actor: Actor,
    now: datetime,
    priority: Priority,
) -> Change:
    """Set the editor's ``values`` (``start``, ``end``, ``status``, ``room``) of one occurrence and give
    the ``reset`` fields back to the sources. An end must come after the start; a source's end before the
    editor's start is dropped. Raises :class:`OverrideError` or :class:`EditNotFound`."""
    occurrence = _occurrence(session, occurrence_id)
    checked, back = _checked(session, "occurrence", values, reset)
    start = checked.get("start", occurrence.start)
    end = checked.get("end")
    if end is not None and end <= start:
        raise OverrideError(
            "end", "the end must come after the start", "das Ende muss nach dem Beginn liegen"
        )
    names = [*checked, *back]
    rows = _rows(session, "occurrence", occurrence_id)
    before = _occurrence_state(session, occurrence, names, priority, rows)
    for name, value in checked.items():
        _put(session, "occurrence", occurrence_id, name, value, actor=actor, now=now)
    _drop(session, "occurrence", occurrence_id, back)
    session.flush()
    rederive(session, priority, {occurrence.event_id}, {occurrence_id}, now)
    after_rows = _rows(session, "occurrence", occurrence_id)
    after = _occurrence_state(session, occurrence, names, priority, after_rows)
    return Change("occurrence.edit", "occurrence", occurrence_id, occurrence.event_id, before, after)


def _hidden_state(row: EventOverride | OccurrenceOverride | None) -> dict[str, Any]:
    if row is None:
        return {"hidden": False}
    return {
        "hidden": True,
        "reason": row.reason,
        "by": row.account_email,
        "at": _shown(row.set_at),
    }


def hide_event(
    session: Session, event_id: str, reason: str, *, actor: Actor, now: datetime, priority: Priority
) -> Change:
    """Hide an event from every public page, list, widget and feed, saying why.

    Its page and JSON answer 410 Gone, its occurrences leave every feed (their SEQUENCE moves). Hiding a
    hidden event again replaces the reason. Raises :class:`OverrideError` without a reason.
    """
    return _hide(session, "event", event_id, reason, actor=actor, now=now, priority=priority)


def unhide_event(
    session: Session, event_id: str, *, actor: Actor, now: datetime, priority: Priority
) -> Change:
    """Show a hidden event again (nothing happens to one that is not hidden)."""
    return _unhide(session, "event", event_id, now=now, priority=priority)


def hide_occurrence(
    session: Session, occurrence_id: str, reason: str, *, actor: Actor, now: datetime, priority: Priority
) -> Change:
    """Hide one occurrence from every public list and feed, saying why; the event stays."""
    return _hide(session, "occurrence", occurrence_id, reason, actor=actor, now=now, priority=priority)


def unhide_occurrence(
    session: Session, occurrence_id: str, *, actor: Actor, now: datetime, priority: Priority
) -> Change:
    """Show a hidden occurrence again (nothing happens to one that is not hidden)."""
    return _unhide(session, "occurrence", occurrence_id, now=now, priority=priority)


def _target(session: Session, level: Level, target_id: str) -> tuple[str, set[str]]:
    """The event id of a target and the occurrence ids to derive again."""
    if level == "event":
        _event(session, target_id)
        return target_id, set()
    return _occurrence(session, target_id).event_id, {target_id}


def _hide(
    session: Session,
    level: Level,
    target_id: str,
    reason: str,
    *,
    actor: Actor,
    now: datetime,
    priority: Priority,
) -> Change:
    event_id, occurrences = _target(session, level, target_id)
    why = check_reason(reason)
    before = _hidden_state(_rows(session, level, target_id).get(HIDDEN))
    _put(session, level, target_id, HIDDEN, True, actor=actor, now=now, reason=why)
    session.flush()
    rederive(session, priority, {event_id}, occurrences, now)
    after = _hidden_state(_rows(session, level, target_id).get(HIDDEN))
    return Change(f"{level}.hide", level, target_id, event_id, before, after)


def _unhide(session: Session, level: Level, target_id: str, *, now: datetime, priority: Priority) -> Change:
    event_id, occurrences = _target(session, level, target_id)
    before = _hidden_state(_rows(session, level, target_id).get(HIDDEN))
    _drop(session, level, target_id, [HIDDEN])
    session.flush()
    rederive(session, priority, {event_id}, occurrences, now)
    return Change(f"{level}.unhide", level, target_id, event_id, before, {"hidden": False})


def _highlight_state(event: Event) -> dict[str, Any]:
    last = highlight_last_day(event.highlight_until)
    return {"highlight": event.highlight, "until": None if last is None else last.isoformat()}


def set_highlight(
    session: Session,
    event_id: str,
    on: bool,
    until: date | str | None = None,
    *,
    actor: Actor,
    now: datetime,
    priority: Priority,
) -> Change:
    """Mark an event as a highlight (through the Berlin day ``until``, or with no end) or unmark it.

    A highlight whose last day is past is refused: it would show nowhere.
    """
    event = _event(session, event_id)
    end = highlight_end(until) if on else None
    if end is not None and end <= now:
        raise OverrideError("until", "that day is already over", "dieser Tag ist schon vorbei")
    before = _highlight_state(event)
    if on:
        _put(session, "event", event_id, HIGHLIGHT, end, actor=actor, now=now)
    else:
        _drop(session, "event", event_id, [HIGHLIGHT])
    session.flush()
    rederive(session, priority, {event_id}, set(), now)
    return Change("event.highlight", "event", event_id, event_id, before, _highlight_state(event))


def override_values(session: Session, level: Level, target_id: str) -> dict[str, Any]:
    """The overrides of one event or occurrence: field → value as derivation applies it."""
    return {name: from_json(name, row.value) for name, row in _rows(session, level, target_id).items()}
