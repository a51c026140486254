"""What our event pages write as schema.org JSON-LD, our own reader reads back field for field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from calendar_rows import Rows

from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, Offer
from aggregator.types import BERLIN, Availability, Status
from calendar_api.queries import EventView
from calendar_api.web.jsonld_writer import event_jsonld, script_json

PAGE = "https://kalender.example/events/evmahler"
FETCHED_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
START = datetime(2026, 3, 20, 20, tzinfo=BERLIN)
MOVED = datetime(2026, 3, 27, 19, 30, tzinfo=BERLIN)
ON_SALE = datetime(2026, 1, 10, 10, tzinfo=BERLIN)


def _view() -> EventView:
    venue = Rows(created=FETCHED_AT, updated=FETCHED_AT).venue("konzerthaus-dortmund")
    event = Event(
        id="evmahler",
        title="Mahler: Sinfonie Nr. 2 </script>",
        subtitle="Auferstehung",
        description="Mit Chor.\nEinlass 19 Uhr",
        categories=["konzert", "klassik"],
        language="de",
        image="https://img.example/mahler.jpg",
        organiser="Konzerthaus Dortmund GmbH",
    )
    event.venue = venue
    first = Occurrence(id="o1", start=START, end=START.replace(hour=22), status=Status.SCHEDULED.value)
    first.offers = [
        Offer(
            source="konzerthaus",
            price_min=Decimal("19.50"),
            price_max=Decimal("69.00"),
            currency="EUR",
            url="https://tickets.example/m1",
            vendor="Ticketkasse",
            availability=Availability.FEW_LEFT.value,
            on_sale=ON_SALE,
        ),
        Offer(
            source="eventim",
            price_min=Decimal(25),
            price_max=Decimal(25),
            currency="EUR",
            url="https://eventim.example/m1",
            availability=Availability.NOT_BOOKABLE_ONLINE.value,
        ),
    ]
    moved = Occurrence(id="o2", start=MOVED, end=None, status=Status.RESCHEDULED.value, previous_start=START)
    moved.offers = [
        Offer(
            source="konzerthaus",
            price_min=Decimal(0),
            price_max=Decimal(0),
            currency="EUR",
            availability=Availability.FREE.value,
        )
    ]
    cancelled = Occurrence(id="o3", start=START.replace(day=28), end=None, status=Status.CANCELLED.value)
    return EventView(event=event, occurrences=[first, moved, cancelled])


@pytest.fixture(scope="module")
def read_back() -> list[Listing]:
    written = str(script_json(event_jsonld(_view(), PAGE)))  # as embedded in the page, escapes and all
    page = f'<html><head><script type="application/ld+json">{written}</script></head><body></body></html>'
    result = parse_jsonld(page.encode(), source="web", fetched_at=FETCHED_AT)
    assert (result.warnings, result.rejections) == ([], [])
    return result.listings


def test_every_date_is_read_back_with_its_own_id(read_back: list[Listing]) -> None:
    assert [listing.record_id for listing in read_back] == [f"{PAGE}#o1", f"{PAGE}#o2", f"{PAGE}#o3"]


def test_the_event_fields_are_read_back(read_back: list[Listing]) -> None:
    view = _view()
    for listing in read_back:
        assert (listing.title, listing.subtitle, listing.description) == (
            view.event.title,
            view.event.subtitle,
            view.event.description,
        )
        assert (listing.url, listing.image, listing.language, listing.organiser) == (
            PAGE,
            view.event.image,
            view.event.language,
            view.event.organiser,
        )
        assert listing.categories == view.event.categories


def test_the_place_is_read_back(read_back: list[Listing]) -> None:
    for listing in read_back:
        assert (listing.venue_name, listing.venue_address, listing.geo) == (
            "Konzerthaus Dortmund",
            "Brückstraße 21, 44135 Dortmund",
            (51.5149, 7.4636),
        )


def test_dates_and_status_are_read_back(read_back: list[Listing]) -> None:
    first, moved, cancelled = read_back
    assert (first.start, first.end, first.status, first.previous_start) == (
        START,
        START.replace(hour=22),
        Status.SCHEDULED,
        None,
    )
    assert (moved.start, moved.end, moved.status, moved.previous_start) == (
        MOVED,
        None,
        Status.RESCHEDULED,
        START,
    )
    assert cancelled.status is Status.CANCELLED


def test_offers_are_read_back(read_back: list[Listing]) -> None:
    ranged, box_office = read_back[0].offers
    assert (ranged.price_min, ranged.price_max, ranged.currency) == (
        Decimal("19.50"),
        Decimal("69.00"),
        "EUR",
    )
    assert (ranged.url, ranged.vendor, ranged.on_sale) == (
        "https://tickets.example/m1",
        "Ticketkasse",
        ON_SALE,
    )
    assert ranged.availability is Availability.FEW_LEFT
    assert (box_office.price_min, box_office.price_max, box_office.availability) == (
        Decimal(25),
        Decimal(25),
        Availability.NOT_BOOKABLE_ONLINE,
    )
    (free,) = read_back[1].offers
    assert (free.price_min, free.price_max, free.availability) == (Decimal(0), Decimal(0), Availability.FREE)


@pytest.mark.parametrize("availability", list(Availability))
def test_every_availability_survives_the_round_trip(availability: Availability) -> None:
    view = _view()
    price = Decimal(0) if availability is Availability.FREE else Decimal(12)
    view.occurrences[0].offers = [
        Offer(source="s", price_min=price, price_max=price, currency="EUR", availability=availability.value)
    ]
    data = json.dumps(event_jsonld(view, PAGE)[:1]).encode()
    (listing,) = parse_jsonld(data, source="web", fetched_at=FETCHED_AT).listings
    # schema.org has no waiting list that search engines show; we write it as SoldOut
    expected = Availability.SOLD_OUT if availability is Availability.WAITING_LIST else availability
    assert listing.offers[0].availability is expected
