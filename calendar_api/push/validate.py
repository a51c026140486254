"""Read a push body into listings, strictly: every problem is reported with its path, and stops all.

Two formats:

* JSON (``application/json`` or ``application/ld+json``): one schema.org ``Event`` object, a list
  of them, or an object with an ``@graph`` list. Paths look like ``$[3].startDate``,
  ``$['@graph'][0].location.name`` or ``$['@id']``. Unknown properties are ignored (kept in the
  record's raw data); known ones must have the documented type.
* iCalendar (``text/calendar``): every VEVENT needs a UID and a SUMMARY; recurring events are
  expanded by :func:`aggregator.formats.icalendar.parse_calendar` within the accepted date range. Paths
  look like ``VEVENT[2].DTEND`` (the third VEVENT of the body).

**All or nothing.** A batch with one bad record is refused as a whole (422, every bad field listed),
so a venue never has to work out which half of a request was written. A record whose place is not
one of the token's venues makes the whole request a 403 (see :func:`check_venue`).

**Text is stored as text.** Markup in titles is kept verbatim (escaping is the renderers' job);
control characters are removed, and one-line fields (title, place, URLs, ...) lose CR/LF, so no
text can start a new line in a feed.

**Dates.** A date-time without an offset is Berlin wall time. A date without a time is an all-day
event; as in schema.org, an all-day ``endDate`` is the last day (inclusive). Starts must lie within
:data:`PAST` before and :data:`FUTURE` after now, and an event may last at most :data:`MAX_DURATION`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from typing import Any

from aggregator.formats.schemaorg.event_reader import json_path as _join
from aggregator.listing import Listing, OfferListing
from aggregator.normalise.pipeline import normalise
from aggregator.text import clean_text
from calendar_api.ical_feed import ICAL_MEDIA_TYPE
from calendar_api.push.batch import (
    FUTURE,
    ICAL_FIELDS,
    JSON_FIELDS,
    MAX_DURATION,
    MAX_ID,
    MAX_RECORDS,
    PAST,
    Batch,
    BodyError,
    Fault,
    ForeignVenue,
    InvalidRecords,
    Item,
    Rules,
    clean_block,
    clean_line,
)
from calendar_api.push.ical_body import read_calendar
from calendar_api.push.json_body import JsonReader

__all__ = [
    "FUTURE",
    "JSON_TYPES",
    "MAX_DURATION",
    "MAX_ID",
    "MAX_RECORDS",
    "PAST",
    "Batch",
    "BodyError",
    "Fault",
    "ForeignVenue",
    "InvalidRecords",
    "Item",
    "Rules",
    "VenueProblem",
    "check_venue",
    "clean_block",
    "clean_line",
    "media_type",
    "read_batch",
]

JSON_TYPES = ("application/json", "application/ld+json")

_LIMITS = {
    "title": 500,
    "subtitle": 1000,
    "url": 1000,
    "image": 1000,
    "organiser": 300,
    "venue_name": 300,
    "venue_address": 300,
    "venue_url": 1000,
    "room": 200,
    "language": 20,
    "status_text": 300,
    "series_key": 500,
    "description": 50_000,
}
_OFFER_LIMITS = {"url": 1000, "vendor": 300, "price_text": 300}
_BLOCK_FIELDS = frozenset({"description"})


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower case ('' if none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def read_batch(body: bytes, content_type: str | None, rules: Rules) -> Batch:
    """Read and check a whole body; raises BodyError, ForeignVenue or InvalidRecords."""
    kind = media_type(content_type)
    try:
        if kind in JSON_TYPES or kind.endswith("+json"):
            items, faults, seen = JsonReader(rules).read(body)
        elif kind == ICAL_MEDIA_TYPE:
            items, faults, seen = read_calendar(body, rules)
        else:
            shown = kind or "none"
            raise BodyError(
                415,
                "unsupported-media-type",
                f"Content-Type {shown!r} is not accepted; send application/ld+json, "
                "application/json or text/calendar",
            )
        return _check(items, faults, seen, rules, "json" if kind != ICAL_MEDIA_TYPE else "ical", kind)
    except RecursionError as error:
        raise BodyError(400, "invalid-body", "the body is nested too deeply") from error


def _check(
    items: list[Item],
    faults: list[Fault],
    seen: list[tuple[str, str | None]],
    rules: Rules,
    dialect: str,
    kind: str,
) -> Batch:
    names = JSON_FIELDS if dialect == "json" else ICAL_FIELDS
    checked: list[Item] = []
    foreign: list[Fault] = []
    for item in items:
        listing, problems = _finish(item.listing, item.path, names)
        faults.extend(problems)
        try:
            checked.append(Item(item.path, check_venue(listing, rules)))
        except VenueProblem as problem:
            fault = Fault(_join(item.path, names["venue_name"]), problem.reason, listing.record_id)
            (foreign if problem.foreign else faults).append(fault)
    if not seen and not rules.allow_empty and not faults:
        faults.append(Fault("$" if dialect == "json" else "VCALENDAR", "the body holds no events"))
    if len(seen) > MAX_RECORDS:
        faults.append(Fault("$", f"{len(seen)} records are more than {MAX_RECORDS} in one request; split it"))
    faults.extend(_duplicates(checked, dialect))
    if foreign:
        raise ForeignVenue(foreign)
    if not faults:
        faults.extend(_normalise_faults(checked, rules, names))
    if faults:
        raise InvalidRecords(faults, seen)
    return Batch(checked, kind)


class VenueProblem(Exception):
    """A record's place is missing or unusable, or (``foreign``) is not one of the token's venues."""

    def __init__(self, reason: str, *, foreign: bool) -> None:
        self.reason = reason
        self.foreign = foreign
        super().__init__(reason)


def check_venue(listing: Listing, rules: Rules) -> Listing:
    """The listing placed at one of the token's venues; raises :class:`VenueProblem` when it cannot be.

    "Another venue's event" means: its place resolves (by the venue registry, as for scraped
    sources) to a venue that is not one of the token's venues, registered or not. A record without
    a place is at the token's venue when the token has exactly one.
    """
    allowed = rules.venues
    if not (listing.venue_name or listing.venue_address):
        if len(allowed) != 1:
            raise VenueProblem(f"is required: this token writes for {', '.join(allowed)}", foreign=False)
        info = rules.registry.get(allowed[0])
        return listing.evolve(venue_slug=allowed[0], venue_name=info.name if info else None)
    label = listing.venue_name or listing.venue_address or ""
    try:
        match = rules.registry.resolve(listing.venue_name, listing.venue_address)
    except ValueError:
        raise VenueProblem("has neither a usable name nor an address", foreign=False) from None
    slug = match.venue.slug
    if slug not in allowed:
        what = f"venue {slug!r}" if match.known else "not a registered venue"
        raise VenueProblem(
            f"{label!r} is {what}; this token writes only for {', '.join(allowed)}", foreign=True
        )
    room = rules.registry.room_name(slug, listing.room) if listing.room else match.room
    return listing.evolve(venue_slug=slug, room=room)


# -- cleaning ---------------------------------------------------------------------------------


def _finish(listing: Listing, path: str, names: dict[str, str]) -> tuple[Listing, list[Fault]]:
    """Clean every text of ``listing`` and check lengths and the title."""
    faults: list[Fault] = []
    changes: dict[str, Any] = {}
    for name, limit in _LIMITS.items():
        value = getattr(listing, name)
        if value is None:
            continue
        cleaned = (clean_block if name in _BLOCK_FIELDS else clean_line)(value) or None
        changes[name] = cleaned
        if cleaned is not None and len(cleaned) > limit:
            where = _join(path, names.get(name, name))
            faults.append(Fault(where, _too_long(cleaned, limit), listing.record_id))
    title = clean_line(listing.title)
    changes["title"] = title
    if not title:
        faults.append(Fault(_join(path, names["title"]), "the title is empty", listing.record_id))
    elif len(title) > _LIMITS["title"]:
        where = _join(path, names["title"])
        faults.append(Fault(where, _too_long(title, _LIMITS["title"]), listing.record_id))
    labels = (clean_line(label)[:100] for label in listing.categories)
    changes["categories"] = [label for label in labels if label][:50]
    offers = []
    for offer in listing.offers:
        values: dict[str, Any] = {}
        for name, limit in _OFFER_LIMITS.items():
            value = getattr(offer, name)
            if value is not None:
                values[name] = clean_line(value)[:limit] or None
        offers.append(
            OfferListing(**{f.name: values.get(f.name, getattr(offer, f.name)) for f in fields(offer)})
        )
    changes["offers"] = offers
    changes["raw"] = _clean_raw(listing.raw)
    return listing.evolve(**changes), faults


def _clean_raw(value: Any) -> Any:
    """The record as sent, without what no database can store (NUL, lone surrogates, control characters)."""
    if isinstance(value, str):
        return clean_text(value, lines=True)
    if isinstance(value, dict):
        return {clean_text(str(key), lines=True): _clean_raw(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean_raw(item) for item in value]
    return value


def _duplicates(items: list[Item], dialect: str) -> Iterator[Fault]:
    seen: dict[str, str] = {}
    for item in items:
        record_id = item.listing.record_id
        if record_id in seen:
            where = _join(item.path, "@id") if dialect == "json" else item.path
            yield Fault(
                where,
                f"the id {record_id!r} is used twice in this request (first at {seen[record_id]})",
                record_id,
            )
        else:
            seen[record_id] = item.path


def _normalise_faults(items: list[Item], rules: Rules, names: dict[str, str]) -> Iterator[Fault]:
    """What the ingest pipeline itself would reject, checked now so that nothing is half-written."""
    paths = {item.listing.record_id: item.path for item in items}
    result = normalise(
        [item.listing for item in items], venues=rules.registry, categories=rules.categories, now=rules.now
    )
    for rejection in result.rejected:
        path = paths.get(rejection.record_id or "", "$")
        yield Fault(
            _join(path, names.get(rejection.field or "", rejection.field or "")),
            rejection.reason,
            rejection.record_id,
        )


def _too_long(text: str, limit: int) -> str:
    return f"is {len(text)} characters long, at most {limit} are accepted"
