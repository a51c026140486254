"""Stored records follow the venue registry: after an editor's change they move to the venue it now names.

A source's record keeps the venue name and address the source wrote. When the registry changes (an
alias added, a suggestion accepted, an alias removed), :func:`rematch_records` reads every stored record's
place again with the new registry — exactly as the next run of its source would — moves the records
whose venue or room changed, and derives their events and occurrences again, so public pages and feeds
change at once. Records of the push API are left alone: their venue is the token's, not a matching result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.derive import Priority
from aggregator.models import Event, SourceRecord, Venue
from aggregator.normalise.venues import VenueMatch, VenueRegistry, names_something
from aggregator.runs import IngestContext
from aggregator.serialise import content_hash, listing_from_data
from aggregator.store import rederive
from aggregator.venue_registry import add_unknown_venue

PUSH_KIND = "push"


@dataclass(frozen=True, slots=True)
class Move:
    """One stored record placed anew."""

    record: int
    source: str
    record_id: str
    venue_from: str
    venue_to: str
    room_from: str | None
    room_to: str | None


@dataclass(slots=True)
class Rematch:
    """What :func:`rematch_records` changed."""

    moves: list[Move] = field(default_factory=list)
    events: set[str] = field(default_factory=set)
    added_unknown: list[str] = field(default_factory=list)
    """Places the registry no longer knows (an alias removed), now kept as unknown venues."""
    removed_unknown: list[str] = field(default_factory=list)
    """Unknown venues no record names any more, deleted."""

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account for the audit log and the console."""
        pairs = Counter(f"{move.venue_from} → {move.venue_to}" for move in self.moves)
        return {
            "records_moved": len(self.moves),
            "events_rederived": len(self.events),
            "moves": dict(sorted(pairs.items())),
            "unknown_venues_added": list(self.added_unknown),
            "unknown_venues_removed": list(self.removed_unknown),
        }


def _text(column: str) -> Any:
    """A text field inside a record's ``data`` (JSON on SQLite, JSONB on PostgreSQL)."""
    return SourceRecord.data[column].as_string()


def rematch_records(
    session: Session, before: VenueRegistry, after: VenueRegistry, *, priority: Priority, now: datetime
) -> Rematch:
    """Move the stored records whose place ``after`` reads differently from how they are stored.

    ``before`` is the registry the change started from: a room the old match supplied (the source
    named none) is recomputed, a room the source named is kept and only renamed to the new venue's
    spelling. Events and occurrences of moved records are derived again; unknown venues left without
    records and events are deleted.
    """
    result = Rematch()
    rows = session.execute(
        select(
            SourceRecord.id,
            SourceRecord.source,
            SourceRecord.record_id,
            _text("_kind"),
            _text("venue_name"),
            _text("venue_address"),
            _text("venue_slug"),
            _text("room"),
        )
    ).all()
    matches: dict[tuple[str | None, str | None], tuple[VenueMatch, VenueMatch] | None] = {}
    planned: dict[int, Move] = {}
    for record, source, record_id, kind, name, address, slug, room in rows:
        if kind == PUSH_KIND or source.startswith(f"{PUSH_KIND}:") or not slug:
            continue
        key = (name if names_something(name) else None, address if names_something(address) else None)
        if key not in matches:
            matches[key] = _both(before, after, *key)
        pair = matches[key]
        if pair is None:
            continue
        old, new = pair
        own_room = None if room == old.room else room
        new_room = after.room_name(new.venue.slug, own_room) if own_room else new.room
        if (new.venue.slug, new_room) != (slug, room):
            planned[record] = Move(record, source, record_id, slug, new.venue.slug, room, new_room)
            if not new.known:
                _keep_unknown(session, new, address, result, now)
    if not planned:
        return result
    touched_occurrences: set[str] = set()
    for row in session.scalars(select(SourceRecord).where(SourceRecord.id.in_(list(planned)))):
        move = planned[row.id]
        data = {**row.data, "venue_slug": move.venue_to, "room": move.room_to}
        row.data = data
        row.content_hash = content_hash(listing_from_data(data))
        result.events.add(row.event_id)
        touched_occurrences.add(row.occurrence_id)
        result.moves.append(move)
    session.flush()
    rederive(session, priority, set(result.events), touched_occurrences, now)
    session.flush()
    result.removed_unknown = remove_unused_unknown(session, {move.venue_from for move in result.moves})
    result.moves.sort(key=lambda move: move.record)
    return result


def _both(
    before: VenueRegistry, after: VenueRegistry, name: str | None, address: str | None
) -> tuple[VenueMatch, VenueMatch] | None:
    """How the old and the new registry read a place; ``None`` when it names nothing."""
    if not (name or address):
        return None
    try:
        return before.resolve(name, address), after.resolve(name, address)
    except ValueError:
        return None


def _keep_unknown(
    session: Session, match: VenueMatch, address: str | None, result: Rematch, now: datetime
) -> None:
    """Store the unknown venue ``match`` names, unless it is stored already."""
    slug = match.venue.slug
    if slug in result.added_unknown or session.get(Venue, slug) is not None:
        return
    add_unknown_venue(session, slug, match.venue.name, address=address, geo=None, now=now)
    session.flush()
    result.added_unknown.append(slug)


def remove_unused_unknown(session: Session, slugs: set[str]) -> list[str]:
    """Delete those of ``slugs`` that are unknown venues no event and no record names; returns them."""
    removed: list[str] = []
    for slug in sorted(slugs):
        row = session.get(Venue, slug)
        if row is None or row.known:
            continue
        events = session.scalar(select(func.count()).select_from(Event).where(Event.venue_slug == slug))
        records = session.scalar(
            select(func.count()).select_from(SourceRecord).where(_text("venue_slug") == slug)
        )
        if not events and not records:
            session.delete(row)
            removed.append(slug)
    session.flush()
    return removed


@dataclass(frozen=True, slots=True)
class RematchContext:
    """What moving stored records needs: the source priority (to derive events again) and the seed
    (whose order the stored registry keeps, as every run's does)."""

    priority: Priority
    seed: VenueRegistry | None = None

    @classmethod
    def of(cls, ctx: IngestContext) -> RematchContext:
        """The context of the running installation."""
        return cls(ctx.priority, ctx.venues)
