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

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from icalendar import Calendar, Component

from aggregator.formats.icalendar import NotACalendar, parse_calendar
from aggregator.formats.schemaorg.reader import StrictReader
from aggregator.formats.schemaorg.reader import json_path as _join
from aggregator.formats.schemaorg.reader import kind as _kind
from aggregator.formats.schemaorg.vocabulary import EVENT_TYPES as EVENT_TYPES
from aggregator.formats.schemaorg.vocabulary import schema_name as _schema_name
from aggregator.listing import Listing, OfferListing
from aggregator.normalise.categories import CategoryVocabulary
from aggregator.normalise.dates import localize
from aggregator.normalise.pipeline import normalise
from aggregator.normalise.venues import VenueRegistry
from aggregator.text import clean_text
from aggregator.types import BERLIN

PAST = timedelta(days=366)
FUTURE = timedelta(days=3 * 366)
MAX_DURATION = timedelta(days=731)
MAX_RECORDS = 10_000
MAX_ID = 400
JSON_TYPES = ("application/json", "application/ld+json")
ICAL_TYPE = "text/calendar"

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
_ICAL_FIELDS = {
    "title": "SUMMARY",
    "description": "DESCRIPTION",
    "url": "URL",
    "image": "IMAGE",
    "organiser": "ORGANIZER",
    "venue_name": "LOCATION",
    "venue_address": "LOCATION",
    "start": "DTSTART",
    "end": "DTEND",
    "date_text": "DTSTART",
    "language": "LANGUAGE",
    "status_text": "STATUS",
    "categories": "CATEGORIES",
}
_JSON_FIELDS = {
    "title": "name",
    "description": "description",
    "subtitle": "disambiguatingDescription",
    "url": "url",
    "image": "image",
    "organiser": "organizer",
    "venue_name": "location",
    "venue_address": "location",
    "room": "location",
    "start": "startDate",
    "end": "endDate",
    "date_text": "startDate",
    "language": "inLanguage",
    "series_key": "superEvent",
    "status_text": "eventStatus",
    "categories": "keywords",
    "venue_url": "location",
    "previous_start": "previousStartDate",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One bad field: where (``$[3].startDate``), which record, and what is wrong with it."""

    path: str
    reason: str
    record_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The fault as it appears in a response."""
        return {"path": self.path, "id": self.record_id, "reason": self.reason}


class BodyError(Exception):
    """The body as a whole is unusable (not JSON, not a calendar, wrong media type)."""

    def __init__(self, status: int, kind: str, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        self.status = status
        self.kind = kind
        self.detail = detail
        self.extra = extra or {}
        super().__init__(f"{status} {kind}: {detail}")


class InvalidRecords(Exception):
    """Some records are invalid (422); ``records`` are the paths and ids of all records read."""

    def __init__(self, faults: Sequence[Fault], records: Sequence[tuple[str, str | None]]) -> None:
        self.faults = list(faults)
        self.records = list(records)
        super().__init__(f"{len(faults)} problems, first: {faults[0].path}: {faults[0].reason}")


class ForeignVenue(Exception):
    """Some records are at a place that is not one of the token's venues (403)."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = list(faults)
        super().__init__(f"{faults[0].path}: {faults[0].reason}")


@dataclass(slots=True)
class Item:
    """One record of a batch: where it was in the body and the listing it gave."""

    path: str
    listing: Listing


@dataclass(slots=True)
class Batch:
    """A valid body: its records in order."""

    items: list[Item]
    media_type: str

    @property
    def record_ids(self) -> list[str]:
        """The records' ids in body order."""
        return [item.listing.record_id for item in self.items]


@dataclass(frozen=True, slots=True)
class Rules:
    """What a body is checked against: who sends it, for which venues, and when."""

    source: str
    venues: tuple[str, ...]
    registry: VenueRegistry
    categories: CategoryVocabulary
    now: datetime
    single_id: str | None = None
    allow_empty: bool = False

    @property
    def earliest(self) -> datetime:
        """The earliest accepted start."""
        return self.now - PAST

    @property
    def latest(self) -> datetime:
        """The latest accepted start."""
        return self.now + FUTURE


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower case ('' if none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def read_batch(body: bytes, content_type: str | None, rules: Rules) -> Batch:
    """Read and check a whole body; raises BodyError, ForeignVenue or InvalidRecords."""
    kind = media_type(content_type)
    try:
        if kind in JSON_TYPES or kind.endswith("+json"):
            items, faults, seen = _JsonReader(rules).read(body)
        elif kind == ICAL_TYPE:
            items, faults, seen = _read_calendar(body, rules)
        else:
            shown = kind or "none"
            raise BodyError(
                415,
                "unsupported-media-type",
                f"Content-Type {shown!r} is not accepted; send application/ld+json, "
                "application/json or text/calendar",
            )
        return _check(items, faults, seen, rules, "json" if kind != ICAL_TYPE else "ical", kind)
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
    names = _JSON_FIELDS if dialect == "json" else _ICAL_FIELDS
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


def clean_line(text: str) -> str:
    """One-line text: control characters removed, line breaks and tabs become single spaces."""
    return clean_text(text)


def clean_block(text: str) -> str:
    """Multi-line text: CR/LF normalised to LF, other control characters removed."""
    return clean_text(text, lines=True).strip()


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


def _check_count(count: int, where: str) -> None:
    """Refuse a list of more than :data:`MAX_RECORDS` records before reading any of them."""
    if count > MAX_RECORDS:
        raise BodyError(
            413,
            "too-many-events",
            f"{where} holds {count} records; at most {MAX_RECORDS} are accepted in one request, split it",
            extra={"max_records": MAX_RECORDS},
        )


# -- JSON-LD ----------------------------------------------------------------------------------


class _JsonReader:
    """Reads schema.org Event objects with exact types, collecting every fault."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.faults: list[Fault] = []
        self.record_id: str | None = None
        self.seen: list[tuple[str, str | None]] = []
        self.schema = StrictReader(self)

    def problem(self, path: str, reason: str) -> None:
        """The schema.org reader's sink: its problems are faults of the record being read."""
        self.fault(path, reason)

    def fault(self, path: str, reason: str) -> None:
        """Record a fault of the record being read."""
        self.faults.append(Fault(path, reason, self.record_id))

    def read(self, body: bytes) -> tuple[list[Item], list[Fault], list[tuple[str, str | None]]]:
        """All records of ``body`` and the faults found."""
        if not body.strip():
            raise BodyError(400, "invalid-body", "the body is empty; send one Event object or a list of them")
        try:
            data = json.loads(body)
        except UnicodeDecodeError as error:
            raise BodyError(
                400, "invalid-body", f"the body is not UTF-8 text ({error.reason} at byte {error.start})"
            ) from error
        except json.JSONDecodeError as error:
            raise BodyError(
                400,
                "invalid-body",
                f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
            ) from error
        items = []
        for path, node in self._records(data):
            listing = self.event(path, node)
            if listing is not None:
                items.append(Item(path, listing))
        return items, self.faults, self.seen

    def _records(self, data: Any) -> Iterator[tuple[str, Any]]:
        single = self.rules.single_id is not None
        if isinstance(data, dict) and "@graph" in data:
            graph = data["@graph"]
            if not isinstance(graph, list):
                self.fault("$['@graph']", f"expected a list of Event objects, got {_kind(graph)}")
                return
            _check_count(len(graph), "$['@graph']")
            if single:
                if len(graph) != 1:
                    self.fault("$['@graph']", f"this endpoint takes one Event object, got {len(graph)}")
                    return
                yield "$['@graph'][0]", graph[0]
                return
            yield from ((f"$['@graph'][{i}]", node) for i, node in enumerate(graph))
        elif isinstance(data, list):
            if single:
                self.fault("$", "this endpoint takes one Event object, not a list")
                return
            _check_count(len(data), "$")
            yield from ((f"$[{i}]", node) for i, node in enumerate(data))
        elif isinstance(data, dict):
            yield "$", data
        else:
            self.fault("$", f"expected an Event object or a list of them, got {_kind(data)}")

    def event(self, path: str, node: Any) -> Listing | None:
        """One Event object as a listing (None when it has faults)."""
        self.record_id = None
        before = len(self.faults)
        if not isinstance(node, dict):
            self.seen.append((path, None))
            self.fault(path, f"expected an Event object, got {_kind(node)}")
            return None
        record_id = self._id(path, node)
        self.record_id = record_id
        self.seen.append((path, record_id))
        types = self._types(path, node)
        start, all_day = self._start(path, node)
        end = self._end(path, node, start, all_day)
        for unsupported, advice in (
            ("eventSchedule", "send one Event per date"),
            ("subEvent", "send each sub-event as an Event of its own"),
        ):
            if unsupported in node:
                self.fault(_join(path, unsupported), f"is not supported by the push API; {advice}")
        content = self.schema.content(path, node, labels=types)
        series_key = self._series(path, node)
        if len(self.faults) > before or record_id is None or start is None:
            return None
        return Listing(
            source=self.rules.source,
            record_id=record_id,
            fetched_at=self.rules.now,
            start=start,
            end=end,
            all_day=all_day,
            series_key=series_key,
            raw={"jsonld": node},
            **(content | {"title": content["title"] or ""}),
        )

    # fields

    def _id(self, path: str, node: dict[str, Any]) -> str | None:
        wanted = self.rules.single_id
        key = "@id" if "@id" in node or "identifier" not in node else "identifier"
        value = node.get(key)
        if value is None:
            if wanted is not None:
                return wanted
            self.fault(_join(path, "@id"), "is required: the event's own stable id in your system")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.fault(_join(path, key), f"expected text, got {_kind(value)}")
            return None
        cleaned = clean_line(value)
        if not cleaned or cleaned != value:
            self.fault(
                _join(path, key), "must be non-empty text without control characters or surrounding spaces"
            )
            return None
        if len(cleaned) > MAX_ID:
            self.fault(_join(path, key), f"is {len(cleaned)} characters long, at most {MAX_ID} are accepted")
            return None
        if wanted is not None and cleaned != wanted:
            self.fault(_join(path, key), f"{cleaned!r} does not match the id in the URL ({wanted!r})")
            return None
        return cleaned

    def _types(self, path: str, node: dict[str, Any]) -> list[str]:
        value = node.get("@type")
        where = _join(path, "@type")
        if value is None:
            self.fault(where, "is required: 'Event' or one of its schema.org subtypes")
            return []
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            self.fault(where, f"expected text or a list of texts, got {_kind(value)}")
            return []
        names = [_schema_name(v) for v in values]
        if not any(name in EVENT_TYPES for name in names):
            self.fault(
                where,
                f"unknown @type {value!r}: expected 'Event' or one of its schema.org subtypes "
                f"({', '.join(sorted(EVENT_TYPES - {'Event'})[:6])}, ...)",
            )
            return []
        return [name for name in names if name in EVENT_TYPES and name != "Event"]

    def _start(self, path: str, node: dict[str, Any]) -> tuple[datetime | None, bool]:
        if node.get("startDate") is None:
            self.fault(_join(path, "startDate"), "is required")
            return None, False
        start, all_day = self.schema.moment(_join(path, "startDate"), node["startDate"], bounded=False)
        if start is not None and not self.rules.earliest <= start <= self.rules.latest:
            self.fault(_join(path, "startDate"), _out_of_range(start, self.rules))
            return None, False
        return start, all_day

    def _end(self, path: str, node: dict[str, Any], start: datetime | None, all_day: bool) -> datetime | None:
        end, end_is_date = self.schema.moment(_join(path, "endDate"), node.get("endDate"))
        if start is None:
            return None
        if end is None:
            return start + timedelta(days=1) if all_day and "endDate" not in node else None
        if end_is_date:
            end = localize(datetime.combine(end.date() + timedelta(days=1), time()))  # inclusive last day
        if end < start:
            self.fault(
                _join(path, "endDate"), f"{node['endDate']!r} is before the startDate {node['startDate']!r}"
            )
            return None
        if end - start > MAX_DURATION:
            self.fault(_join(path, "endDate"), _too_long_event(end - start))
            return None
        return end

    def _series(self, path: str, node: dict[str, Any]) -> str | None:
        value = node.get("superEvent")
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get("@id")
        if not isinstance(value, str) or not clean_line(value):
            self.fault(_join(path, "superEvent"), 'expected the @id of the series (text or {"@id": …})')
            return None
        return clean_line(value)


def _too_long(text: str, limit: int) -> str:
    return f"is {len(text)} characters long, at most {limit} are accepted"


def _too_long_event(duration: timedelta) -> str:
    return f"the event would last {duration.days} days; at most {MAX_DURATION.days} are accepted"


def _out_of_range(start: datetime, rules: Rules) -> str:
    return (
        f"{start:%Y-%m-%d} is too far from today: the push API accepts starts from "
        f"{rules.earliest:%Y-%m-%d} to {rules.latest:%Y-%m-%d}"
    )


# -- iCalendar --------------------------------------------------------------------------------


def _read_calendar(body: bytes, rules: Rules) -> tuple[list[Item], list[Fault], list[tuple[str, str | None]]]:
    """Strict checks on each VEVENT, then the project's importer for the listings."""
    if not body.strip():
        raise BodyError(400, "invalid-body", "the body is empty; send a VCALENDAR")
    try:
        calendar = Calendar.from_ical(body)
    except Exception as error:  # icalendar raises many kinds; all mean "not a calendar"
        raise BodyError(400, "invalid-body", f"the body is not a valid iCalendar object: {error}") from error
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise BodyError(400, "invalid-body", "the body must be one VCALENDAR")
    faults: list[Fault] = []
    seen: list[tuple[str, str | None]] = []
    vevents = calendar.walk("VEVENT")
    _check_count(len(vevents), "VCALENDAR")
    uids = _scan_vevents(vevents, rules, faults, seen)
    if faults:
        return [], faults, seen
    try:
        result = parse_calendar(
            body,
            source=rules.source,
            fetched_at=rules.now,
            window=(rules.earliest, rules.latest),
            origin="request body",
            max_listings=MAX_RECORDS + 1,
        )
    except NotACalendar as error:
        raise BodyError(
            400, "invalid-body", f"the body is not a valid iCalendar object: {error.reason}"
        ) from error
    if len(result.listings) > MAX_RECORDS:  # occurrences count, not VEVENTs
        return (
            [],
            [
                Fault(
                    "VCALENDAR",
                    f"its events have more than {MAX_RECORDS} occurrences in "
                    f"{rules.earliest:%Y-%m-%d} … {rules.latest:%Y-%m-%d}; split it",
                )
            ],
            seen,
        )
    for rejection in result.rejections:
        where = uids.get(rejection.record_id or "", "VCALENDAR")
        faults.append(
            Fault(
                _join(where, _ICAL_FIELDS.get(rejection.field or "", "")),
                rejection.reason,
                rejection.record_id,
            )
        )
    items = []
    for listing in result.listings:
        where = uids.get(listing.series_key or listing.record_id, "VCALENDAR")
        items.append(Item(where, listing))
    return items, faults, seen


def _scan_vevents(
    events: list[Component], rules: Rules, faults: list[Fault], seen: list[tuple[str, str | None]]
) -> dict[str, str]:
    """Check UID, SUMMARY, DTSTART/DTEND of every VEVENT; returns each UID's path."""
    uids: dict[str, str] = {}
    masters: set[str] = set()
    for index, event in enumerate(events):
        where = f"VEVENT[{index}]"
        uid = str(event.get("UID", "")).strip() or None
        seen.append((where, uid))

        def fault(name: str, reason: str, uid: str | None = uid, where: str = where) -> None:
            faults.append(Fault(_join(where, name), reason, uid))

        if uid is None:
            fault("UID", "is required: the event's own stable id in your system")
        elif len(uid) > MAX_ID:
            fault("UID", f"is {len(uid)} characters long, at most {MAX_ID} are accepted")
        elif rules.single_id is not None and uid != rules.single_id:
            fault("UID", f"{uid!r} does not match the id in the URL ({rules.single_id!r})")
        if uid is not None:
            uids.setdefault(uid, where)
            if "RECURRENCE-ID" not in event:
                if uid in masters:
                    fault("UID", f"the UID {uid!r} is used twice in this request (first at {uids[uid]})")
                masters.add(uid)
        if not clean_line(str(event.get("SUMMARY", ""))):
            fault("SUMMARY", "is required")
        start = _ical_moment(event, "DTSTART")
        if start is None:
            fault("DTSTART", "is required and must be a date or date-time this server can convert")
            continue
        recurring = any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID"))
        if not recurring and not rules.earliest <= start <= rules.latest:
            fault("DTSTART", _out_of_range(start, rules))
        end = _ical_moment(event, "DTEND")
        if "DTEND" in event and end is None:
            fault("DTEND", "must be a date or date-time this server can convert")
        elif end is not None and end < start:
            fault("DTEND", f"{end.isoformat()} is before DTSTART {start.isoformat()}")
        elif end is not None and end - start > MAX_DURATION:
            fault("DTEND", _too_long_event(end - start))
    return uids


def _ical_moment(event: Component, name: str) -> datetime | None:
    value = getattr(event.get(name), "dt", None)
    try:  # year 1 at +14:00 or 9999 at -14:00 cannot be converted: no usable date
        if isinstance(value, datetime):
            return localize(value) if value.tzinfo is None else value.astimezone(BERLIN)
        if isinstance(value, date):
            return localize(datetime.combine(value, time()))
    except OverflowError:
        return None
    return None
