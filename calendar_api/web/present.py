"""What the templates show, computed from the API's :class:`~calendar_api.queries.EventView` rows.

Everything here is plain text and safe URLs; the templates escape the text (autoescape is on) and
never receive markup from the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from aggregator.derive import availability_of
from aggregator.licences import Licences
from aggregator.models import Occurrence, Offer, Venue
from aggregator.types import BERLIN, Availability, Status
from calendar_api.json_shapes import CategoryCatalog
from calendar_api.queries import EventView
from calendar_api.web.i18n import Texts

NEXT_DATES_SHOWN = 3
_BADGE_AVAILABILITY = (
    Availability.SOLD_OUT.value,
    Availability.FEW_LEFT.value,
    Availability.WAITING_LIST.value,
)


@dataclass(frozen=True, slots=True)
class Badge:
    """A short label next to an event; ``kind`` picks its look (``cancelled``, ``sold_out``, ``free``...)."""

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Card:
    """One event in a list, shown at its next matching occurrence."""

    id: str
    url: str
    title: str
    subtitle: str | None
    venue: str | None
    categories: list[str]
    day: date
    short_date: str
    when: str
    start_iso: str
    cancelled: bool
    badges: list[Badge]
    price: str | None
    dates_count: int
    next_dates: list[str]
    highlight: bool = False


@dataclass(frozen=True, slots=True)
class DayGroup:
    """The events of one Berlin day."""

    day: date
    heading: str
    cards: list[Card]


@dataclass(frozen=True, slots=True)
class OfferLine:
    """One source's offer for one date."""

    source: str
    price: str | None
    availability: str | None
    url: str | None
    link_text: str


@dataclass(frozen=True, slots=True)
class DateLine:
    """One occurrence on the event page."""

    day: str
    time: str
    start_iso: str
    cancelled: bool
    badges: list[Badge]
    room: str | None
    previously: str | None
    offers: list[OfferLine]


@dataclass(frozen=True, slots=True)
class Place:
    """The venue block of the event page."""

    name: str
    street: str | None
    town: str | None
    district: str | None
    map_url: str | None
    website: str | None
    accessibility: str | None


@dataclass(frozen=True, slots=True)
class SourceLine:
    """A source the event's data came from, and the licence of its data."""

    name: str
    url: str | None
    licence: str | None = None
    licence_url: str | None = None


@dataclass(frozen=True, slots=True)
class EventDetail:
    """Everything the event page shows."""

    id: str
    title: str
    subtitle: str | None
    description: str | None
    image: str | None
    categories: list[str]
    organiser: str | None
    website: str | None
    upcoming: list[DateLine]
    past: list[DateLine]
    place: Place | None
    sources: list[SourceLine] = field(default_factory=list)
    image_credit: str | None = None
    image_licence: str | None = None
    image_licence_url: str | None = None


def safe_url(value: str | None) -> str | None:
    """``value`` if it is an absolute http(s) URL, else None (no ``javascript:`` or other schemes)."""
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def is_free(offers: Iterable[Offer]) -> bool:
    """Free admission, as the API's ``free`` filter reads it."""
    return any(
        o.availability == Availability.FREE.value
        or o.price_max == 0
        or (o.price_max is None and o.price_min == 0)
        for o in offers
    )


def price_text(offers: Sequence[Offer], texts: Texts) -> str | None:
    """The price range over ``offers`` (``19 €–59 €``), "free", or None when no price is known."""
    amounts = [a for o in offers for a in (o.price_min, o.price_max) if a is not None]
    if not amounts:
        return texts("free") if is_free(offers) else None
    low, high = min(amounts), max(amounts)
    currency = next((o.currency for o in offers if o.price_min is not None or o.price_max is not None), "EUR")
    if high == 0:
        return texts("free")
    if low == high:
        return texts.money(Decimal(low), currency)
    return f"{texts.money(Decimal(low), currency)}–{texts.money(Decimal(high), currency)}"


def badges(occurrence: Occurrence, texts: Texts) -> list[Badge]:
    """Status (cancelled, postponed, rescheduled), then sold out / few left / waiting list / free."""
    if occurrence.status != Status.SCHEDULED.value:
        return [Badge(occurrence.status, texts(f"status_{occurrence.status}"))]
    found = []
    availability = availability_of(occurrence.offers)
    if availability is not None and availability.value in _BADGE_AVAILABILITY:
        found.append(Badge(availability.value, texts(f"availability_{availability.value}")))
    if is_free(occurrence.offers):
        found.append(Badge("free", texts("availability_free")))
    return found


def _when(occurrence: Occurrence, texts: Texts, now: datetime) -> str:
    """The time of day; for something already running (an exhibition), until when it runs."""
    end = occurrence.end
    if (
        occurrence.start < now
        and end is not None
        and end > now
        and end.astimezone(BERLIN).date() != occurrence.start.astimezone(BERLIN).date()
    ):
        return texts("until", date=texts.medium_date(end.astimezone(BERLIN).date()))
    return texts.time_range(occurrence.start, end, occurrence.all_day)


def card(
    view: EventView, texts: Texts, categories: CategoryCatalog, *, now: datetime, link: Callable[[str], str]
) -> Card:
    """The list entry of ``view`` at its first occurrence (``view`` has at least one)."""
    event, first = view.event, view.occurrences[0]
    today = now.astimezone(BERLIN).date()
    day = max(first.start.astimezone(BERLIN).date(), today)
    later = view.occurrences[1 : 1 + NEXT_DATES_SHOWN]
    return Card(
        id=event.id,
        url=link(event.id),
        title=event.title,
        subtitle=event.subtitle,
        venue=event.venue.name if event.venue is not None else None,
        categories=[categories.label(str(c), texts.lang) for c in event.categories or []],
        day=day,
        short_date=texts.short_date(day),
        when=_when(first, texts, now),
        start_iso=first.start.astimezone(BERLIN).isoformat(),
        cancelled=first.status == Status.CANCELLED.value,
        badges=([Badge("highlight", texts("highlight"))] if view.highlight else []) + badges(first, texts),
        price=None
        if first.status == Status.CANCELLED.value or is_free(first.offers)
        else price_text(first.offers, texts),
        dates_count=len(view.occurrences),
        next_dates=[_short(o, texts) for o in later],
        highlight=view.highlight,
    )


def _short(occurrence: Occurrence, texts: Texts) -> str:
    local = occurrence.start.astimezone(BERLIN)
    text = texts.short_date(local.date())
    if not occurrence.all_day:
        text += f" {texts.clock(occurrence.start)}"
    if occurrence.status == Status.CANCELLED.value:
        text += f" ({texts('status_cancelled')})"
    return text


def by_day(cards: Iterable[Card], texts: Texts, today: date) -> list[DayGroup]:
    """Cards grouped by their day, in the order given (the list is sorted by next occurrence)."""
    groups: dict[date, list[Card]] = {}
    for item in cards:
        groups.setdefault(item.day, []).append(item)
    return [DayGroup(day, texts.day_heading(day, today), found) for day, found in groups.items()]


def offer_line(offer: Offer, texts: Texts) -> OfferLine:
    """One offer: price, availability, and a ticket link named for the vendor or the source."""
    vendor = offer.vendor or offer.source
    return OfferLine(
        source=offer.source,
        price=price_text([offer], texts),
        availability=texts(f"availability_{offer.availability}") if offer.availability else None,
        url=safe_url(offer.url),
        link_text=texts("tickets_at", vendor=vendor),
    )


def date_line(occurrence: Occurrence, texts: Texts) -> DateLine:
    """One occurrence with its offers, for the event page."""
    local = occurrence.start.astimezone(BERLIN)
    previously = None
    if occurrence.previous_start is not None:
        before = occurrence.previous_start.astimezone(BERLIN)
        previously = texts("was", date=f"{texts.medium_date(before.date())} {texts.clock(before)}")
    return DateLine(
        day=texts.long_date(local.date()),
        time=texts.time_range(occurrence.start, occurrence.end, occurrence.all_day),
        start_iso=local.isoformat(),
        cancelled=occurrence.status == Status.CANCELLED.value,
        badges=badges(occurrence, texts),
        room=occurrence.room,
        previously=previously,
        offers=[offer_line(o, texts) for o in occurrence.offers],
    )


def osm_url(lat: float, lon: float) -> str:
    """An OpenStreetMap link with a marker at the position."""
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"


def place(venue: Venue) -> Place:
    """The venue block: address, district, map and website links, accessibility notes."""
    town = " ".join(part for part in (venue.postcode, venue.city) if part) or None
    return Place(
        name=venue.name,
        street=venue.street,
        town=town,
        district=venue.district,
        map_url=osm_url(venue.lat, venue.lon) if venue.lat is not None and venue.lon is not None else None,
        website=safe_url(venue.url),
        accessibility=venue.accessibility,
    )


def detail(
    view: EventView,
    texts: Texts,
    categories: CategoryCatalog,
    *,
    now: datetime,
    licences: Licences | None = None,
) -> EventDetail:
    """The event page of ``view`` (all its occurrences, split into upcoming and past), with the licence
    of each source's data when ``licences`` is given."""
    event = view.event
    upcoming: list[DateLine] = []
    past: list[DateLine] = []
    for occurrence in view.occurrences:
        ended = (occurrence.end or occurrence.start) < now
        (past if ended else upcoming).append(date_line(occurrence, texts))
    seen: set[tuple[str, str | None]] = set()
    sources = []
    for ref in view.sources:
        url = safe_url(ref.url)
        if (ref.source, url) not in seen:
            seen.add((ref.source, url))
            # only a source's own terms are named; the rest is under the calendar's licence
            licence = licences.of(ref.source) if licences is not None else None
            if licences is not None and licence == licences.default:
                licence = None
            sources.append(
                SourceLine(
                    ref.source,
                    url,
                    licence.name if licence else None,
                    safe_url(licence.url) if licence else None,
                )
            )
    return EventDetail(
        id=event.id,
        title=event.title,
        subtitle=event.subtitle,
        description=event.description,
        image=safe_url(event.image),
        categories=[categories.label(str(c), texts.lang) for c in event.categories or []],
        organiser=event.organiser,
        website=safe_url(event.url),
        upcoming=upcoming,
        past=list(reversed(past)),
        place=place(event.venue) if event.venue is not None else None,
        sources=sources,
        image_credit=event.image_credit if event.image else None,
        image_licence=event.image_licence if event.image else None,
        image_licence_url=safe_url(event.image_licence) if event.image else None,
    )
