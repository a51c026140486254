"""WordPress "The Events Calendar" (Tribe) sites, read through their REST API.

The API lives at ``<site>/wp-json/tribe/events/v1/events`` and answers pages of JSON::

    {"events": [...], "total": 74, "total_pages": 2, "rest_url": "...", "next_rest_url": "..."}

Each event carries ``id``, ``global_id``, ``url``, ``title`` (with HTML entities), ``description``
(HTML), ``start_date``/``end_date`` (site-local ``YYYY-MM-DD HH:MM:SS``), ``utc_start_date``/
``utc_end_date``, ``timezone``, ``all_day``, ``cost``/``cost_details``, ``website``, ``image``,
``categories``, ``tags``, ``venue`` (an object, or ``[]`` when none) and ``organizer`` (a list).

A site is added in ``settings.toml`` without code::

    [sources.dortmunder_u]
    type = "tribe"
    url = "https://dortmunder-u.de"      # the site, or the full API URL
    venue = "Dortmunder U"               # used when an event names no venue

The requested window is the source's window (``past_days``/``future_days``, filled from
``[ingest]``) around the ``now`` the caller passes in the option ``now`` (an aware datetime); the
wall clock is never read. Without ``now`` the first page asks for the API's default (upcoming
events), a URL that stays the same every day, and every event is kept. With ``now``, only events
that overlap the window are kept; the others are counted and said in the run's ``warnings``.
Further options: ``start_date`` (an ISO date, or days from ``now``; overrides the window's start in
the request), ``per_page`` (default 50), ``max_pages`` (default 40). The API does not expose a
recurrence parent, so ``series_key`` is the event's own id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.formats.html_text import html_to_text
from aggregator.listing import Listing, OfferListing
from aggregator.types import BERLIN
from aggregator.window import OutsideCount, Window
from sources.base import Document, LayoutChanged, Source, SourceError, SourceResult
from sources.platforms._document import source_window

API_PATH = "/wp-json/tribe/events/v1/events"
_STAMP = "%Y-%m-%d %H:%M:%S"
_UTC_OFFSET = re.compile(r"^UTC([+-])(\d{1,2})(?:([.:])(\d{1,2}))?$")


class TribeEventsSource(Source):
    """A site running The Events Calendar; configure ``url`` and ``venue``, or subclass with them."""

    abstract = True
    platform: ClassVar[str] = "tribe"
    per_page: ClassVar[int] = 50
    max_pages: ClassVar[int] = 40

    def api_url(self) -> str:
        """The events endpoint: the configured URL if it is one, else the site URL plus the API path."""
        urls = self.urls()
        if not urls:
            raise SourceError(self.source_name, "no url configured for this Tribe site")
        url = urls[0]
        parts = urlsplit(url)
        if "/wp-json/" in parts.path:
            return url
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + API_PATH, "", ""))

    def now(self) -> datetime | None:
        """The window's centre: option ``now``, else the fetcher's (a snapshot's recording day)."""
        now = self.options.get("now")
        if now is None:
            return self.fetcher.now() if self.fetcher is not None else None
        if not (isinstance(now, datetime) and now.utcoffset() is not None):
            raise SourceError(self.source_name, f"option now: expected an aware datetime, got {now!r}")
        return now

    def first_page_url(self) -> str:
        """The first page: the window around ``now`` as ``start_date``/``end_date``, ``per_page`` a page."""
        parts = urlsplit(self.api_url())
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        now = self.now()
        start = self._start_date(now)
        if now is not None:
            window = source_window(self, now)
            first = start or window.start.astimezone(BERLIN).date()
            query.setdefault("start_date", first.isoformat())
            query.setdefault("end_date", window.end.astimezone(BERLIN).date().isoformat())
        elif start is not None:
            query.setdefault("start_date", start.isoformat())
        query.setdefault("per_page", str(self.options.get("per_page", self.per_page)))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))

    def _start_date(self, now: datetime | None) -> date | None:
        configured = self.options.get("start_date")
        if configured is None or isinstance(configured, date):
            return configured
        if isinstance(configured, int) and not isinstance(configured, bool):
            if now is None:
                raise SourceError(self.source_name, "option start_date: days from now, but no now given")
            return now.astimezone(BERLIN).date() + timedelta(days=configured)
        try:
            return date.fromisoformat(str(configured))
        except ValueError as exc:
            raise SourceError(
                self.source_name, f"option start_date: not a day offset or date: {configured!r}"
            ) from exc

    def fetch(self) -> Iterator[Document]:
        """Every page of the window, following ``next_rest_url`` on the same host."""
        if self.fetcher is None:
            raise SourceError(self.source_name, "no fetcher given")
        max_pages = int(self.options.get("max_pages", self.max_pages))
        url: str | None = self.first_page_url()
        host = urlsplit(url).netloc
        seen: set[str] = set()
        while url is not None:
            if len(seen) >= max_pages:
                raise SourceError(self.source_name, f"more than {max_pages} pages; raise max_pages", url)
            seen.add(url)
            document = self.fetcher.get(url)
            yield document
            next_url = self._load(document).get("next_rest_url")
            if not next_url:
                return
            if not isinstance(next_url, str) or urlsplit(next_url).netloc != host or next_url in seen:
                raise LayoutChanged(self.source_name, f"unusable next_rest_url {next_url!r}", document.url)
            url = next_url

    def _load(self, document: Document) -> dict[str, Any]:
        try:
            data = json.loads(document.body)
        except ValueError as exc:
            raise LayoutChanged(self.source_name, f"not JSON: {exc}", document.url) from exc
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise LayoutChanged(self.source_name, "JSON has no 'events' list", document.url)
        return data

    def run(self) -> SourceResult:
        """Every page of the window; the events left out of it are counted in one warning."""
        window = self._window(self.now())
        outside = OutsideCount()
        result = SourceResult()
        for document in self.fetch():
            result.listings.extend(self._in_window(document, window, outside))
        message = outside.message(window) if window else None
        if message:
            result.warnings.append(message)
        return result

    def _window(self, now: datetime | None) -> Window | None:
        return source_window(self, now) if now is not None else None

    def parse(self, document: Document) -> Iterator[Listing]:
        """One listing per event on this page (in the window, if ``now`` is given).

        An empty first page must say ``total: 0``.
        """
        return self._in_window(document, self._window(self.now()), OutsideCount())

    def _in_window(
        self, document: Document, window: Window | None, outside: OutsideCount
    ) -> Iterator[Listing]:
        """The page's listings that overlap ``window``; the others are counted in ``outside``."""
        for listing in self._parse_page(document):
            if window is None or listing.start is None or outside.keeps(window, listing.start, listing.end):
                yield listing

    def _parse_page(self, document: Document) -> Iterator[Listing]:
        data = self._load(document)
        events = data["events"]
        if not events and _page_number(document.url) == 1 and str(data.get("total")) != "0":
            raise LayoutChanged(
                self.source_name,
                f"no events on the first page, but total is {data.get('total')!r}",
                document.url,
            )
        for event in events:
            if isinstance(event, dict) and (event.get("id") or event.get("global_id")):
                yield self._parse_event(event, document)

    def _parse_event(self, event: Mapping[str, Any], document: Document) -> Listing:
        zone = self._parse_zone(event)
        venue = event.get("venue") if isinstance(event.get("venue"), dict) else {}
        assert isinstance(venue, dict)
        start = self._parse_time(event, "start", zone)
        return Listing(
            source=self.source_name,
            record_id=self._parse_record_id(event, document),
            series_key=str(event.get("id") or event.get("global_id")),
            title=html_to_text(str(event.get("title") or "")) or "",
            fetched_at=document.fetched_at,
            url=_text(event.get("url")),
            start=start,
            end=self._parse_time(event, "end", zone),
            all_day=bool(event.get("all_day")),
            date_text=None if start else _text(event.get("start_date")),
            description=html_to_text(_text(event.get("description"))),
            categories=_names(event.get("categories")),
            image=self._parse_image(event),
            organiser=self._parse_organiser(event),
            venue_name=html_to_text(_text(venue.get("venue"))) or self.options.get("venue") or self.venue,
            venue_address=self._parse_address(venue),
            venue_url=_text(venue.get("url")),
            geo=self._parse_geo(venue),
            offers=self._parse_offers(event),
            raw={
                "id": event.get("id"),
                "global_id": event.get("global_id"),
                "tags": _names(event.get("tags")),
            },
        )

    def _parse_record_id(self, event: Mapping[str, Any], document: Document) -> str:
        """The site-independent ``global_id`` (``host?id=N``), else the host plus the post id."""
        if event.get("global_id"):
            return str(event["global_id"])
        return f"{urlsplit(document.url).netloc}?id={event['id']}"

    def _parse_zone(self, event: Mapping[str, Any]) -> tzinfo:
        """The event's zone: an IANA name, a ``UTC+2``-style offset, else the source's zone."""
        name = str(event.get("timezone") or "")
        offset = _UTC_OFFSET.match(name)
        if offset:
            sign, hours, separator, rest = offset.groups()
            minutes = 0 if not rest else round(float(f"0.{rest}") * 60) if separator == "." else int(rest)
            delta = timedelta(hours=int(hours), minutes=minutes)
            return timezone(-delta if sign == "-" else delta)
        try:
            return ZoneInfo(name) if name else ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.timezone)

    def _parse_time(self, event: Mapping[str, Any], which: str, zone: tzinfo) -> datetime | None:
        """Start or end from ``utc_<which>_date``; the local ``<which>_date`` for all-day events."""
        utc_value = _stamp(event.get(f"utc_{which}_date"))
        local_value = _stamp(event.get(f"{which}_date"))
        if local_value is not None and (event.get("all_day") or utc_value is None):
            return local_value.replace(tzinfo=zone)
        if utc_value is not None:
            return utc_value.replace(tzinfo=UTC)
        return None

    def _parse_image(self, event: Mapping[str, Any]) -> str | None:
        """The featured image URL (``image`` is ``false`` when there is none)."""
        image = event.get("image")
        return _text(image.get("url")) if isinstance(image, dict) else None

    def _parse_organiser(self, event: Mapping[str, Any]) -> str | None:
        """The organisers' names, joined."""
        organisers = event.get("organizer")
        if isinstance(organisers, dict):
            organisers = [organisers]
        if not isinstance(organisers, list):
            return None
        names = [html_to_text(_text(o.get("organizer"))) for o in organisers if isinstance(o, dict)]
        return ", ".join(name for name in names if name) or None

    def _parse_address(self, venue: Mapping[str, Any]) -> str | None:
        """``street, zip city`` from the venue object."""
        street = _text(venue.get("address"))
        town = " ".join(part for part in (_text(venue.get("zip")), _text(venue.get("city"))) if part)
        return ", ".join(part for part in (street, town) if part) or None

    def _parse_geo(self, venue: Mapping[str, Any]) -> tuple[float, float] | None:
        """Latitude and longitude, when both are numbers."""
        try:
            return float(venue["geo_lat"]), float(venue["geo_lng"])
        except (KeyError, TypeError, ValueError):
            return None

    def _parse_offers(self, event: Mapping[str, Any]) -> list[OfferListing]:
        """The cost as written (normalisation reads it) with the numeric values the API lists."""
        cost = html_to_text(_text(event.get("cost")))
        if not cost:
            return []
        details = event.get("cost_details") if isinstance(event.get("cost_details"), dict) else {}
        assert isinstance(details, dict)
        values: list[Decimal] = []
        for value in details.get("values") or []:
            try:
                values.append(Decimal(str(value)))
            except InvalidOperation:
                continue
        return [
            OfferListing(
                price_text=cost,
                price_min=min(values) if values else None,
                price_max=max(values) if values else None,
                url=_text(event.get("website")),
            )
        ]


def _page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("page")
    try:
        return int(values[-1]) if values else 1
    except ValueError:
        return 1


def _text(value: Any) -> str | None:
    if value is None or value is False or isinstance(value, list | dict):
        return None
    text = str(value).strip()
    return text or None


def _stamp(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), _STAMP) if value else None
    except ValueError:
        return None


def _names(terms: Any) -> list[str]:
    if not isinstance(terms, list):
        return []
    names = [html_to_text(_text(t.get("name"))) for t in terms if isinstance(t, dict)]
    return [name for name in names if name]
