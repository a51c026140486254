"""The normalisation steps, in the order :mod:`aggregator.normalise.pipeline` runs them.

Each step takes one listing and the run's :class:`StepContext` and returns the listing (a
changed copy), several listings (a date range expanded), or raises :class:`Rejected`.
Steps never mutate their input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from aggregator.listing import Listing, OfferListing
from aggregator.normalise.categories import CategoryVocabulary
from aggregator.normalise.dates import MAX_DAILY_DAYS, DateParseError, Span, localize, parse_when
from aggregator.normalise.prices import (
    amount_problem,
    parse_availability,
    parse_price,
    parse_status,
    valid_amount,
)
from aggregator.normalise.titles import display_title
from aggregator.normalise.venues import VenueRegistry, names_something
from aggregator.text import clean_text
from aggregator.types import BERLIN, Availability, Status
from aggregator.urls import web_url

EARLIEST = datetime(1990, 1, 1, tzinfo=BERLIN)
YEARS = range(1900, 2201)
"""The years a date may name at all: outside them no zone conversion is tried (year 1 at +14:00 overflows)."""
HORIZON_YEARS = 5
_ONE_LINE = (
    "subtitle",
    "date_text",
    "time_text",
    "venue_name",
    "venue_address",
    "room",
    "organiser",
    "status_text",
    "language",
    "url",
    "image",
    "image_credit",
    "image_licence",
    "venue_url",
    "series_key",
)
_TITLE_STATUS = re.compile(
    r"^(abgesagt|entf(?:ä|ae)llt|f(?:ä|ae)llt aus|verschoben|cancell?ed|postponed)\s*[:!–—-]+\s*",
    re.IGNORECASE,
)


RECORD_ID_LIMIT = 500
"""The longest record id storage keeps; texts and links are cut by :mod:`aggregator.normalise.limits`."""


class Rejected(Exception):
    """A listing cannot be used; ``field`` names the listing field at fault."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)


@dataclass(slots=True)
class StepContext:
    """What steps share during one run: the vocabularies, the time, and what was not recognised."""

    venues: VenueRegistry
    categories: CategoryVocabulary
    now: datetime
    max_daily_days: int = MAX_DAILY_DAYS
    unknown_venues: list[str] = field(default_factory=list)
    unknown_categories: list[str] = field(default_factory=list)


def _warn(listing: Listing, message: str) -> list[str]:
    """The listing's warnings plus ``message`` (a new list: listings are values)."""
    return [*listing.warnings, message]


def clean_fields(listing: Listing, ctx: StepContext) -> Listing:
    """Strip whitespace and control characters; one-line fields lose CR/LF, empty text becomes None."""
    changes: dict[str, object] = {"title": clean_text(listing.title)}
    for name in _ONE_LINE:
        value = getattr(listing, name)
        if value is not None:
            changes[name] = clean_text(value) or None
    if listing.description is not None:
        text = clean_text(listing.description, lines=True)
        changes["description"] = re.sub(r"\n{3,}", "\n\n", text).strip() or None
    changes["categories"] = [label for label in (clean_text(raw) for raw in listing.categories) if label]
    changes["offers"] = [
        replace(
            offer,
            price_text=clean_text(offer.price_text or "") or None,
            availability_text=clean_text(offer.availability_text or "") or None,
        )
        for offer in listing.offers
    ]
    warnings = _storable_currencies(changes, listing)
    return listing.evolve(**changes, warnings=warnings) if warnings else listing.evolve(**changes)


def _storable_currencies(changes: dict[str, Any], listing: Listing) -> list[str]:
    """Offers in a currency storage cannot keep (no ISO 4217 code) are dropped, "€"/"Euro" read as EUR.

    Lengths are cut by the next step (:func:`aggregator.normalise.limits.cap_lengths`).
    """
    notes: list[str] = []
    offers = []
    for offer in changes["offers"]:
        if len(offer.currency) != 3:
            if clean_text(offer.currency).casefold() not in ("€", "euro"):
                notes.append(f"offer in currency {offer.currency[:20]!r} (no ISO code) dropped")
                continue
            offer = replace(offer, currency="EUR")
        offers.append(offer)
    changes["offers"] = offers
    return [*listing.warnings, *notes] if notes else []


def check_urls(listing: Listing, ctx: StepContext) -> Listing:
    """Drop, with a warning, every link that is not an absolute http(s) URL (see :func:`web_url`)."""
    changes: dict[str, object] = {}
    warnings = listing.warnings
    for name in ("url", "image", "venue_url"):
        value = getattr(listing, name)
        if value is not None and web_url(value) is None:
            changes[name] = None
            warnings = [*warnings, f"{name} {value[:80]!r} is not an http(s) URL; dropped"]
    offers = []
    for offer in listing.offers:
        if offer.url is not None and web_url(offer.url) is None:
            warnings = [*warnings, f"offer url {offer.url[:80]!r} is not an http(s) URL; dropped"]
            offer = replace(offer, url=None)
        offers.append(offer)
    if warnings is listing.warnings:
        return listing
    return listing.evolve(**changes, offers=offers, warnings=warnings)


def normalise_title(listing: Listing, ctx: StepContext) -> Listing:
    """Recase titles set in capitals (see :func:`display_title`)."""
    return listing.evolve(title=display_title(listing.title))


def resolve_dates(listing: Listing, ctx: StepContext) -> Listing | list[Listing]:
    """Make ``start``/``end`` aware in Berlin, or read them from ``date_text``; a range expands.

    Expanded listings get ``#YYYY-MM-DD`` appended to their record id.
    """
    if listing.start is not None:
        start = _aware(listing.start)
        if start is None:
            raise Rejected(
                f"start {listing.start.isoformat()} is outside the years {YEARS[0]} to {YEARS[-1]}", "start"
            )
        end = _aware(listing.end) if listing.end else None
        previous = _aware(listing.previous_start) if listing.previous_start else None
        warnings = listing.warnings
        dropped = (("end", listing.end, end), ("previous start", listing.previous_start, previous))
        for name, given, made in dropped:
            if given is not None and made is None:
                warnings = [
                    *warnings,
                    f"{name} {given.isoformat()} is outside the years {YEARS[0]} to {YEARS[-1]}; dropped",
                ]
        return listing.evolve(start=start, end=end, previous_start=previous, warnings=warnings)
    if not listing.date_text:
        raise Rejected("no start and no date text", "start")
    reference = listing.fetched_at if listing.fetched_at.tzinfo else listing.fetched_at.replace(tzinfo=UTC)
    try:
        spans = parse_when(
            listing.date_text, listing.time_text, reference=reference, max_daily_days=ctx.max_daily_days
        )
    except DateParseError as error:
        raise Rejected(f"{error.reason}: {error.text!r}", "date_text") from error
    except OverflowError as error:  # year 1 or 9999 has no Berlin time
        raise Rejected(f"a date at the edge of the calendar: {listing.date_text!r}", "date_text") from error
    if len(spans) == 1:
        return _with_span(listing, spans[0], listing.record_id)
    return [_with_span(listing, span, f"{listing.record_id}#{span.start:%Y-%m-%d}") for span in spans]


def _aware(moment: datetime) -> datetime | None:
    """An adapter's naive datetime is Berlin wall time; aware ones are converted to Berlin.

    ``None`` for a moment outside :data:`YEARS` (year 1 at +14:00 has no Berlin time at all).
    """
    if moment.year not in YEARS:
        return None
    try:
        converted = localize(moment) if moment.tzinfo is None else moment.astimezone(BERLIN)
    except OverflowError:
        return None
    return converted if converted.year in YEARS else None


def _with_span(listing: Listing, span: Span, record_id: str) -> Listing:
    """``listing`` dated by one span."""
    return listing.evolve(record_id=record_id, start=span.start, end=span.end, all_day=span.all_day)


def apply_status(listing: Listing, ctx: StepContext) -> Listing:
    """Status from the adapter, else from ``status_text`` or a title prefix (``ABGESAGT: …``).

    The prefix is removed from the title; without any signal the status is SCHEDULED.
    """
    title, status_text = listing.title, listing.status_text
    prefix = _TITLE_STATUS.match(title)
    if prefix and prefix.end() < len(title):
        title, status_text = title[prefix.end() :], status_text or prefix.group(1)
    status = listing.status or parse_status(status_text) or Status.SCHEDULED
    return listing.evolve(title=title, status_text=status_text, status=status)


def normalise_offers(listing: Listing, ctx: StepContext) -> Listing:
    """Prices from ``price_text``, availability from its text; a free price means availability FREE.

    An amount that is no price (NaN, ``1e28``, ``1e-999999999``) or a sale date outside :data:`YEARS`
    is dropped with a warning, never read as 0 (free admission).
    """
    warnings = listing.warnings
    offers = []
    for offer in listing.offers:
        low, high = offer.price_min, offer.price_max
        for name, value in (("price_min", low), ("price_max", high)):
            problem = amount_problem(value) if value is not None else None
            if problem is not None:
                warnings = [*warnings, f"offer {name} {str(value)[:40]!r} {problem}; dropped"]
        offer = replace(offer, price_min=valid_amount(low), price_max=valid_amount(high))
        if offer.on_sale is not None and offer.on_sale.year not in YEARS:
            warnings = [*warnings, f"offer on_sale {offer.on_sale.isoformat()} is implausible; dropped"]
            offer = replace(offer, on_sale=None)
        offers.append(_offer(offer))
    return listing.evolve(offers=offers, warnings=warnings)


def _offer(offer: OfferListing) -> OfferListing:
    """One offer with price range and availability filled where the texts allow."""
    price = parse_price(offer.price_text) or parse_price(offer.availability_text)
    low, high = offer.price_min, offer.price_max
    if price is not None and low is None and high is None:
        low, high = price.min, price.max
    availability = offer.availability or parse_availability(offer.availability_text)
    if availability is None and price is not None and price.free:
        availability = Availability.FREE
    availability = availability or parse_availability(offer.price_text)
    return replace(offer, price_min=low, price_max=high, availability=availability)


def resolve_venue(listing: Listing, ctx: StepContext) -> Listing:
    """Set ``venue_slug`` (and the room) from the venue name/address; unknown venues are kept and reported."""
    if listing.venue_slug:
        return listing
    name = listing.venue_name if names_something(listing.venue_name) else None
    address = listing.venue_address if names_something(listing.venue_address) else None
    junk = [
        text for text in (listing.venue_name, listing.venue_address) if text and not names_something(text)
    ]
    if junk:  # '-', ',' or '()' written where a source had no venue
        listing = listing.evolve(
            venue_name=name,
            venue_address=address,
            warnings=_warn(
                listing, f"venue text {' / '.join(repr(text) for text in junk)} names no venue; ignored"
            ),
        )
    if not (name or address):
        return listing if junk else listing.evolve(warnings=_warn(listing, "no venue given"))
    match = ctx.venues.resolve(name, address)
    slug = match.venue.slug
    room = ctx.venues.room_name(slug, listing.room) if listing.room else match.room
    warnings = listing.warnings
    if not match.known:
        label = listing.venue_name or listing.venue_address or slug
        if label not in ctx.unknown_venues:
            ctx.unknown_venues.append(label)
        warnings = _warn(listing, f"unknown venue {label!r} kept as {slug!r}")
    return listing.evolve(venue_slug=slug, room=room, warnings=warnings)


def assign_categories(listing: Listing, ctx: StepContext) -> Listing:
    """Map raw category labels (and title hints) to vocabulary slugs; unknown labels are reported."""
    match = ctx.categories.classify(listing.categories, listing.title)
    slugs = [*listing.category_slugs, *(slug for slug in match.slugs if slug not in listing.category_slugs)]
    warnings = listing.warnings
    for label in match.unknown:
        if label not in ctx.unknown_categories:
            ctx.unknown_categories.append(label)
        warnings = [*warnings, f"unknown category {label!r}"]
    return listing.evolve(category_slugs=slugs, warnings=warnings)


def validate(listing: Listing, ctx: StepContext) -> Listing:
    """Reject a listing without title or with a start outside 1990 … now + 5 years.

    An end before the start is dropped with a warning.
    """
    if not listing.title:
        raise Rejected("empty title", "title")
    if len(listing.record_id) > RECORD_ID_LIMIT:
        raise Rejected(
            f"record id of {len(listing.record_id)} characters (over {RECORD_ID_LIMIT})", "record_id"
        )
    if listing.start is None:
        raise Rejected("no start", "start")
    horizon = _years_later(ctx.now.astimezone(BERLIN), HORIZON_YEARS)
    if not EARLIEST <= listing.start <= horizon:
        raise Rejected(f"start {listing.start:%Y-%m-%d} is outside 1990 … {horizon:%Y-%m-%d}", "start")
    if listing.end is not None and listing.end < listing.start:
        message = f"end {listing.end.isoformat()} before start {listing.start.isoformat()} dropped"
        return listing.evolve(end=None, warnings=_warn(listing, message))
    return listing


def _years_later(moment: datetime, years: int) -> datetime:
    """``moment`` plus whole years (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)
