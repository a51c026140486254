"""Squarespace events collections, read through the JSON every collection page gives with ``?format=json``.

The JSON of an events collection (as Squarespace documents its ``format=json`` view and event sites
serve it) holds ``website`` (with ``timeZone``), ``collection`` and the events in ``upcoming`` and
``past`` (other collections: ``items``); each event has ``id``, ``title``, ``fullUrl`` (site-relative),
``startDate``/``endDate`` (epoch milliseconds), ``location`` (``addressTitle``, ``addressLine1``,
``addressLine2``, ``mapLat``/``mapLng`` or ``markerLat``/``markerLng``), ``excerpt`` and ``body``
(HTML), ``assetUrl``, ``tags`` and ``categories``. Further pages are named by
``pagination.nextPageUrl`` (followed on the same host, at most ``max_pages``).

A venue is added in ``settings.toml`` without code::

    [sources.some_club]
    type = "squarespace"
    url = "https://club.example/events"    # the collection page; ?format=json is added
    venue = "Some Club"
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from aggregator.formats.html_text import html_to_text
from aggregator.listing import Listing
from aggregator.window import OutsideCount
from sources.base import Document, LayoutChanged, Source, SourceError, SourceResult
from sources.platforms._document import source_window

DEFAULT_MAX_PAGES = 20


def json_url(url: str) -> str:
    """The collection's JSON view: ``url`` with ``format=json`` (kept if it is there)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["format"] = "json"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def is_collection(data: Any) -> bool:
    """Whether parsed JSON is a Squarespace collection view (``collection`` with events or items)."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("collection"), dict)
        and any(isinstance(data.get(key), list) for key in ("upcoming", "past", "items"))
    )


class SquarespaceSource(Source):
    """A Squarespace events collection; configure ``url`` (the collection page) and ``venue``."""

    abstract = True
    platform: ClassVar[str] = "squarespace"

    def fetch(self) -> Iterator[Document]:
        """The collection's JSON pages, following ``pagination.nextPageUrl`` on the same host."""
        if self.fetcher is None:
            raise SourceError(self.source_name, "no fetcher given")
        limit = int(self.options.get("max_pages", DEFAULT_MAX_PAGES))
        for start in self.urls():
            url: str | None = json_url(start)
            host = urlsplit(start).netloc
            seen: set[str] = set()
            while url is not None:
                if len(seen) >= limit:
                    raise SourceError(self.source_name, f"more than {limit} pages; raise max_pages", url)
                seen.add(url)
                document = self.fetcher.get(url)
                yield document
                following = self._load(document).get("pagination", {})
                next_url = following.get("nextPageUrl") if isinstance(following, dict) else None
                if not next_url or not following.get("nextPage", True):
                    break
                url = json_url(urljoin(document.url, str(next_url)))
                if urlsplit(url).netloc != host or url in seen:
                    raise LayoutChanged(self.source_name, f"unusable nextPageUrl {next_url!r}", document.url)

    def _load(self, document: Document) -> dict[str, Any]:
        try:
            data = json.loads(document.body)
        except ValueError as exc:
            raise LayoutChanged(self.source_name, f"not JSON: {exc}", document.url) from exc
        if not is_collection(data):
            raise LayoutChanged(self.source_name, "JSON is not a Squarespace collection", document.url)
        assert isinstance(data, dict)
        return data

    def run(self) -> SourceResult:
        """Every page's events that overlap the window; the others are counted in one warning."""
        result = SourceResult()
        outside = OutsideCount()
        window = None
        for document in self.fetch():
            window = source_window(self, document.fetched_at)
            for listing in self.parse(document):
                assert listing.start is not None
                if outside.keeps(window, listing.start, listing.end):
                    result.listings.append(listing)
        message = outside.message(window) if window else None
        if message:
            result.warnings.append(message)
        return result

    def parse(self, document: Document) -> Iterator[Listing]:
        """One listing per dated event of one JSON page (window not applied)."""
        data = self._load(document)
        for key in ("upcoming", "past", "items"):
            for event in data.get(key) or []:
                if isinstance(event, dict) and event.get("id") and isinstance(event.get("startDate"), int):
                    yield self._parse_event(event, document)

    def _parse_event(self, event: Mapping[str, Any], document: Document) -> Listing:
        location = event.get("location") if isinstance(event.get("location"), dict) else {}
        assert isinstance(location, dict)
        return Listing(
            source=self.source_name,
            record_id=str(event["id"]),
            series_key=str(event["id"]),
            title=html_to_text(_text(event.get("title"))) or "",
            fetched_at=document.fetched_at,
            url=urljoin(document.url, str(event["fullUrl"])) if event.get("fullUrl") else None,
            start=_epoch(event.get("startDate")),
            end=_epoch(event.get("endDate")),
            description=html_to_text(_text(event.get("body")) or _text(event.get("excerpt"))),
            categories=[str(c) for c in (event.get("categories") or []) if isinstance(c, str)],
            image=_text(event.get("assetUrl")),
            venue_name=_text(location.get("addressTitle")) or self.options.get("venue") or self.venue,
            venue_address=self._parse_address(location),
            geo=self._parse_geo(location),
            raw={"tags": [t for t in (event.get("tags") or []) if isinstance(t, str)]},
        )

    def _parse_address(self, location: Mapping[str, Any]) -> str | None:
        """``addressLine1, addressLine2``."""
        lines = [_text(location.get(key)) for key in ("addressLine1", "addressLine2")]
        return ", ".join(line for line in lines if line) or None

    def _parse_geo(self, location: Mapping[str, Any]) -> tuple[float, float] | None:
        """The map pin (``mapLat``/``mapLng``, else the marker); Squarespace writes 0,0 for none."""
        for lat, lng in (("mapLat", "mapLng"), ("markerLat", "markerLng")):
            try:
                point = float(location[lat]), float(location[lng])
            except (KeyError, TypeError, ValueError):
                continue
            if point != (0.0, 0.0):
                return point
        return None


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, list | dict | bool):
        return None
    text = str(value).strip()
    return text or None
