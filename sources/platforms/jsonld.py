"""Import of schema.org ``Event`` data (JSON-LD) from a JSON document or an HTML page.

Reads every ``<script type="application/ld+json">`` block of a page (a broken block costs only
itself), or a whole ``.json``/``.jsonld`` document; follows ``@graph``, ``ItemList`` and
``mainEntity`` and resolves ``{"@id": ...}`` references within the document. Every object whose
``@type`` is ``Event``, one of its subtypes, or any other type ending in ``Event`` is an event.

What becomes a listing:

- an event with ``startDate`` — one listing; date-only values are all-day, naive times are
  Europe/Berlin, a date-only ``endDate`` is inclusive and becomes the next midnight;
- an event with dated ``subEvent`` entries — one listing per sub-event (the parent is the series and
  lends them its place, image, organiser and offers where they have none);
- an event with ``eventSchedule`` — one listing per occurrence in the window. Supported:
  ``repeatFrequency`` (ISO 8601 ``P1D``/``P2W``/``P1M``/``P1Y`` or daily/weekly/monthly/yearly),
  ``byDay``, ``byMonth``, ``byMonthDay``, ``startDate``/``endDate``, ``startTime``/``endTime`` or
  ``duration``, ``repeatCount``, ``exceptDate`` and ``scheduleTimezone``; without a frequency a
  schedule with ``byDay`` is weekly, one without is daily from ``startDate`` to ``endDate``;
- an event without any start is rejected.

Given a window (:class:`~aggregator.window.Window`), only events that overlap it become listings
(one that began before it and still runs, an exhibition, is kept) and those wholly before or after it
are counted in ``outside`` and said in one warning. Without one, every dated event is kept and
``eventSchedule`` is expanded from the day of ``fetched_at`` for
:data:`~aggregator.window.DEFAULT_FUTURE_DAYS`. A schedule yields at most
:data:`MAX_SCHEDULE_OCCURRENCES` occurrences and takes at most :data:`MAX_SCHEDULE_STEPS` steps.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, ClassVar
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from dateutil import rrule

from aggregator.formats.decoding import decode
from aggregator.formats.errors import DocumentError
from aggregator.formats.read_result import ReadResult
from aggregator.formats.record_ids import make_record_ids_unique
from aggregator.formats.schemaorg.reader import LenientReader
from aggregator.formats.schemaorg.reader import as_list as _list
from aggregator.formats.schemaorg.reader import lenient_moment as _moment
from aggregator.formats.schemaorg.reader import plain_string as _string
from aggregator.formats.schemaorg.vocabulary import EVENT_TYPES as EVENT_TYPES
from aggregator.formats.schemaorg.vocabulary import is_event_type, token, type_names
from aggregator.listing import Listing, Rejection
from aggregator.types import BERLIN, JSON
from aggregator.window import Window
from sources.base import Document
from sources.platforms._document import DocumentSource

NameCleaner = Callable[[str, datetime | None, str | None], str]
"""A hook ``(name, start, location name) -> title`` applied to every event name."""

MAX_SCHEDULE_OCCURRENCES = 1_000
"""Occurrences one ``eventSchedule`` yields at most in the window."""

MAX_SCHEDULE_STEPS = 50_000
"""Repetitions of one ``eventSchedule`` generated at most on the way to the window's end."""

_FREQUENCIES = {"D": rrule.DAILY, "W": rrule.WEEKLY, "M": rrule.MONTHLY, "Y": rrule.YEARLY}
_FREQUENCY_WORDS = {"daily": "P1D", "weekly": "P1W", "monthly": "P1M", "yearly": "P1Y", "annually": "P1Y"}
_WEEKDAYS = {
    name: day
    for day, names in enumerate(
        [
            ("monday", "mo"),
            ("tuesday", "tu"),
            ("wednesday", "we"),
            ("thursday", "th"),
            ("friday", "fr"),
            ("saturday", "sa"),
            ("sunday", "su"),
        ]
    )
    for name in names
}
_DATE_IN_URL = re.compile(
    r"([-_]?)(?<!\d)(\d{1,2}[-._]\d{1,2}[-._]\d{4}|\d{4}-\d{2}-\d{2}(?:T[\d:]+)?)(?!\d)([-_]?)"
)
_TRAILING_SEPARATORS = " \t-–—|,:;@/·•"


class NotAnEventDocument(DocumentError):
    """The data holds no JSON-LD at all (no ld+json block, not JSON, or only broken JSON)."""

    failure: ClassVar[str] = "has no usable JSON-LD"
    default_source: ClassVar[str] = "jsonld"


def parse_jsonld(
    data: bytes | str,
    *,
    source: str,
    fetched_at: datetime,
    base_url: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    clean_name: NameCleaner | None = None,
    origin: str = "",
) -> ReadResult:
    """Read the schema.org events of a JSON-LD document or of an HTML page's ld+json blocks.

    ``base_url`` resolves relative URLs and ``@id`` values; ``window`` (a
    :class:`~aggregator.window.Window` or a pair of aware datetimes) keeps only the events that
    overlap it (default: keep all; expand ``eventSchedule`` from the day of ``fetched_at``); ``clean_name``
    (see :func:`clean_event_name`) rewrites each title. Raises :class:`NotAnEventDocument` when
    there is no JSON-LD at all; broken blocks and records are reported in the result.
    """
    notes: list[str] = []
    origin = origin or base_url or ""
    documents = _documents(_text(data), origin, source, notes)
    result = read_schemaorg(
        documents,
        source=source,
        fetched_at=fetched_at,
        base_url=base_url,
        window=window,
        clean_name=clean_name,
    )
    result.warnings[:0] = notes
    return result


def read_schemaorg(
    documents: list[Any],
    *,
    source: str,
    fetched_at: datetime,
    base_url: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    clean_name: NameCleaner | None = None,
) -> ReadResult:
    """Read the schema.org events of JSON values already parsed (JSON-LD, or microdata/RDFa made into it).

    The one reader behind :func:`parse_jsonld` and :mod:`sources.platforms.embedded`; see
    :func:`parse_jsonld` for ``base_url``, ``window`` and ``clean_name``.
    """
    result = ReadResult()
    bounds = Window(*window) if window else Window.around(fetched_at, past_days=0)
    filtered = window is not None
    reader = _Reader(source, fetched_at, base_url, bounds, clean_name, result, filtered=filtered)
    reader.index(documents)
    for entity in _entities(documents):
        entity = reader.resolve(entity)
        if isinstance(entity, dict) and _is_event(entity):
            result.records += 1
            try:
                reader.read_event(entity)
            except Exception as error:  # isolation: one odd record must not cost the document
                reader.reject(_string(entity.get("@id")), f"unusable ({type(error).__name__}: {error})")
    if not result.records:
        result.warnings.append("the JSON-LD holds no Event")
    make_record_ids_unique(
        result.listings, result.warnings, separator="#", why="used by several events; disambiguated by start"
    )
    outside = result.outside.message(bounds)
    if outside:
        result.warnings.append(outside)
    return result


def clean_event_name(name: str, start: datetime | None, location: str | None) -> str:
    """Strip a trailing date (the event's own, dd.mm.yyyy and similar) and venue name from a title.

    Some sites append both to the JSON-LD ``name`` ("5. Philharmonisches Konzert: Faszination
    Stadion 16.01.2024 Konzerthaus Dortmund"); only text equal to the event's own date, time or
    location name is removed, so a title that merely ends in a date stays as it is.
    """
    suffixes: list[str] = []
    if location:
        suffixes.append(location.strip())
    if start is not None:
        local = start.astimezone(BERLIN)
        day, month, year = local.day, local.month, local.year
        suffixes += [
            f"{day:02d}.{month:02d}.{year}",
            f"{day}.{month}.{year}",
            f"{day:02d}.{month:02d}.{year % 100:02d}",
            local.date().isoformat(),
        ]
        if local.time() != time():
            clock = f"{local.hour:02d}:{local.minute:02d}"
            suffixes += [f"{clock} Uhr", clock, f"{local.hour:02d}.{local.minute:02d} Uhr"]
    text = name.strip()
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            cut = _without_suffix(text, suffix)
            if cut != text:
                text, changed = cut, True
    return text or name.strip()


def _without_suffix(text: str, suffix: str) -> str:
    """``text`` without a trailing ``suffix`` that stands apart (after a space or separator)."""
    if not suffix or not text.lower().endswith(suffix.lower()):
        return text
    head = text[: len(text) - len(suffix)]
    if head and head[-1] not in _TRAILING_SEPARATORS:
        return text
    return head.rstrip(_TRAILING_SEPARATORS)


def _text(data: bytes | str) -> str:
    """The text of a document: BOMs honoured, UTF-8 by default, Windows-1252 as the last resort."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    return decode(data, guess_utf16=False)


def _documents(text: str, origin: str, source: str, notes: list[str]) -> list[Any]:
    """The JSON values of a JSON document, or of each ld+json block of an HTML page."""
    head = text.lstrip()
    if not head:
        raise NotAnEventDocument(origin, "it is empty", source)
    if head[0] in "{[":
        try:
            return [_loads(head)]
        except ValueError as error:
            raise NotAnEventDocument(origin, f"it is not valid JSON ({error})", source) from None
    if not head.startswith("<"):
        kind = (
            "an iCalendar file"
            if head[:15].upper().startswith("BEGIN:VCALENDAR")
            else "neither JSON nor HTML"
        )
        raise NotAnEventDocument(origin, f"it is {kind}", source)
    blocks = _ld_json_blocks(text)
    if not blocks:
        raise NotAnEventDocument(origin, "the page has no application/ld+json block", source)
    documents = []
    for number, block in enumerate(blocks, 1):
        try:
            documents.append(_loads(block))
        except ValueError as error:
            notes.append(f"ld+json block {number} of {len(blocks)} is not valid JSON ({error}); skipped")
    if not documents:
        raise NotAnEventDocument(origin, f"none of its {len(blocks)} ld+json blocks is valid JSON", source)
    return documents


def ld_json_values(page: str, notes: list[str]) -> list[Any]:
    """The JSON value of every ``application/ld+json`` block of an HTML page that parses (none: ``[]``).

    A block that is not JSON costs only itself, with a note.
    """
    blocks = _ld_json_blocks(page)
    values = []
    for number, block in enumerate(blocks, 1):
        try:
            values.append(_loads(block))
        except ValueError as error:
            notes.append(f"ld+json block {number} of {len(blocks)} is not valid JSON ({error}); skipped")
    return values


def _ld_json_blocks(page: str) -> list[str]:
    """The text of every ``<script type="application/ld+json">`` element."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(page, "lxml")
    blocks = []
    for script in soup.find_all("script"):
        kind = str(script.get("type") or "").split(";")[0].strip().lower()
        if kind == "application/ld+json":
            blocks.append(script.get_text())
    return blocks


def _loads(text: str) -> Any:
    """Parse JSON leniently: control characters in strings, comment/CDATA wrappers, trailing commas."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    cleaned = re.sub(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$", "", text.strip())
    cleaned = re.sub(r",\s*([}\]])", r"\1", cleaned)
    return json.loads(cleaned, strict=False)


def _entities(documents: list[Any]) -> Iterator[Any]:
    """Top-level entities: array items, ``@graph`` members, ``ItemList`` items, ``mainEntity``."""
    stack = list(reversed(documents))
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
            continue
        if not isinstance(value, dict):
            continue
        if "@graph" in value:
            stack.append(value["@graph"])
            continue
        if _is_event(value):
            yield value
            continue
        types = _types(value)
        for key in ("event", "events"):
            stack.extend(reversed(_list(value.get(key))))
        if "ItemList" in types:
            stack.extend(reversed(_list(value.get("itemListElement"))))
        elif "ListItem" in types and "item" in value:
            stack.append(value["item"])
        elif "mainEntity" in value:
            stack.append(value["mainEntity"])
        elif "@id" in value and len(value) == 1:
            yield value


def _types(node: Mapping[str, Any]) -> set[str]:
    """The node's ``@type`` values without a schema.org prefix."""
    return set(type_names(node.get("@type")))


def _is_event(node: Mapping[str, Any]) -> bool:
    """Whether the node is a schema.org Event (any subtype, or another type ending in "Event")."""
    return any(is_event_type(kind) for kind in _types(node))


def _token(value: Any) -> str:
    """A schema.org enumeration value without its prefix ("https://schema.org/SoldOut" → "SoldOut")."""
    return token(_string(value) or "")


class _Reader:
    """Turns schema.org Event objects into listings, warnings and rejections."""

    def __init__(
        self,
        source: str,
        fetched_at: datetime,
        base_url: str | None,
        window: Window,
        clean_name: NameCleaner | None,
        result: ReadResult,
        *,
        filtered: bool,
    ) -> None:
        self.source = source
        self.fetched_at = fetched_at
        self.base_url = base_url
        self.window = window
        self.filtered = filtered
        self.clean_name = clean_name
        self.result = result
        self.nodes: dict[str, JSON] = {}

    def warn(self, message: str) -> None:
        """Record a warning once."""
        if message not in self.result.warnings:
            self.result.warnings.append(message)

    def reject(self, record_id: str | None, reason: str, field_name: str | None = None) -> None:
        """Record a rejection and the matching warning."""
        self.result.rejections.append(Rejection(self.source, record_id, reason, field_name))
        self.warn(f"{record_id or 'event'}: {reason}")

    def index(self, documents: list[Any]) -> None:
        """Remember every node with an ``@id`` and content, so references can be resolved."""
        stack: list[Any] = list(documents)
        while stack:
            value = stack.pop()
            if isinstance(value, list):
                stack.extend(value)
            elif isinstance(value, dict):
                node_id = value.get("@id")
                if isinstance(node_id, str) and len(value) > 1:
                    self.nodes.setdefault(node_id, value)
                stack.extend(value.values())

    def resolve(self, value: Any) -> Any:
        """The node a bare ``{"@id": ...}`` reference points to, else the value itself."""
        if isinstance(value, dict) and set(value) == {"@id"}:
            return self.nodes.get(str(value["@id"]), value)
        return value

    def url(self, value: Any) -> str | None:
        """An absolute URL from a string or an object with ``url``/``@id``."""
        value = self.resolve(_list(value)[0]) if _list(value) else None
        if isinstance(value, dict):
            value = value.get("url") or value.get("contentUrl") or value.get("@id")
        text = _string(value)
        if text is None:
            return None
        return urljoin(self.base_url, text) if self.base_url else text

    def read_event(self, event: JSON) -> None:
        """Listings for one top-level event: itself, its sub-events, or its schedule."""
        base_id = self.record_base(event)
        subs = [self.resolve(sub) for sub in _list(event.get("subEvent"))]
        if any(_is_dated(sub) for sub in subs):
            series = self.url(event.get("@id")) or self.url(event.get("url")) or base_id
            for sub in subs:
                if _is_dated(sub):
                    self.emit(_inherit(sub, event), series_key=series, parent=base_id)
                else:
                    self.reject(
                        f"{base_id} subEvent {_string(sub.get('name')) if isinstance(sub, dict) else sub!r}",
                        "subEvent without startDate",
                        "start",
                    )
            return
        if event.get("eventSchedule") and not event.get("subEvent"):
            schedules = [self.resolve(item) for item in _list(event["eventSchedule"])]
            occurrences = [
                start for item in schedules if isinstance(item, dict) for start in self.expand(item, base_id)
            ]
            if occurrences:
                for start, end, all_day in occurrences:
                    self.emit(event, series_key=self.series_key(event), times=(start, end, all_day))
                return
        self.emit(event, series_key=self.series_key(event))

    def record_base(self, event: JSON) -> str:
        """The event's key: ``@id``, ``identifier``, URL plus start, else a hash of name, start and place."""
        node_id = self.url(event.get("@id"))
        if node_id:
            return node_id
        identifier = _string(event.get("identifier"))
        if identifier:
            return identifier
        url, start = self.url(event.get("url")), _string(event.get("startDate"))
        if url:
            return f"{url}#{start}" if start else url
        location = self.resolve(_list(event.get("location"))[0]) if _list(event.get("location")) else None
        place = _string(location.get("name")) if isinstance(location, dict) else _string(location)
        basis = "|".join(text or "" for text in (_string(event.get("name")), start, place))
        return "jsonld-" + hashlib.sha1(basis.encode()).hexdigest()[:16]

    def series_key(self, event: JSON) -> str | None:
        """The production's key: the super event's ``@id``/URL, else the event's own without a date."""
        for parent in _list(event.get("superEvent")):
            key = self.url(self.resolve(parent))
            if key:
                return key
        own = self.url(event.get("@id")) or self.url(event.get("url"))
        return _undated(own) if own else None

    def emit(
        self,
        event: JSON,
        *,
        series_key: str | None,
        parent: str | None = None,
        times: tuple[datetime, datetime | None, bool] | None = None,
    ) -> None:
        """Append the listing for one dated event (rejected with a reason if it cannot be one)."""
        record_id = self.record_base(event)
        try:
            if times is None:
                start, end, all_day = self.times(event, record_id)
            else:
                start, end, all_day = times
                record_id = f"{record_id}#{start.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        except ValueError as error:
            self.reject(record_id, str(error), "start")
            return
        outside = self.window.outside(start, end) if self.filtered else None
        if outside:
            self.result.outside.add(outside, start)
            return
        try:
            listing = self.listing(event, record_id, series_key, start, end, all_day)
        except Exception as error:
            self.reject(record_id, f"unusable ({type(error).__name__}: {error})")
            return
        if parent:
            listing.raw["parent"] = parent
        self.result.listings.append(listing)

    def times(self, event: JSON, record_id: str) -> tuple[datetime, datetime | None, bool]:
        """Start, end and all-day flag from ``startDate``/``endDate``; ValueError if there is no start."""
        raw_start = _string(event.get("startDate"))
        if raw_start is None:
            raise ValueError("event without startDate")
        try:
            start, all_day = _moment(raw_start)
        except (ValueError, OverflowError):
            raise ValueError(f"startDate unreadable ({raw_start!r})") from None
        raw_end = _string(event.get("endDate"))
        end: datetime | None = None
        if raw_end:
            try:
                end, end_is_date = _moment(raw_end)
            except ValueError:
                self.warn(f"{record_id}: endDate unreadable ({raw_end!r}); ignored")
            else:
                if end_is_date:
                    end += timedelta(days=1)
        elif all_day:
            end = start + timedelta(days=1)
        if end is not None and end < start:
            self.warn(f"{record_id}: endDate before startDate; ignored")
            end = None
        return start, end, all_day

    def listing(
        self,
        event: JSON,
        record_id: str,
        series_key: str | None,
        start: datetime,
        end: datetime | None,
        all_day: bool,
    ) -> Listing:
        """The listing for one event occurrence: its content read by the shared schema.org reader."""
        reader = LenientReader(_Warnings(self, record_id), base_url=self.base_url, resolve=self.resolve)
        content = reader.content("$", event)
        title = content.pop("title")
        if title is None:
            self.warn(f"{record_id}: no name; titled '(ohne Titel)'")
            title = "(ohne Titel)"
        elif self.clean_name is not None:
            title = self.clean_name(title, start, content["venue_name"])
        return Listing(
            source=self.source,
            record_id=record_id,
            title=title,
            fetched_at=self.fetched_at,
            series_key=series_key,
            start=start,
            end=end,
            all_day=all_day,
            raw={"jsonld": event},
            **content,
        )

    def expand(self, schedule: JSON, record_id: str) -> list[tuple[datetime, datetime | None, bool]]:
        """The occurrences of a schema.org Schedule that overlap the window (ongoing ones included)."""
        try:
            return list(self._expand(schedule))
        except (ValueError, TypeError, OverflowError) as error:
            self.warn(f"{record_id}: eventSchedule unreadable ({error}); its startDate used")
            return []

    def _expand(self, schedule: JSON) -> Iterator[tuple[datetime, datetime | None, bool]]:
        zone: tzinfo = BERLIN
        zone_name = _string(schedule.get("scheduleTimezone"))
        if zone_name:
            try:
                zone = ZoneInfo(zone_name)
            except (ValueError, KeyError):
                raise ValueError(f"scheduleTimezone {zone_name!r} unknown") from None
        first = _string(schedule.get("startDate"))
        if first is None:
            raise ValueError("no startDate")
        first_day = _moment(first)[0].date()
        last = _string(schedule.get("endDate"))
        last_day = _moment(last)[0].date() if last else None
        begin = _clock(schedule.get("startTime"))
        finish = _clock(schedule.get("endTime"))
        duration = _duration(_string(schedule.get("duration")))
        frequency, interval = _frequency(schedule.get("repeatFrequency"))
        weekdays = [
            _WEEKDAYS[day]
            for day in (_token(item).lower() for item in _list(schedule.get("byDay")))
            if day in _WEEKDAYS
        ]
        if frequency is None:
            if not weekdays and last_day is None:
                raise ValueError("neither repeatFrequency, byDay nor endDate")
            frequency = rrule.WEEKLY if weekdays else rrule.DAILY
        months = [int(month) for month in _list(schedule.get("byMonth")) if str(month).isdigit()]
        month_days = [int(day) for day in _list(schedule.get("byMonthDay")) if str(day).lstrip("-").isdigit()]
        count = schedule.get("repeatCount")
        excluded = {
            _moment(text)[0].date()
            for text in (_string(item) for item in _list(schedule.get("exceptDate")))
            if text
        }
        rule = rrule.rrule(
            frequency,
            interval=interval,
            dtstart=datetime.combine(first_day, begin or time()),
            until=datetime.combine(last_day, time.max) if last_day else None,
            count=int(str(count)) if str(count).isdigit() else None,
            byweekday=weekdays or None,
            bymonth=months or None,
            bymonthday=month_days or None,
        )
        emitted = 0
        for steps, naive in enumerate(rule, start=1):
            start = naive.replace(tzinfo=zone).astimezone(BERLIN)
            if start >= self.window.end or emitted >= MAX_SCHEDULE_OCCURRENCES:
                return
            if steps > MAX_SCHEDULE_STEPS:
                raise ValueError(f"more than {MAX_SCHEDULE_STEPS} repetitions before the window's end")
            if naive.date() in excluded:
                continue
            end: datetime | None = None
            if begin is None:
                end = start + timedelta(days=1)
            elif finish is not None:
                end = datetime.combine(naive.date(), finish, tzinfo=zone).astimezone(BERLIN)
                end = end if end > start else end + timedelta(days=1)
            elif duration is not None:
                end = start + duration
            if self.window.outside(start, end) == "past":
                continue
            emitted += 1
            yield start, end, begin is None


class _Warnings:
    """The lenient sink: what the shared reader drops becomes a warning naming the record."""

    def __init__(self, reader: _Reader, record_id: str) -> None:
        self.reader = reader
        self.record_id = record_id

    def problem(self, path: str, reason: str) -> None:
        """Warn once about a dropped value."""
        self.reader.warn(f"{self.record_id}: {reason}")


def _is_dated(sub: Any) -> bool:
    """Whether a resolved ``subEvent`` is a node with a ``startDate`` (tested per item, in O(1))."""
    return isinstance(sub, dict) and bool(sub.get("startDate"))


def _undated(url: str) -> str:
    """A URL without the dates in it (and one separator each), for a series key."""
    undated = _DATE_IN_URL.sub(lambda match: match[1] if match[3] else "", url)
    return re.sub(r"(?<!:)//+", "/", undated)


def _inherit(sub: JSON, parent: JSON) -> JSON:
    """A sub-event with the parent's place, image, organiser, offers, language and genre where it has none."""
    merged = dict(sub)
    for key in ("location", "image", "organizer", "offers", "inLanguage", "genre", "name", "url"):
        if key not in merged and key in parent:
            merged[key] = parent[key]
    return merged


def _clock(value: Any) -> time | None:
    """A time of day from ``HH:MM[:SS]`` (an offset, if any, is ignored: schedules are local)."""
    text = _string(value)
    if not text:
        return None
    match = re.match(r"^T?(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if not match:
        raise ValueError(f"time {text!r}")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _duration(text: str | None) -> timedelta | None:
    """A timedelta from an ISO 8601 duration such as ``PT2H30M`` or ``P1D``."""
    if not text:
        return None
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text.strip().upper())
    if not match:
        raise ValueError(f"duration {text!r}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _frequency(value: Any) -> tuple[int | None, int]:
    """The rrule frequency and interval of a ``repeatFrequency`` (``P1W``, ``P2D``, ``weekly``)."""
    text = _string(value)
    if not text:
        return None, 1
    text = _FREQUENCY_WORDS.get(text.strip().lower(), text.strip().upper())
    match = re.fullmatch(r"P(\d+)([DWMY])", text)
    if not match:
        raise ValueError(f"repeatFrequency {text!r}")
    return _FREQUENCIES[match[2]], max(int(match[1]), 1)


class JsonLdSource(DocumentSource):
    """Pages or documents with schema.org events in JSON-LD, configured by settings alone.

    Options: ``name``, ``url``/``urls``, ``venue`` (given to every listing without a location) and
    ``past_days``/``future_days`` (the window). Subclasses may override :meth:`clean_name`.
    """

    abstract: ClassVar[bool] = True
    platform: ClassVar[str] = "jsonld"
    format_label: ClassVar[str] = "JSON-LD"
    format_error: ClassVar[type[DocumentError]] = NotAnEventDocument

    def clean_name(self, name: str, start: datetime | None, location: str | None) -> str:
        """The title for an event name; by default strips a trailing own date and venue."""
        return clean_event_name(name, start, location)

    def read(self, document: Document) -> ReadResult:
        """Parse one document (eagerly, so a broken one fails here)."""
        return parse_jsonld(
            document.body,
            source=self.source_name,
            fetched_at=document.fetched_at,
            base_url=document.url,
            window=self.window(document.fetched_at),
            clean_name=self.clean_name,
        )
