"""The iCalendar feed routes: database rows to :class:`~calendar_api.ical_feed.FeedItem`, served cached.

* ``/feeds/events.ics`` takes the same filters as ``/api/v1/events``;
  ``/feeds/venues/{slug}.ics`` and ``/feeds/categories/{slug}.ics`` add their slug to them;
  ``/events/{id}.ics`` is one event with all its occurrences.
* One VEVENT per occurrence. UID ``<occurrence id>@<feeds.uid_domain>`` never changes; SEQUENCE and
  LAST-MODIFIED are the occurrence's; DTSTAMP is the newest change among the feed's own rows (the
  time of the data version the feed shows, as far as this feed is concerned).
* Window: from yesterday to 400 days ahead (Berlin days) unless ``from``/``to`` say otherwise.
  Cancelled occurrences stay for ``feeds.cancelled_retention_days`` after they last changed — and
  so do vanished ones (a date no source lists any more becomes cancelled, see
  :func:`aggregator.derive.derive_occurrence`): a source dropping a date usually means it is off.
* Hidden by an editor (an event or one occurrence): the VEVENT is left out of every feed at once,
  not sent as ``STATUS:CANCELLED``. Hiding is not cancelling — the performance may well take place
  (a duplicate the matcher missed, an entry that is not for the public calendar) — and "Abgesagt:"
  would tell subscribers something false and stay in their calendars, struck through, for the
  retention days. Subscribed calendars (Apple, Google, Outlook, Thunderbird, ICSx⁵) replace the
  whole calendar at each refresh, so a UID that is gone is dropped. The hidden occurrence's
  SEQUENCE moves, so that if it is shown again it comes back newer than any copy a client kept.
  A hidden event's own ``/events/{id}.ics`` answers an empty calendar (subscribers drop every date);
  its page and JSON answer 410 Gone.
* ``webcal://`` is the same path: a client subscribing by webcal fetches it over http(s).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from aggregator.config import Settings
from aggregator.derive import availability_of
from aggregator.models import Event, Occurrence, Offer, Venue
from aggregator.types import BERLIN, Availability, Status
from calendar_api import queries
from calendar_api.caching import Publisher
from calendar_api.demo_notice import demo_notice
from calendar_api.filters import (
    FILTER_NAMES,
    EventFilter,
    berlin_midnight,
    feed_window,
    no_parameters,
    parse_filters,
    path_value,
)
from calendar_api.ical_feed import ICAL_MEDIA_TYPE, FeedCalendar, FeedItem, render_calendar
from calendar_api.json_shapes import CategoryCatalog
from calendar_api.problems import gone, not_found

_AVAILABILITY_DE = {
    Availability.AVAILABLE.value: "Karten erhältlich",
    Availability.FEW_LEFT.value: "Nur noch wenige Karten",
    Availability.SOLD_OUT.value: "Ausverkauft",
    Availability.WAITING_LIST.value: "Ausverkauft, Warteliste",
    Availability.FREE.value: "Eintritt frei",
    Availability.NOT_BOOKABLE_ONLINE.value: "Karten nicht online buchbar",
}


class Moved(Exception):
    """The requested event was merged into ``target``."""

    def __init__(self, old: str, target: str) -> None:
        self.old = old
        self.target = target
        super().__init__(f"event {old} was merged into {target}")


def missing_event(session: Session, event_id: str) -> Exception:
    """What to raise for an id with no event: :class:`Moved` when it was merged, else a 404 problem."""
    target = queries.redirect_target(session, event_id)
    if target is not None:
        return Moved(event_id, target)
    return not_found(f"There is no event {event_id!r}.")


def public_view(session: Session, event_id: str, today: datetime) -> queries.EventView:
    """The event for its public page and JSON: :class:`Moved`, 404 when there is none, 410 when hidden."""
    view = queries.event_view(session, event_id, today)
    if view is None:
        raise missing_event(session, event_id)
    if view.event.hidden:
        raise gone(f"The event {event_id!r} was taken off the calendar.")
    return view


class Feeds:
    """The feed endpoints of one app."""

    def __init__(self, publisher: Publisher, settings: Settings, categories: CategoryCatalog) -> None:
        self.publisher = publisher
        self.settings = settings
        self.categories = categories
        self.base_url = settings.server.base_url.rstrip("/")
        self.cache_control = f"public, max-age={settings.feeds.max_age_seconds}"
        notices = (demo_notice(settings.demo, "de"), demo_notice(settings.demo, "en"))
        self.demo_notice = " ".join(text for text in notices if text)

    def routes(self) -> list[Route]:
        """The feed routes (GET and HEAD)."""
        return [
            Route("/feeds/events.ics", self.events_feed, methods=["GET"], name="feed_events"),
            Route("/feeds/venues/{slug}.ics", self.venue_feed, methods=["GET"], name="feed_venue"),
            Route("/feeds/categories/{slug}.ics", self.category_feed, methods=["GET"], name="feed_category"),
            Route("/events/{id}.ics", self.event_feed, methods=["GET"], name="feed_event"),
        ]

    def feed_url(self, path: str, query: str = "") -> str:
        """The absolute https URL of a feed."""
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def events_feed(self, request: Request) -> Response:
        """All events matching the filters."""
        filters = parse_filters(request.query_params.multi_items(), FILTER_NAMES)
        return self._filtered(request, filters, extra_venue=None, extra_category=None)

    def venue_feed(self, request: Request) -> Response:
        """The events at one venue (further filters allowed)."""
        filters = parse_filters(request.query_params.multi_items(), FILTER_NAMES)
        slug = path_value(request.path_params, "slug")
        return self._filtered(request, filters, extra_venue=slug, extra_category=None)

    def category_feed(self, request: Request) -> Response:
        """The events of one category (further filters allowed)."""
        slug = path_value(request.path_params, "slug")
        filters = parse_filters(request.query_params.multi_items(), FILTER_NAMES)
        if self.categories.has_vocabulary and self.categories.get(slug) is None:
            raise not_found(f"There is no category {slug!r}; see /api/v1/categories.")
        return self._filtered(request, filters, extra_venue=None, extra_category=slug)

    def event_feed(self, request: Request) -> Response:
        """One event with every occurrence it has."""
        no_parameters(request.query_params.multi_items())
        event_id = path_value(request.path_params, "id")

        today = berlin_midnight(self.publisher.clock().astimezone(BERLIN).date())

        def render(session: Session, version: queries.DataVersion) -> tuple[bytes, str, datetime]:
            found = queries.event_feed_rows(session, event_id, today)
            if found is None:
                raise missing_event(session, event_id)
            event, rows = found
            name = self.settings.server.calendar_name if event.hidden else event.title
            description = f"{name} — {self.settings.server.calendar_name}"
            calendar = self._calendar(name, description, self.feed_url(request.url.path))
            return self._render(calendar, rows, version), ICAL_MEDIA_TYPE, version.time

        try:
            return self.publisher.serve(
                request, kind="feed", query="", bucket=None, render=render, cache_control=self.cache_control
            )
        except Moved as moved:
            return RedirectResponse(
                f"/events/{moved.target}.ics", status_code=308, headers={"Cache-Control": self.cache_control}
            )

    def _filtered(
        self, request: Request, filters: EventFilter, *, extra_venue: str | None, extra_category: str | None
    ) -> Response:
        now = self.publisher.clock()
        today = now.astimezone(BERLIN).date()
        window = feed_window(filters, now, days_before=self.settings.feeds.past_days)
        retention = timedelta(days=self.settings.feeds.cancelled_retention_days)
        cancelled_since = berlin_midnight(today - retention)
        query = filters.query_string()
        if extra_venue is not None:
            filters = replace(filters, venues=(*filters.venues, extra_venue))
        if extra_category is not None:
            filters = replace(filters, categories=(*filters.categories, extra_category))
        source_url = self.feed_url(request.url.path, query)

        def render(session: Session, version: queries.DataVersion) -> tuple[bytes, str, datetime]:
            venues = [queries.venue(session, slug) for slug in filters.venues]
            if extra_venue is not None and venues[-1] is None:
                raise not_found(f"There is no venue {extra_venue!r}; see /api/v1/venues.")
            name = self.feed_name(filters, [v for v in venues if v is not None])
            rows = queries.feed_rows(session, filters, window, cancelled_since=cancelled_since)
            calendar = self._calendar(name, self._description(name), source_url)
            return self._render(calendar, rows, version), ICAL_MEDIA_TYPE, version.time

        return self.publisher.serve(
            request,
            kind="feed",
            query=query,
            bucket=berlin_midnight(today),
            render=render,
            cache_control=self.cache_control,
        )

    def feed_name(self, filters: EventFilter, venues: Sequence[Venue]) -> str:
        """What the calendar is called in a client, e.g. "Konzerthaus Dortmund — Konzert"."""
        head = " / ".join(v.name for v in venues) if venues else self.settings.server.calendar_name
        qualifiers = []
        if filters.categories:
            qualifiers.append(", ".join(self.categories.label(slug) for slug in filters.categories))
        if filters.district:
            qualifiers.append(filters.district)
        if filters.terms:
            qualifiers.append("„" + " ".join(filters.terms) + "“")
        qualifiers.extend(
            text
            for flag, text in (
                (filters.free, "Eintritt frei"),
                (filters.available, "Karten erhältlich"),
                (filters.accessible, "barrierefreie Orte"),
            )
            if flag
        )
        if filters.lang:
            qualifiers.append(f"Sprache {filters.lang}")
        return head + (" — " + ", ".join(qualifiers) if qualifiers else "")

    def _description(self, name: str) -> str:
        days = self.settings.feeds.cancelled_retention_days
        return (
            f"{name}: Veranstaltungen aus dem {self.settings.server.calendar_name}. "
            f"Abgesagte Termine bleiben {days} Tage mit „Abgesagt:“ im Kalender."
        )

    def _calendar(self, name: str, description: str, source_url: str) -> FeedCalendar:
        if self.demo_notice:  # first, where clients that shorten the description still show it
            description = f"{self.demo_notice} {description}"
        return FeedCalendar(
            name=name,
            description=description,
            url=self.base_url + "/",
            source_url=source_url,
            refresh_interval=self.settings.feeds.refresh_interval,
            color=self.settings.feeds.color or None,
        )

    def _render(
        self, calendar: FeedCalendar, rows: Sequence[queries.FeedRow], version: queries.DataVersion
    ) -> bytes:
        # DTSTAMP is the newest change among this feed's own rows, not of all data: a change
        # elsewhere then leaves this feed's bytes, and so its ETag, as they were.
        stamp = max((_changed(row) for row in rows), default=version.time)
        items = [
            feed_item(
                row, uid_domain=self.settings.feeds.uid_domain, dtstamp=stamp, label=self.categories.label
            )
            for row in rows
        ]
        return render_calendar(calendar, items)


def _changed(row: queries.FeedRow) -> datetime:
    """When anything this row shows last changed (occurrence, event or venue)."""
    venue = row.event.venue
    times = [row.occurrence.updated_at, row.event.updated_at, *([venue.updated_at] if venue else [])]
    return max(times)


def feed_item(
    row: queries.FeedRow, *, uid_domain: str, dtstamp: datetime, label: Callable[[str], str] = str
) -> FeedItem:
    """One occurrence as a feed item: stable UID, the occurrence's SEQUENCE and LAST-MODIFIED."""
    occurrence, event = row.occurrence, row.event
    venue = event.venue
    try:
        status = Status(occurrence.status)
    except ValueError:
        status = Status.SCHEDULED
    geo = None
    if venue is not None and venue.lat is not None and venue.lon is not None:
        geo = (venue.lat, venue.lon)
    return FeedItem(
        uid=f"{occurrence.id}@{uid_domain}",
        sequence=occurrence.sequence,
        dtstamp=dtstamp,
        last_modified=occurrence.updated_at,
        created=occurrence.created_at,
        start=occurrence.start,
        end=occurrence.end,
        all_day=occurrence.all_day,
        summary=event.title,
        description=describe(event, occurrence, row.sources) or None,
        location=location(venue, occurrence.room),
        geo=geo,
        url=event.url,
        categories=tuple(label(str(c)) for c in event.categories or []),
        status=status,
        image=event.image,
        image_type=mimetypes.guess_type(event.image)[0] if event.image else None,
    )


def location(venue: Venue | None, room: str | None) -> str | None:
    """Venue name, room and address, one per line."""
    if venue is None:
        return room
    city = " ".join(part for part in (venue.postcode, venue.city) if part)
    parts = [venue.name, room, venue.street, city]
    return "\n".join(part for part in parts if part)


def describe(event: Event, occurrence: Occurrence, sources: Sequence[queries.SourceRef]) -> str:
    """DESCRIPTION: subtitle, description, price, availability, ticket link and source links."""
    blocks: list[str] = []
    if event.subtitle:
        blocks.append(event.subtitle)
    if event.description:
        blocks.append(event.description)
    facts = []
    if occurrence.status == Status.RESCHEDULED.value and occurrence.previous_start is not None:
        before = occurrence.previous_start.astimezone(BERLIN)
        facts.append(f"Verlegt, ursprünglich am {before:%d.%m.%Y um %H:%M} Uhr.")
    if occurrence.room:
        facts.append(f"Raum: {occurrence.room}")
    price = price_text(occurrence.offers)
    if price:
        facts.append(price)
    availability = availability_of(occurrence.offers)
    if availability is not None and availability != Availability.FREE:
        facts.append(_AVAILABILITY_DE[availability.value])
    ticket = next((offer.url for offer in occurrence.offers if offer.url), None)
    if ticket:
        facts.append(f"Karten: {ticket}")
    if facts:
        blocks.append("\n".join(facts))
    links = list(dict.fromkeys(url for url in [event.url, *(s.url for s in sources)] if url))
    if links:
        blocks.append("\n".join(f"Quelle: {url}" for url in links))
    return "\n\n".join(blocks)


def price_text(offers: Sequence[Offer]) -> str | None:
    """German price line: "Eintritt frei", "Eintritt: 12 €" or "Eintritt: 12–25 €" (None when unknown)."""
    if any(o.availability == Availability.FREE.value for o in offers):
        return "Eintritt frei"
    low = [o.price_min if o.price_min is not None else o.price_max for o in offers]
    high = [o.price_max if o.price_max is not None else o.price_min for o in offers]
    lows = [value for value in low if value is not None]
    highs = [value for value in high if value is not None]
    if not lows:
        texts = [o.price_text for o in offers if o.price_text]
        return f"Preis: {texts[0]}" if texts else None
    currency = next((o.currency for o in offers if o.price_min is not None or o.price_max is not None), "EUR")
    least, most = min(lows), max(highs)
    if most == 0:
        return "Eintritt frei"
    symbol = "€" if currency == "EUR" else currency
    if least == most:
        return f"Eintritt: {_amount(least)} {symbol}"
    return f"Eintritt: {_amount(least)}–{_amount(most)} {symbol}"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",").removesuffix(",00")
