"""The venue registry in the database: seeded from ``venues.toml``, read once per run for matching.

The ``venues`` table is the registry (its ``known`` rows); ``aggregator/data/venues.toml`` is only its
seed. :func:`seed_venues` adds the seed's venues the table lacks and refreshes those nobody edited;
a venue an editor changed keeps the editor's values. :func:`load_registry` turns the table into the
:class:`~aggregator.normalise.venues.VenueRegistry` that a run's normalisation matches against, so an
alias an editor adds counts from the next run on (and at once for stored records, see
:mod:`aggregator.venue_rematch`). Places sources name that the registry does not know are kept as
``known=False`` rows (:func:`add_unknown_venue`) and offered to editors as suggestions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.models import Venue
from aggregator.normalise.venue_matching import split_address
from aggregator.normalise.venues import Address, Geo, Room, VenueInfo, VenueRegistry


@dataclass(slots=True)
class SeedReport:
    """What :func:`seed_venues` did: slugs added, refreshed from a changed seed, and kept as edited."""

    added: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)
    """Venues whose seed entry differs from what an editor made of them; the editor's values stay."""


def venue_info(row: Venue) -> VenueInfo:
    """The registry's view of a stored venue."""
    address = None
    if row.street or row.postcode or row.city:
        address = Address(row.street, row.postcode, row.city)
    geo = Geo(row.lat, row.lon, row.geo_approximate) if row.lat is not None and row.lon is not None else None
    spellings = row.room_aliases or {}
    rooms = tuple(
        Room(
            str(name),
            tuple(str(a) for a in spellings.get(name, {}).get("aliases", ())),
            tuple(str(s) for s in spellings.get(name, {}).get("standalone", ())),
        )
        for name in row.rooms or ()
    )
    return VenueInfo(
        slug=row.slug,
        name=row.name,
        aliases=tuple(str(alias) for alias in row.aliases or ()),
        address=address,
        geo=geo,
        district=row.district,
        room_details=rooms,
        url=row.url,
        accessibility=row.accessibility,
    )


def info_snapshot(info: VenueInfo) -> dict[str, Any]:
    """The editable fields of a venue as a JSON-ready dict (what the audit log keeps before and after)."""
    return {
        "slug": info.slug,
        "name": info.name,
        "aliases": list(info.aliases),
        "street": info.street,
        "postcode": info.postcode,
        "city": info.city,
        "lat": info.lat,
        "lon": info.lon,
        "geo_approximate": info.geo.approximate if info.geo else None,
        "district": info.district,
        "rooms": [
            {"name": room.name, "aliases": list(room.aliases), "standalone": list(room.standalone)}
            for room in info.room_details
        ],
        "url": info.url,
        "accessibility": info.accessibility,
    }


def venue_snapshot(row: Venue) -> dict[str, Any]:
    """A stored venue as a JSON-ready dict: its editable fields, whether it is registered, who edited it."""
    return {
        **info_snapshot(venue_info(row)),
        "known": row.known,
        "edited_at": row.edited_at.isoformat() if row.edited_at else None,
        "edited_by": row.edited_by,
    }


def seed_hash(info: VenueInfo) -> str:
    """A hash of everything a seed entry says, to notice when the shipped seed changes."""
    encoded = json.dumps(info_snapshot(info), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def write_info(row: Venue, info: VenueInfo) -> None:
    """Set every registry field of ``row`` from ``info`` (the slug excepted)."""
    row.name = info.name
    row.aliases = list(info.aliases)
    row.street, row.postcode, row.city = info.street, info.postcode, info.city
    row.lat, row.lon = info.lat, info.lon
    row.geo_approximate = info.geo.approximate if info.geo else True
    row.district = info.district
    row.rooms = [room.name for room in info.room_details]
    row.room_aliases = {
        room.name: {"aliases": list(room.aliases), "standalone": list(room.standalone)}
        for room in info.room_details
    }
    row.url = info.url
    row.accessibility = info.accessibility


def seed_venues(session: Session, seed: VenueRegistry, *, now: datetime) -> SeedReport:
    """Bring the table up to the seed, idempotently.

    A seed venue the table lacks is added; one that is stored but unchanged since it was seeded (or
    was only a place sources named, ``known=False``) takes the seed's values when the seed changed;
    one an editor changed is left as the editor made it and reported in ``kept_edited``.
    """
    report = SeedReport()
    wanted = {info.slug: info for info in seed.all()}
    rows = {row.slug: row for row in session.scalars(select(Venue).where(Venue.slug.in_(list(wanted))))}
    for slug, info in wanted.items():
        digest = seed_hash(info)
        row = rows.get(slug)
        if row is None:
            row = Venue(slug=slug, known=True, created_at=now, updated_at=now, seed_hash=digest)
            write_info(row, info)
            session.add(row)
            report.added.append(slug)
        elif row.edited_at is not None:
            if row.seed_hash != digest:
                report.kept_edited.append(slug)
        elif row.seed_hash != digest or not row.known:
            write_info(row, info)
            row.known, row.seed_hash, row.updated_at = True, digest, now
            report.refreshed.append(slug)
    session.flush()
    return report


def load_registry(session: Session, seed: VenueRegistry | None = None) -> VenueRegistry:
    """The registry as stored: every ``known`` venue, in the seed's order and then by age.

    Spellings two venues claim (the seed added one an editor had given elsewhere) do not stop a run:
    the first venue keeps it and :attr:`VenueRegistry.conflicts` names the rest.
    """
    order = {info.slug: index for index, info in enumerate(seed.all())} if seed is not None else {}
    rows = session.scalars(select(Venue).where(Venue.known.is_(True))).all()
    ranked = sorted(rows, key=lambda row: (order.get(row.slug, len(order)), row.created_at, row.slug))
    return VenueRegistry((venue_info(row) for row in ranked), strict=False)


def add_unknown_venue(
    session: Session,
    slug: str,
    name: str,
    *,
    address: str | None,
    geo: Sequence[float] | None,
    now: datetime,
) -> Venue:
    """Keep a place a source named that the registry does not know (``known=False``), as written."""
    street, postcode, city = split_address(address) if address else (None, None, None)
    row = Venue(
        slug=slug,
        name=name[:300],
        aliases=[],
        street=street[:300] if street else None,
        postcode=postcode,
        city=city[:120] if city else None,
        lat=float(geo[0]) if geo else None,
        lon=float(geo[1]) if geo else None,
        geo_approximate=False,  # the source's own coordinates, not set by hand
        known=False,
        rooms=[],
        room_aliases={},
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row
