"""Reading schema.org ``Event`` data (JSON-LD) from a JSON document or an HTML page into listings.

Reads every ``<script type="application/ld+json">`` block of a page (a broken block costs only
itself), or a whole ``.json``/``.jsonld`` document (:mod:`.json_blocks`); follows ``@graph``,
``ItemList`` and ``mainEntity`` and resolves ``{"@id": ...}`` references within the document
(:mod:`.graph`). Every object whose ``@type`` is ``Event``, one of its subtypes, or any other type
ending in ``Event`` is an event; its content is read by the one Event reader (:mod:`.event_reader`),
its record id and series key are made by :mod:`.event_keys`.

What becomes a listing:

- an event with ``startDate`` — one listing; date-only values are all-day, naive times are
  Europe/Berlin, a date-only ``endDate`` is inclusive and becomes the next midnight;
- an event with dated ``subEvent`` entries — one listing per sub-event (the parent is the series and
  lends them its place, image, organiser and offers where they have none);
- an event with ``eventSchedule`` — one listing per occurrence in the window (:mod:`.event_schedule`
  says what a schedule may hold and how far it is expanded);
- an event without any start is rejected.

Given a window (:class:`~aggregator.window.Window`), only events that overlap it become listings
(one that began before it and still runs, an exhibition, is kept) and those wholly before or after it
are counted in ``outside`` and said in one warning. Without one, every dated event is kept and
``eventSchedule`` is expanded from the day of ``fetched_at`` for
:data:`~aggregator.window.DEFAULT_FUTURE_DAYS`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.formats.read_result import UNTITLED, ReadResult
from aggregator.formats.record_ids import make_record_ids_unique
from aggregator.formats.schemaorg import event_keys
from aggregator.formats.schemaorg.event_names import NameCleaner
from aggregator.formats.schemaorg.event_reader import LenientReader, as_list, lenient_moment, plain_string
from aggregator.formats.schemaorg.event_schedule import Occurrence, expand_schedule
from aggregator.formats.schemaorg.graph import Graph, entities, is_event
from aggregator.formats.schemaorg.json_blocks import json_blocks
from aggregator.listing import Listing, Rejection
from aggregator.types import JSON
from aggregator.window import Window


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
    (see :func:`~aggregator.formats.schemaorg.event_names.clean_event_name`) rewrites each title.
    Raises :class:`~aggregator.formats.schemaorg.json_blocks.NotAnEventDocument` when there is no
    JSON-LD at all; broken blocks and records are reported in the result.
    """
    notes: list[str] = []
    origin = origin or base_url or ""
    documents = json_blocks(data, origin, source, notes)
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
    graph = Graph(documents, base_url)
    reader = _DocumentReader(
        source, fetched_at, graph, bounds, clean_name, result, filtered=window is not None
    )
    for entity in entities(documents):
        entity = graph.resolve(entity)
        if isinstance(entity, dict) and is_event(entity):
            result.records += 1
            try:
                reader.read_event(entity)
            except Exception as error:  # isolation: one odd record must not cost the document
                reader.reject(plain_string(entity.get("@id")), f"unusable ({type(error).__name__}: {error})")
    if not result.records:
        result.warnings.append("the JSON-LD holds no Event")
    make_record_ids_unique(
        result.listings, result.warnings, separator="#", why="used by several events; disambiguated by start"
    )
    outside = result.outside.message(bounds)
    if outside:
        result.warnings.append(outside)
    return result


class _DocumentReader:
    """Turns the schema.org Event objects of one document into listings, warnings and rejections."""

    def __init__(
        self,
        source: str,
        fetched_at: datetime,
        graph: Graph,
        window: Window,
        clean_name: NameCleaner | None,
        result: ReadResult,
        *,
        filtered: bool,
    ) -> None:
        self.source = source
        self.fetched_at = fetched_at
        self.graph = graph
        self.window = window
        self.filtered = filtered
        self.clean_name = clean_name
        self.result = result

    def reject(self, record_id: str | None, reason: str, field_name: str | None = None) -> None:
        """Record a rejection and the matching warning."""
        self.result.reject(Rejection(self.source, record_id, reason, field_name), record_id or "event")

    def read_event(self, event: JSON) -> None:
        """Listings for one top-level event: itself, its sub-events, or its schedule."""
        graph = self.graph
        base_id = event_keys.base_record_id(graph, event)
        subs = [graph.resolve(sub) for sub in as_list(event.get("subEvent"))]
        if any(_is_dated(sub) for sub in subs):
            series = graph.url(event.get("@id")) or graph.url(event.get("url")) or base_id
            for sub in subs:
                if _is_dated(sub):
                    self.emit(_inherit(sub, event), series_key=series, parent=base_id)
                else:
                    name = plain_string(sub.get("name")) if isinstance(sub, dict) else sub
                    self.reject(f"{base_id} subEvent {name!r}", "subEvent without startDate", "start")
            return
        if event.get("eventSchedule") and not event.get("subEvent"):
            schedules = [graph.resolve(item) for item in as_list(event["eventSchedule"])]
            occurrences = [
                start for item in schedules if isinstance(item, dict) for start in self.expand(item, base_id)
            ]
            if occurrences:
                for start, end, all_day in occurrences:
                    self.emit(
                        event, series_key=event_keys.series_key(graph, event), times=(start, end, all_day)
                    )
                return
        self.emit(event, series_key=event_keys.series_key(graph, event))

    def emit(
        self,
        event: JSON,
        *,
        series_key: str | None,
        parent: str | None = None,
        times: Occurrence | None = None,
    ) -> None:
        """Append the listing for one dated event (rejected with a reason if it cannot be one)."""
        record_id = event_keys.base_record_id(self.graph, event)
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

    def times(self, event: JSON, record_id: str) -> Occurrence:
        """Start, end and all-day flag from ``startDate``/``endDate``; ValueError if there is no start."""
        raw_start = plain_string(event.get("startDate"))
        if raw_start is None:
            raise ValueError("event without startDate")
        try:
            start, all_day = lenient_moment(raw_start)
        except (ValueError, OverflowError):
            raise ValueError(f"startDate unreadable ({raw_start!r})") from None
        raw_end = plain_string(event.get("endDate"))
        end: datetime | None = None
        if raw_end:
            try:
                end, end_is_date = lenient_moment(raw_end)
            except ValueError:
                self.result.warn(f"{record_id}: endDate unreadable ({raw_end!r}); ignored")
            else:
                if end_is_date:
                    end += timedelta(days=1)
        elif all_day:
            end = start + timedelta(days=1)
        if end is not None and end < start:
            self.result.warn(f"{record_id}: endDate before startDate; ignored")
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
        reader = LenientReader(
            _Warnings(self, record_id), base_url=self.graph.base_url, resolve=self.graph.resolve
        )
        content = reader.content("$", event)
        title = content.pop("title")
        if title is None:
            self.result.warn(f"{record_id}: no name; titled {UNTITLED!r}")
            title = UNTITLED
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

    def expand(self, schedule: JSON, record_id: str) -> list[Occurrence]:
        """The occurrences of a schema.org Schedule that overlap the window (ongoing ones included)."""
        try:
            return list(expand_schedule(schedule, self.window))
        except (ValueError, TypeError, OverflowError) as error:
            self.result.warn(f"{record_id}: eventSchedule unreadable ({error}); its startDate used")
            return []


class _Warnings:
    """The lenient sink: what the shared reader drops becomes a warning naming the record."""

    def __init__(self, reader: _DocumentReader, record_id: str) -> None:
        self.reader = reader
        self.record_id = record_id

    def problem(self, path: str, reason: str) -> None:
        """Warn once about a dropped value."""
        self.reader.result.warn(f"{self.record_id}: {reason}")


def _is_dated(sub: Any) -> bool:
    """Whether a resolved ``subEvent`` is a node with a ``startDate`` (tested per item, in O(1))."""
    return isinstance(sub, dict) and bool(sub.get("startDate"))


def _inherit(sub: JSON, parent: JSON) -> JSON:
    """A sub-event with the parent's place, image, organiser, offers, language and genre where it has none."""
    merged = dict(sub)
    for key in ("location", "image", "organizer", "offers", "inLanguage", "genre", "name", "url"):
        if key not in merged and key in parent:
            merged[key] = parent[key]
    return merged
