"""Venue suggestions: places sources keep sending that the registry does not know, for an editor to settle.

Each unknown venue (a ``known=False`` row, kept when a source's place matched no registered venue) that
active records still name is a :class:`Suggestion`, with how many records and events name it, which
sources send it, the spellings they use, and the registered venues that come closest. An editor either
adds it as a new venue (:func:`add_as_venue`) or makes its spellings aliases of a registered venue
(:func:`alias_to_venue`); either way its stored records move at once and later runs match it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from aggregator.models import SourceRecord, Venue
from aggregator.normalise.venues import VenueRegistry, names_something
from aggregator.text import fold_key
from aggregator.venue_editing import (
    Actor,
    VenueChange,
    VenueError,
    VenueNotFound,
    create_venue,
    edit_venue,
    promote_venue,
)
from aggregator.venue_rematch import RematchContext

MAX_SPELLINGS = 20
"""Spellings a suggestion lists (and an accepted one turns into aliases), most frequent first."""


@dataclass(frozen=True, slots=True)
class Nearby:
    """A registered venue close to a suggestion's name, with the similarity (0–100)."""

    slug: str
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An unknown venue that active records name."""

    slug: str
    name: str
    street: str | None
    records: int
    events: int
    sources: tuple[str, ...]
    spellings: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    closest: tuple[Nearby, ...]

    def as_json(self) -> dict[str, Any]:
        """The suggestion as the admin API shows it."""
        return {
            "slug": self.slug,
            "name": self.name,
            "street": self.street,
            "records": self.records,
            "events": self.events,
            "sources": list(self.sources),
            "spellings": list(self.spellings),
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "closest": [{"slug": n.slug, "name": n.name, "score": n.score} for n in self.closest],
        }


def _text(column: str) -> Any:
    return SourceRecord.data[column].as_string()


def suggestions(
    session: Session, registry: VenueRegistry, *, min_records: int = 1, limit: int | None = None
) -> list[Suggestion]:
    """Unknown venues named by at least ``min_records`` active records, the most often named first.

    ``registry`` (the stored registry, :func:`~aggregator.venue_registry.load_registry`) gives each
    its closest registered venues.
    """
    slug = _text("venue_slug")
    base = (
        select(Venue.slug)
        .join(SourceRecord, slug == Venue.slug)
        .where(Venue.known.is_(False), SourceRecord.active.is_(True))
    )
    counts = session.execute(
        base.add_columns(
            func.count(SourceRecord.id),
            func.count(distinct(SourceRecord.event_id)),
            func.min(SourceRecord.first_seen),
            func.max(SourceRecord.last_seen),
        )
        .group_by(Venue.slug)
        .having(func.count(SourceRecord.id) >= min_records)
    ).all()
    if not counts:
        return []
    wanted = [row[0] for row in counts]
    sources: dict[str, list[str]] = defaultdict(list)
    for venue, source in session.execute(
        base.add_columns(SourceRecord.source).where(Venue.slug.in_(wanted)).distinct()
    ):
        sources[venue].append(source)
    spellings = _spellings(session, wanted)
    rows = {row.slug: row for row in session.scalars(select(Venue).where(Venue.slug.in_(wanted)))}
    found = []
    for venue, records, events, first_seen, last_seen in counts:
        row = rows[venue]
        found.append(
            Suggestion(
                slug=venue,
                name=row.name,
                street=row.street,
                records=records,
                events=events,
                sources=tuple(sorted(sources[venue])),
                spellings=tuple(spellings.get(venue, [row.name])),
                first_seen=first_seen,
                last_seen=last_seen,
                closest=tuple(Nearby(v.slug, v.name, score) for v, score in registry.closest(row.name)),
            )
        )
    found.sort(key=lambda s: (-s.records, -s.events, s.name.casefold(), s.slug))
    return found[:limit] if limit is not None else found


def _spellings(session: Session, slugs: list[str], *, names_only: bool = False) -> dict[str, list[str]]:
    """Per unknown venue, the venue names its records give (and, unless ``names_only``, the addresses
    of records without a name)."""
    slug, name, address = _text("venue_slug"), _text("venue_name"), _text("venue_address")
    counted = session.execute(
        select(slug, name, address, func.count())
        .where(slug.in_(slugs))
        .group_by(slug, name, address)
        .order_by(func.count().desc())
    ).all()
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for venue, venue_name, venue_address, _count in counted:
        text = venue_name if names_something(venue_name) or names_only else venue_address
        if text and names_something(text) and len(found[venue]) < MAX_SPELLINGS:
            found[venue].setdefault(fold_key(text), text)
    return {venue: list(texts.values()) for venue, texts in found.items()}


def spellings_of(session: Session, slug: str, *, names_only: bool = False) -> list[str]:
    """The spellings sources use for the unknown venue ``slug``, the most frequent first."""
    _unknown(session, slug)
    return _spellings(session, [slug], names_only=names_only).get(slug, [])


def _unknown(session: Session, slug: str) -> Venue:
    row = session.get(Venue, slug)
    if row is None:
        raise VenueNotFound(slug)
    if row.known:
        raise VenueError(
            "slug",
            f"{row.name} ist schon im Verzeichnis, kein Vorschlag.",
            f"{row.name} is registered already, not a suggestion.",
        )
    return row


def add_as_venue(
    session: Session,
    slug: str,
    values: Mapping[str, object],
    *,
    actor: Actor,
    now: datetime,
    context: RematchContext,
) -> VenueChange:
    """Register the unknown venue ``slug`` as a venue; the spellings sources use become its aliases.

    ``values`` holds any of the venue fields (:data:`aggregator.venue_editing.FIELDS`) and, to register
    it under another slug than the one it was kept under, ``slug``: then its records move to the new venue.
    """
    spellings = spellings_of(session, slug, names_only=True)
    new_slug = values.get("slug")
    if new_slug is None or new_slug == "" or new_slug == slug:
        fields = {name: value for name, value in values.items() if name != "slug"}
        return promote_venue(session, slug, fields, actor=actor, now=now, context=context, aliases=spellings)
    fields = dict(values)
    fields.setdefault("name", _unknown(session, slug).name)
    return create_venue(session, fields, actor=actor, now=now, context=context, aliases=spellings)


def alias_to_venue(
    session: Session, slug: str, target: str, *, actor: Actor, now: datetime, context: RematchContext
) -> VenueChange:
    """Make the names sources give the unknown venue ``slug`` aliases of the registered venue ``target``.

    The records that name it move to ``target`` at once, and the unknown venue is deleted once no record
    names it. (A record that gave only an address moves only if ``target``'s street matches it.)
    """
    _unknown(session, slug)
    spellings = spellings_of(session, slug, names_only=True)

    def change(row: Venue, registry: VenueRegistry) -> None:
        known = {fold_key(str(spelling)) for spelling in (row.name, *row.aliases)}
        added = [text for text in spellings if fold_key(text) not in known and registry.owner(text) is None]
        row.aliases = [*row.aliases, *added]

    return edit_venue(session, target, change, actor=actor, now=now, context=context, rematch=True)
