"""Editing the venue registry: a venue's fields, its aliases and rooms, and new venues — validated.

Every function takes the editor (an actor with ``account_id`` and ``label``, the e-mail) and ``now``,
works in the caller's session (so the caller's audit entry lands in the same transaction), marks the
venue as edited — the seed never overwrites it again — and returns a :class:`VenueChange`: the venue
before and after as JSON-ready dicts, and what moved. A change to what matching reads (names, aliases,
room spellings, the street) moves stored records at once (:mod:`aggregator.venue_rematch`); the next
run of every source matches against the same stored registry.

Bad input raises :class:`VenueError` naming the field, in German and English; nothing is changed.
A venue's slug never changes: listings, feeds and accounts refer to it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from aggregator.ingest import wait_for_ingest
from aggregator.models import Venue
from aggregator.normalise.venues import SLUG_LENGTH, VenueInfo, VenueRegistry, names_something
from aggregator.text import clean_text, fold_key
from aggregator.urls import web_url
from aggregator.venue_registry import info_snapshot, load_registry, venue_info
from aggregator.venue_rematch import Rematch, RematchContext, rematch_records

DISTRICTS = (
    "Aplerbeck",
    "Brackel",
    "Eving",
    "Hombruch",
    "Hörde",
    "Huckarde",
    "Innenstadt-Nord",
    "Innenstadt-Ost",
    "Innenstadt-West",
    "Lütgendortmund",
    "Mengede",
    "Scharnhorst",
)
"""Dortmund's twelve Stadtbezirke: a venue's district is one of them, or none (outside the city)."""

FIELDS = (
    "name",
    "street",
    "postcode",
    "city",
    "lat",
    "lon",
    "geo_approximate",
    "district",
    "url",
    "accessibility",
)
"""What :func:`update_venue` changes; aliases and rooms have their own functions."""

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_POSTCODE = re.compile(r"^\d{5}$")
_MAX_ACCESSIBILITY = 4000
_MAX_ALIASES = 100
_MAX_ROOMS = 100
_TRUE = {"1", "true", "on", "yes", "ja"}
_FALSE = {"0", "false", "off", "no", "nein", ""}
_LABELS = {
    "slug": ("Kurzname (Slug)", "slug"),
    "name": ("Name", "name"),
    "alias": ("Alias", "alias"),
    "street": ("Straße und Hausnummer", "street and number"),
    "postcode": ("Postleitzahl", "postcode"),
    "city": ("Ort", "city"),
    "lat": ("Breitengrad", "latitude"),
    "lon": ("Längengrad", "longitude"),
    "geo_approximate": ("Position ungefähr", "approximate position"),
    "district": ("Stadtbezirk", "district"),
    "url": ("Website", "website"),
    "accessibility": ("Barrierefreiheit", "accessibility"),
    "room": ("Raum", "room"),
    "room_aliases": ("Raum-Aliasse", "room aliases"),
    "standalone": ("eigenständige Schreibweisen", "standalone spellings"),
}
_LIMITS = {"name": 300, "alias": 300, "street": 300, "city": 120, "room": 200, "standalone": 300}


class Actor(Protocol):
    """Who edits: a console account (``account_id``) and the label the log shows (its e-mail)."""

    @property
    def account_id(self) -> int | None: ...

    @property
    def label(self) -> str: ...


class VenueError(Exception):
    """Input an edit cannot take: ``field`` names it, ``de`` and ``en`` say why (for people)."""

    def __init__(self, field: str, de: str, en: str) -> None:
        self.field = field
        self.de = de
        self.en = en
        super().__init__(f"{field}: {en}")

    def message(self, language: str) -> str:
        """The explanation in ``language`` (``de`` or ``en``)."""
        return self.de if language == "de" else self.en


class VenueNotFound(VenueError):
    """No registered venue has the slug."""

    def __init__(self, slug: str) -> None:
        super().__init__(
            "slug", f"Es gibt keinen Veranstaltungsort {slug!r}.", f"There is no venue {slug!r}."
        )
        self.slug = slug


@dataclass(frozen=True, slots=True)
class VenueChange:
    """A venue before and after an edit (``None`` before a creation) and the stored records that moved."""

    slug: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    rematch: Rematch = field(default_factory=Rematch)


def audit_view(row: Venue) -> dict[str, Any]:
    """What the audit log keeps of a venue: its editable fields and whether it is registered."""
    return {**info_snapshot(venue_info(row)), "known": row.known}


# -- the edits -------------------------------------------------------------------------------


def update_venue(
    session: Session,
    slug: str,
    values: Mapping[str, object],
    *,
    actor: Actor,
    now: datetime,
    context: RematchContext,
) -> VenueChange:
    """Change the fields in ``values`` (names from :data:`FIELDS`; empty text clears a field).

    A new name must not name another venue; the old name stays as an alias, so that sources that
    still write it keep matching (an editor may remove it).
    """
    parsed = parse_fields(values)

    def change(row: Venue, registry: VenueRegistry) -> None:
        if "name" in parsed:
            _rename(row, parsed.pop("name"), registry)
        for name, value in parsed.items():
            setattr(row, name, value)
        if row.lat is None and row.lon is None:
            row.geo_approximate = True
        _check_geo(row.lat, row.lon)

    return edit_venue(session, slug, change, actor=actor, now=now, context=context)


def add_alias(
    session: Session, slug: str, alias: object, *, actor: Actor, now: datetime, context: RematchContext
) -> VenueChange:
    """Give the venue another spelling; stored records that name it move to the venue at once."""

    def change(row: Venue, registry: VenueRegistry) -> None:
        spelling = _spelling(alias, "alias")
        owner = registry.owner(spelling)
        if owner == (row.slug, None):
            raise VenueError(
                "alias",
                f"„{spelling}“ ist schon Name oder Alias dieses Ortes.",
                f"{spelling!r} is already this venue's name or an alias.",
            )
        _claim(registry, spelling, row.slug, None, "alias")
        if len(row.aliases) >= _MAX_ALIASES:
            raise VenueError(
                "alias",
                f"Höchstens {_MAX_ALIASES} Aliasse je Ort.",
                f"At most {_MAX_ALIASES} aliases a venue.",
            )
        row.aliases = [*row.aliases, spelling]

    return edit_venue(session, slug, change, actor=actor, now=now, context=context)


def remove_alias(
    session: Session, slug: str, alias: object, *, actor: Actor, now: datetime, context: RematchContext
) -> VenueChange:
    """Take a spelling away; stored records that only it matched become an unknown venue again."""

    def change(row: Venue, registry: VenueRegistry) -> None:
        key = fold_key(str(alias or ""))
        kept = [spelling for spelling in row.aliases if fold_key(str(spelling)) != key]
        if len(kept) == len(row.aliases):
            raise VenueError(
                "alias", f"{row.name} hat keinen Alias „{alias}“.", f"{row.name} has no alias {alias!r}."
            )
        row.aliases = kept

    return edit_venue(session, slug, change, actor=actor, now=now, context=context)


def save_room(
    session: Session,
    slug: str,
    name: object,
    *,
    aliases: Iterable[object] = (),
    standalone: Iterable[object] = (),
    actor: Actor,
    now: datetime,
    context: RematchContext,
) -> VenueChange:
    """Add a room, or give the room of that name new spellings.

    ``aliases`` count together with the venue's name (``Konzerthaus … Saal``); ``standalone`` spellings
    name venue and room on their own (``Opernfoyer``) and must not name another venue.
    """

    def change(row: Venue, registry: VenueRegistry) -> None:
        room = _spelling(name, "room")
        room_aliases = _spellings(aliases, "room_aliases", limit=_LIMITS["alias"])
        alone = _spellings(standalone, "standalone", limit=_LIMITS["standalone"])
        for spelling in alone:
            _claim(registry, spelling, row.slug, _same_room(row, room) or room, "standalone")
        existing = _same_room(row, room)
        rooms = [str(r) for r in row.rooms]
        spellings = {str(k): v for k, v in (row.room_aliases or {}).items()}
        if existing is None:
            if len(rooms) >= _MAX_ROOMS:
                raise VenueError(
                    "room", f"Höchstens {_MAX_ROOMS} Räume je Ort.", f"At most {_MAX_ROOMS} rooms a venue."
                )
            rooms.append(room)
        else:
            rooms[rooms.index(existing)] = room
            spellings.pop(existing, None)
        spellings[room] = {"aliases": room_aliases, "standalone": alone}
        row.rooms, row.room_aliases = rooms, spellings

    return edit_venue(session, slug, change, actor=actor, now=now, context=context)


def remove_room(
    session: Session, slug: str, name: object, *, actor: Actor, now: datetime, context: RematchContext
) -> VenueChange:
    """Take a room away; what sources call it stays on their occurrences as they wrote it."""

    def change(row: Venue, registry: VenueRegistry) -> None:
        existing = _same_room(row, str(name or ""))
        if existing is None:
            raise VenueError(
                "room", f"{row.name} hat keinen Raum „{name}“.", f"{row.name} has no room {name!r}."
            )
        row.rooms = [str(r) for r in row.rooms if r != existing]
        row.room_aliases = {str(k): v for k, v in (row.room_aliases or {}).items() if k != existing}

    return edit_venue(session, slug, change, actor=actor, now=now, context=context)


def create_venue(
    session: Session,
    values: Mapping[str, object],
    *,
    actor: Actor,
    now: datetime,
    context: RematchContext,
    aliases: Iterable[object] = (),
) -> VenueChange:
    """Register a new venue: ``values`` holds ``slug`` and ``name`` and any of :data:`FIELDS`.

    Stored records that name it (an unknown venue sources sent under that name) move to it at once.
    The slug of an unknown venue is taken: accept that suggestion instead
    (:mod:`aggregator.venue_suggestions`).
    """
    wait_for_ingest(session)
    slug = parse_slug(values.get("slug"))
    existing = session.get(Venue, slug)
    if existing is not None:
        if existing.known:
            raise VenueError(
                "slug",
                f"Den Kurznamen {slug!r} hat schon {existing.name}.",
                f"{existing.name} has slug {slug!r}.",
            )
        raise VenueError(
            "slug",
            f"{slug!r} ist ein unbekannter Ort, den Quellen senden: bitte den Vorschlag annehmen.",
            f"{slug!r} is an unknown venue sources send: accept that suggestion instead.",
        )
    parsed = parse_fields({name: value for name, value in values.items() if name != "slug"})
    if not parsed.get("name"):
        raise VenueError("name", "Ein Ort braucht einen Namen.", "A venue needs a name.")
    registry = load_registry(session, context.seed)
    row = Venue(slug=slug, aliases=[], rooms=[], room_aliases={}, known=True, created_at=now)
    _claim(registry, parsed["name"], slug, None, "name")
    row.name = parsed.pop("name")
    for name, value in parsed.items():
        setattr(row, name, value)
    _check_geo(row.lat, row.lon)
    if row.geo_approximate is None:
        row.geo_approximate = True
    for alias in _spellings(aliases, "alias", limit=_LIMITS["alias"]):
        _claim(registry, alias, slug, None, "alias")
        if fold_key(alias) != fold_key(row.name):
            row.aliases = [*row.aliases, alias]
    _mark(row, actor, now)
    session.add(row)
    session.flush()
    rematch = rematch_records(
        session, registry, load_registry(session, context.seed), priority=context.priority, now=now
    )
    return VenueChange(slug, None, audit_view(row), rematch)


def promote_venue(
    session: Session,
    slug: str,
    values: Mapping[str, object],
    *,
    actor: Actor,
    now: datetime,
    context: RematchContext,
    aliases: Iterable[object] = (),
) -> VenueChange:
    """Register the unknown venue ``slug`` under its own slug, with ``values`` (any of :data:`FIELDS`)
    and ``aliases`` (the other spellings sources used for it)."""
    parsed = parse_fields(values)
    spellings = _spellings(aliases, "alias", limit=_LIMITS["alias"])

    def change(row: Venue, registry: VenueRegistry) -> None:
        row.name = parsed.pop("name", None) or row.name
        _claim(registry, row.name, row.slug, None, "name")
        for name, value in parsed.items():
            setattr(row, name, value)
        _check_geo(row.lat, row.lon)
        for alias in spellings:
            known = {fold_key(str(s)) for s in (row.name, *row.aliases)}
            if fold_key(alias) not in known and registry.owner(alias) is None:
                row.aliases = [*row.aliases, alias]
        row.known = True

    return edit_venue(session, slug, change, actor=actor, now=now, context=context, unknown=True)


# -- the common path of an edit --------------------------------------------------------------


def edit_venue(
    session: Session,
    slug: str,
    change: Callable[[Venue, VenueRegistry], None],
    *,
    actor: Actor,
    now: datetime,
    context: RematchContext,
    unknown: bool = False,
    rematch: bool = False,
) -> VenueChange:
    """The common path of every edit: apply ``change`` (which gets the venue and the registry as it was,
    and raises :class:`VenueError` on bad input) to the registered venue ``slug`` (the unknown one with
    ``unknown``), mark it edited, and move stored records if matching reads the venue anew (always with
    ``rematch``)."""
    wait_for_ingest(session)
    row = session.get(Venue, slug)
    if row is None:
        raise VenueNotFound(slug)
    if row.known and unknown:
        raise VenueError(
            "slug", f"{row.name} ist schon im Verzeichnis.", f"{row.name} is registered already."
        )
    if not row.known and not unknown:
        raise VenueError(
            "slug",
            f"{slug!r} ist noch nicht im Verzeichnis: erst als Ort aufnehmen oder einem Ort zuordnen.",
            f"{slug!r} is not registered yet: add it as a venue or make it an alias first.",
        )
    before_registry = load_registry(session, context.seed)
    before, matched_before = audit_view(row), _matching(venue_info(row), row.known)
    change(row, before_registry)
    _mark(row, actor, now)
    session.flush()
    moved = Rematch()
    if rematch or _matching(venue_info(row), row.known) != matched_before:
        after_registry = load_registry(session, context.seed)
        moved = rematch_records(session, before_registry, after_registry, priority=context.priority, now=now)
    return VenueChange(row.slug, before, audit_view(row), moved)


def _mark(row: Venue, actor: Actor, now: datetime) -> None:
    """The venue is the editor's now: the seed leaves it alone."""
    row.edited_at, row.edited_by, row.updated_at = now, actor.label[:320], now


def _matching(info: VenueInfo, known: bool) -> tuple[object, ...]:
    """What venue matching reads of a venue: if this differs after an edit, stored records are read anew."""
    rooms = tuple((room.name, room.aliases, room.standalone) for room in info.room_details)
    return (known, fold_key(info.name), tuple(fold_key(a) for a in info.aliases), rooms, info.street)


def _rename(row: Venue, name: str, registry: VenueRegistry) -> None:
    """Set the name; the old name becomes an alias, and an alias that is now the name is dropped."""
    if name == row.name:
        return
    _claim(registry, name, row.slug, None, "name")
    new_key, old = fold_key(name), row.name
    aliases = [str(a) for a in row.aliases if fold_key(str(a)) != new_key]
    if fold_key(old) != new_key and fold_key(old) not in {fold_key(a) for a in aliases}:
        aliases.append(old)
    row.name, row.aliases = name, aliases


def _same_room(row: Venue, name: str) -> str | None:
    """The venue's room whose name matches ``name`` by match key."""
    key = fold_key(name)
    return next((str(room) for room in row.rooms if fold_key(str(room)) == key), None)


def _claim(registry: VenueRegistry, spelling: str, slug: str, room: str | None, field_name: str) -> None:
    """Refuse a spelling that already names another venue (or, at this venue, another room)."""
    owner = registry.owner(spelling)
    if owner is None or owner == (slug, room):
        return
    where = owner[0] if owner[1] is None else f"{owner[0]} ({owner[1]})"
    raise VenueError(
        field_name,
        f"„{spelling}“ bezeichnet schon {where}.",
        f"{spelling!r} already names {where}.",
    )


# -- reading input ---------------------------------------------------------------------------


def parse_slug(value: object) -> str:
    """A new venue's slug: lower-case Latin letters and digits in words joined by single hyphens."""
    text = _text(value, "slug", SLUG_LENGTH)
    if text is None:
        raise VenueError("slug", "Ein Ort braucht einen Kurznamen (Slug).", "A venue needs a slug.")
    if not SLUG.match(text):
        raise VenueError(
            "slug",
            f"{text!r} ist kein Kurzname: nur a–z, 0–9 und einzelne Bindestriche dazwischen "
            "(z. B. „haus-am-see“).",
            f"{text!r} is no slug: only a-z, 0-9 and single hyphens between them (e.g. 'haus-am-see').",
        )
    return text


def parse_fields(values: Mapping[str, object]) -> dict[str, Any]:
    """Check and clean the fields in ``values`` (names from :data:`FIELDS`); empty text means none."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise VenueError(
            unknown[0],
            f"Unbekanntes Feld {unknown[0]!r}; möglich sind {', '.join(FIELDS)}.",
            f"Unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}.",
        )
    parsed: dict[str, Any] = {}
    for name, value in values.items():
        parsed[name] = _PARSERS[name](value)
    if "name" in parsed and parsed["name"] is None:
        raise VenueError("name", "Ein Ort braucht einen Namen.", "A venue needs a name.")
    return parsed


def _text(value: object, field_name: str, limit: int, *, lines: bool = False) -> str | None:
    """One line of text (or several with ``lines``) at most ``limit`` characters; empty is ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        de, en = _LABELS[field_name]
        raise VenueError(field_name, f"{de}: Text erwartet.", f"{en}: text expected.")
    text = clean_text(value, lines=lines).strip()
    if len(text) > limit:
        de, en = _LABELS[field_name]
        raise VenueError(
            field_name,
            f"{de}: höchstens {limit} Zeichen, nicht {len(text)}.",
            f"{en}: at most {limit} characters, not {len(text)}.",
        )
    return text or None


def _spelling(value: object, field_name: str) -> str:
    """A name, alias or room spelling: required, with a letter or digit."""
    text = _text(value, field_name, _LIMITS[field_name])
    de, en = _LABELS[field_name]
    if text is None:
        raise VenueError(field_name, f"{de}: bitte ausfüllen.", f"{en}: required.")
    if not names_something(text) or not fold_key(text):
        raise VenueError(
            field_name,
            f"{de}: „{text}“ hat keinen Buchstaben und keine Ziffer.",
            f"{en}: {text!r} has no letter or digit.",
        )
    return text


def _spellings(values: Iterable[object], field_name: str, *, limit: int) -> list[str]:
    """Several spellings (a list, or one per line); duplicates by match key are dropped."""
    items: list[object] = []
    for value in [values] if isinstance(values, str) else values:
        items.extend(value.splitlines() if isinstance(value, str) else [value])
    kept: dict[str, str] = {}
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        text = _text(item, field_name, limit)
        if text is None:
            continue
        if not names_something(text):
            de, en = _LABELS[field_name]
            raise VenueError(
                field_name,
                f"{de}: „{text}“ hat keinen Buchstaben.",
                f"{en}: {text!r} has no letter or digit.",
            )
        kept.setdefault(fold_key(text), text)
    if len(kept) > _MAX_ALIASES:
        de, en = _LABELS[field_name]
        raise VenueError(field_name, f"{de}: höchstens {_MAX_ALIASES}.", f"{en}: at most {_MAX_ALIASES}.")
    return list(kept.values())


def _name(value: object) -> str | None:
    return None if value is None or value == "" else _spelling(value, "name")


def _street(value: object) -> str | None:
    return _text(value, "street", _LIMITS["street"])


def _city(value: object) -> str | None:
    return _text(value, "city", _LIMITS["city"])


def _postcode(value: object) -> str | None:
    text = _text(
        str(value) if isinstance(value, int) and not isinstance(value, bool) else value, "postcode", 20
    )
    if text is not None and not _POSTCODE.match(text):
        raise VenueError(
            "postcode",
            f"Postleitzahl: fünf Ziffern (z. B. 44135), nicht „{text}“.",
            f"postcode: five digits (e.g. 44135), not {text!r}.",
        )
    return text


def _degrees(value: object, field_name: str, bound: float) -> float | None:
    """A coordinate in degrees within ±``bound``; a German decimal comma is read as a point."""
    de, en = _LABELS[field_name]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise VenueError(field_name, f"{de}: eine Zahl erwartet.", f"{en}: a number expected.")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            raise VenueError(
                field_name, f"{de}: „{value}“ ist keine Zahl.", f"{en}: {value!r} is not a number."
            ) from None
    else:
        raise VenueError(field_name, f"{de}: eine Zahl erwartet.", f"{en}: a number expected.")
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise VenueError(
            field_name,
            f"{de}: zwischen −{bound:g} und {bound:g} Grad, nicht {value}.",
            f"{en}: between -{bound:g} and {bound:g} degrees, not {value}.",
        )
    return number


def _lat(value: object) -> float | None:
    return _degrees(value, "lat", 90.0)


def _lon(value: object) -> float | None:
    return _degrees(value, "lon", 180.0)


def _check_geo(lat: float | None, lon: float | None) -> None:
    """A position has both coordinates or none."""
    if (lat is None) != (lon is None):
        missing = "lat" if lat is None else "lon"
        raise VenueError(
            missing,
            "Breiten- und Längengrad nur zusammen angeben (oder beide leer lassen).",
            "Give latitude and longitude together (or leave both empty).",
        )


def _flag(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return value is not False
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise VenueError(
        "geo_approximate", "Position ungefähr: ja oder nein.", "approximate position: true or false."
    )


def _district(value: object) -> str | None:
    text = _text(value, "district", 120)
    if text is None:
        return None
    found = next((name for name in DISTRICTS if fold_key(name) == fold_key(text)), None)
    if found is None:
        raise VenueError(
            "district",
            f"„{text}“ ist kein Dortmunder Stadtbezirk; möglich: {', '.join(DISTRICTS)} (oder leer).",
            f"{text!r} is not a district of Dortmund; the districts: {', '.join(DISTRICTS)} (or none).",
        )
    return found


def _url(value: object) -> str | None:
    text = _text(value, "url", 1000)
    if text is not None and web_url(text) is None:
        raise VenueError(
            "url",
            f"Website: eine vollständige Adresse mit http:// oder https://, nicht „{text}“.",
            f"website: a full address with http:// or https://, not {text!r}.",
        )
    return text


def _accessibility(value: object) -> str | None:
    return _text(value, "accessibility", _MAX_ACCESSIBILITY, lines=True)


_PARSERS: dict[str, Callable[[object], Any]] = {
    "name": _name,
    "street": _street,
    "postcode": _postcode,
    "city": _city,
    "lat": _lat,
    "lon": _lon,
    "geo_approximate": _flag,
    "district": _district,
    "url": _url,
    "accessibility": _accessibility,
}
