"""The registry of Dortmund venues and the resolution of sources' venue strings.

Data: the ``venues`` table, seeded from ``aggregator/data/venues.toml`` (:mod:`aggregator.venue_registry`);
runs get the registry as data. :meth:`VenueRegistry.resolve` tries, in order:

1. **alias** – the whole name equals a venue's name or alias, or a room's standalone
   spelling (``Westfalenhalle 1``, ``Opernfoyer``), compared by match key.
2. **contains** – a known alias stands inside the name as whole words; the rest of the name,
   split at brackets, commas and spaced dashes, gives the room: a known room alias of that
   venue, else the bracketed/separated text as written (``Thier-Galerie (3. Etage)`` → room
   ``3. Etage``). Parts that are addresses (``Speicherstraße 17``) or filler (``Dortmund``)
   are dropped. The longest alias wins.
3. **fuzzy** – rapidfuzz ratio of the match keys ≥ ``fuzzy_cutoff`` (92) against all names
   and aliases; only for keys of six characters or more (typos, not guesses).
4. **address** – the address names a registered venue's street and house number.
5. **unknown** – a new :class:`VenueInfo` with a slug made from the name (``known=False``);
   kept and reported, never dropped. A name without Latin letters or digits gets a slug from a digest.

A name or address without any letter or digit (``-``, ``,``) names nothing and is ignored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from aggregator.normalise.data_files import DataFileError, read_data_file
from aggregator.normalise.venue_matching import (
    address_key,
    find_tokens,
    is_filler,
    looks_like_address,
    segments,
    slug_words,
    slugify,
    split_address,
    without_filler,
)
from aggregator.text import clean_text, fold_key

FUZZY_CUTOFF = 92.0
SLUG_LENGTH = 100  # venue slugs are stored in 120 characters
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class VenueDataError(DataFileError):
    """The venue data file is malformed; names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; parts the data does not know are ``None``."""

    street: str | None = None
    postcode: str | None = None
    city: str | None = None


@dataclass(frozen=True, slots=True)
class Geo:
    """A position in WGS84 degrees; ``approximate`` when set by hand."""

    lat: float
    lon: float
    approximate: bool = True


@dataclass(frozen=True, slots=True)
class Room:
    """A hall or stage inside a venue."""

    name: str
    aliases: tuple[str, ...] = ()
    standalone: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VenueInfo:
    """One venue as the registry knows it (or as an unknown venue string was read).

    ``room_details`` carries each room's aliases; ``rooms`` and the flat address and position
    properties are what storage and the API read.
    """

    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    address: Address | None = None
    geo: Geo | None = None
    district: str | None = None
    room_details: tuple[Room, ...] = ()
    url: str | None = None
    accessibility: str | None = None

    @property
    def rooms(self) -> tuple[str, ...]:
        """The names of the venue's rooms."""
        return tuple(room.name for room in self.room_details)

    @property
    def street(self) -> str | None:
        """Street and house number, if known."""
        return self.address.street if self.address else None

    @property
    def postcode(self) -> str | None:
        """Postcode, if known."""
        return self.address.postcode if self.address else None

    @property
    def city(self) -> str | None:
        """City, if known."""
        return self.address.city if self.address else None

    @property
    def lat(self) -> float | None:
        """Latitude (approximate, see :class:`Geo`), if known."""
        return self.geo.lat if self.geo else None

    @property
    def lon(self) -> float | None:
        """Longitude (approximate, see :class:`Geo`), if known."""
        return self.geo.lon if self.geo else None


@dataclass(frozen=True, slots=True)
class VenueMatch:
    """The result of resolving a venue string: the venue, the room, and how it was found."""

    venue: VenueInfo
    room: str | None
    known: bool
    how: str


class VenueRegistry:
    """All registered venues with indexes for resolving what sources write."""

    def __init__(
        self, venues: Iterable[VenueInfo], *, fuzzy_cutoff: float = FUZZY_CUTOFF, strict: bool = True
    ) -> None:
        """Index ``venues``. Two venues claiming one spelling raise :class:`ValueError`; unless ``strict``
        is off, then the first venue keeps the spelling and :attr:`conflicts` says what was left out."""
        self._venues: dict[str, VenueInfo] = {}
        self._exact: dict[str, tuple[str, str | None]] = {}
        self._memo: dict[tuple[str | None, str | None], VenueMatch] = {}
        self.fuzzy_cutoff = fuzzy_cutoff
        self.strict = strict
        self.conflicts: list[str] = []
        for venue in venues:
            if venue.slug in self._venues:
                raise ValueError(f"duplicate venue slug {venue.slug!r}")
            self._venues[venue.slug] = venue
            for spelling in (venue.name, *venue.aliases):
                self._index(spelling, venue.slug, None)
            for room in venue.room_details:
                for spelling in room.standalone:
                    self._index(spelling, venue.slug, room.name)
        self._contained = sorted(
            ((tuple(key.split()), target) for key, target in self._exact.items()),
            key=lambda entry: len(" ".join(entry[0])),
            reverse=True,
        )
        self._streets = [
            (address_key(venue.address.street), venue.slug)
            for venue in self._venues.values()
            if venue.address and venue.address.street and _specific(venue.address.street)
        ]

    def _index(self, spelling: str, slug: str, room: str | None) -> None:
        """Add one spelling; two venues claiming the same spelling is a data error."""
        key = fold_key(spelling)
        existing = self._exact.get(key)
        if existing is not None and existing != (slug, room):
            message = f"{spelling!r} names both {existing[0]!r} and {slug!r}"
            if self.strict:
                raise ValueError(message)
            self.conflicts.append(f"{message}; kept for {existing[0]!r}")
            return
        self._exact[key] = (slug, room)

    def get(self, slug: str) -> VenueInfo | None:
        """The registered venue ``slug``, or ``None`` if no venue has that slug."""
        return self._venues.get(slug)

    def all(self) -> list[VenueInfo]:
        """Every registered venue in data order."""
        return list(self._venues.values())

    def owner(self, spelling: str) -> tuple[str, str | None] | None:
        """The venue slug (and room) whose name, alias or standalone room spelling ``spelling`` is."""
        return self._exact.get(fold_key(spelling))

    def closest(self, name: str, *, limit: int = 3, cutoff: float = 70.0) -> list[tuple[VenueInfo, float]]:
        """The registered venues whose spellings come nearest to ``name``, best first, with the score
        (rapidfuzz WRatio of the match keys without filler words, 0–100): a hint for an editor deciding
        what an unknown venue name means, not a match."""
        key = without_filler(fold_key(clean_text(name)))
        if not key:
            return []
        spellings = list(self._exact)
        best: dict[str, float] = {}
        for _core, score, index in process.extract(
            key, [without_filler(s) for s in spellings], scorer=fuzz.WRatio, score_cutoff=cutoff, limit=None
        ):
            slug = self._exact[spellings[index]][0]
            best[slug] = max(best.get(slug, 0.0), float(score))
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [(self._venues[slug], round(score, 1)) for slug, score in ranked]

    def room_name(self, slug: str, room: str) -> str:
        """The registered name of ``room`` at ``slug`` (``Westfalenhalle 1`` → ``Halle 1``), else ``room``."""
        venue = self._venues.get(slug)
        found = _known_room(venue, fold_key(room).split()) if venue else None
        return found or room

    def resolve(self, name: str | None, address: str | None = None) -> VenueMatch:
        """Find the venue (and room) a source's venue string and address mean; see the module doc."""
        found = self._memo.get((name, address))
        if found is None:  # a source repeats its few venue strings thousands of times
            found = self._resolve(name, address)
            if len(self._memo) < 100_000:
                self._memo[(name, address)] = found
        return found

    def _resolve(self, name: str | None, address: str | None) -> VenueMatch:
        text = clean_text(name) if name is not None and names_something(name) else ""
        address = address if names_something(address) else None
        if not (text or address):
            raise ValueError(
                f"a venue needs a name or an address; {name!r} and {address!r} have no letter or digit"
            )
        key = fold_key(text)
        if key in self._exact:
            slug, room = self._exact[key]
            return VenueMatch(self._venues[slug], room, True, "alias" if room is None else "room")
        found = self._by_containment(text, key) if key else None
        if found is None and len(key) >= 6:
            found = self._by_fuzzy(key)
        if found is None and address:
            found = self._by_address(address)
        if found is not None:
            return found
        return self._unknown(text, address)

    def _by_containment(self, text: str, key: str) -> VenueMatch | None:
        """Step 2: a known spelling inside the name, the rest read as the room."""
        tokens = key.split()
        for alias, (slug, room) in self._contained:
            if find_tokens(tokens, alias) >= 0:
                venue = self._venues[slug]
                return VenueMatch(venue, room or self._room_in(venue, text), True, "contains")
        return None

    def _room_in(self, venue: VenueInfo, text: str) -> str | None:
        """The room named in the parts of ``text`` that are not the venue, its address or filler."""
        own = [tuple(fold_key(spelling).split()) for spelling in (venue.name, *venue.aliases)]
        own.sort(key=len, reverse=True)
        streets = [address_key(venue.address.street)] if venue.address and venue.address.street else []
        parts = segments(text)
        for part in parts:
            tokens = fold_key(part).split()
            is_venue_part = False
            for alias in own:
                at = find_tokens(tokens, alias)
                if at >= 0:
                    tokens, is_venue_part = tokens[:at] + tokens[at + len(alias) :], True
                    break
            if not tokens or is_filler(tokens) or looks_like_address(tokens, streets):
                continue
            room = _known_room(venue, tokens)
            if room is not None:
                return room
            if not is_venue_part and len(parts) > 1:
                return part
        return None

    def _by_fuzzy(self, key: str) -> VenueMatch | None:
        """Step 3: a near-identical spelling (typos)."""
        best = process.extractOne(key, list(self._exact), scorer=fuzz.ratio, score_cutoff=self.fuzzy_cutoff)
        if best is None:
            return None
        slug, room = self._exact[best[0]]
        return VenueMatch(self._venues[slug], room, True, "fuzzy")

    def _by_address(self, address: str) -> VenueMatch | None:
        """Step 4: the street and number of a registered venue."""
        tokens = address_key(address)
        for street, slug in self._streets:
            if find_tokens(tokens, street) >= 0:
                return VenueMatch(self._venues[slug], None, True, "address")
        return None

    def _unknown(self, text: str, address: str | None) -> VenueMatch:
        """Step 5: a venue the registry does not know, kept under a slug of its name."""
        label = text or clean_text(address or "")
        street, postcode, city = split_address(address) if address else (None, None, None)
        parsed = Address(street, postcode, city) if address else None
        venue = VenueInfo(slug=_unknown_slug(label), name=label, address=parsed)
        return VenueMatch(venue, None, False, "unknown")


def names_something(text: str | None) -> bool:
    """True if a venue text has a letter or digit in any script (``-``, ``,`` and ``()`` name no venue)."""
    return text is not None and any(char.isalnum() for char in text)


def _unknown_slug(label: str) -> str:
    """A slug for an unknown venue from its name; a digest stands in for a name without Latin letters
    or digits (``Дом музыки``) or shortens a very long one, so such venues are never merged."""
    slug = slugify(label)
    digest = hashlib.sha1(clean_text(label).casefold().encode()).hexdigest()[:10]
    if not slug_words(label):
        return f"venue-{digest}"
    if len(slug) > SLUG_LENGTH:
        return f"{slug[: SLUG_LENGTH - len(digest) - 1].rstrip('-')}-{digest}"
    return slug


def _known_room(venue: VenueInfo, tokens: list[str]) -> str | None:
    """The venue's room whose name or alias equals or stands in ``tokens``."""
    candidates = [
        (tuple(fold_key(spelling).split()), room.name)
        for room in venue.room_details
        for spelling in (room.name, *room.aliases, *room.standalone)
    ]
    for spelling, room_name in sorted(candidates, key=lambda entry: len(entry[0]), reverse=True):
        if spelling and find_tokens(tokens, spelling) >= 0:
            return room_name
    return None


def _specific(street: str) -> bool:
    """A street precise enough to identify a venue: with a house number or three words."""
    return any(char.isdigit() for char in street) or len(street.split()) >= 3


def load_venues(path: Path | None = None) -> VenueRegistry:
    """Load the registry from ``path`` (default: the packaged ``venues.toml``)."""
    name, data = read_data_file("venues.toml", path, VenueDataError)
    try:
        venues = [_venue(entry) for entry in data.get("venue", [])]
        return VenueRegistry(venues)
    except (KeyError, TypeError, ValueError) as error:
        raise VenueDataError(name, "venue", str(error)) from error


def _venue(entry: dict[str, Any]) -> VenueInfo:
    """One ``[[venue]]`` table; errors name the slug."""
    slug = str(entry.get("slug", ""))
    if not _SLUG.match(slug):
        raise ValueError(f"bad or missing slug {slug!r}")
    if not entry.get("name"):
        raise ValueError(f"{slug}: missing name")
    address, geo = entry.get("address"), entry.get("geo")
    return VenueInfo(
        slug=slug,
        name=str(entry["name"]),
        aliases=tuple(entry.get("aliases", ())),
        address=Address(**address) if address else None,
        geo=Geo(float(geo["lat"]), float(geo["lon"]), bool(geo.get("approximate", True))) if geo else None,
        district=entry.get("district"),
        room_details=tuple(
            Room(room["name"], tuple(room.get("aliases", ())), tuple(room.get("standalone", ())))
            for room in entry.get("rooms", ())
        ),
        url=entry.get("url"),
        accessibility=entry.get("accessibility"),
    )
