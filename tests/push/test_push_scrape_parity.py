"""One schema.org Event, pushed or scraped, gives the same Listing: both paths use one reader."""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal
from typing import Any

import pytest
from _push import KONZERTHAUS
from fixed_clock import NOW

from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from aggregator.listing import Listing
from aggregator.normalise.categories import load_categories
from aggregator.normalise.venues import load_venues
from calendar_api.push.validate import Rules, read_batch

SET_BY_PUSH = {"source", "venue_slug", "room"}
"""Who sent it, and the token's venue that push's permission check fills in: not read from the event."""

EVENT: dict[str, Any] = {
    "@context": "https://schema.org",
    "@type": "Event",
    "@id": "https://www.konzerthaus-dortmund.de/events/4711",
    "name": "Mahler 9",
    "disambiguatingDescription": "Zyklus, Teil 3",
    "description": "Mit dem Orchester\nund Chor",
    "startDate": "2026-12-05T20:00:00+01:00",
    "endDate": "2026-12-05T22:15:00+01:00",
    "eventStatus": "https://schema.org/EventRescheduled",
    "previousStartDate": "2026-11-30T20:00:00+01:00",
    "url": "https://www.konzerthaus-dortmund.de/4711",
    "image": {"@type": "ImageObject", "url": "https://img.example/4711.jpg"},
    "inLanguage": "de",
    "organizer": {"@type": "Organization", "name": "Konzerthaus Dortmund GmbH"},
    "keywords": "Klassik, Orchester",
    "genre": ["Sinfonik"],
    "superEvent": {"@id": "https://www.konzerthaus-dortmund.de/reihen/mahler"},
    "location": {
        "@type": "Place",
        "name": "Konzerthaus Dortmund",
        "url": "https://www.konzerthaus-dortmund.de",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": "Brückstraße 21",
            "postalCode": "44135",
            "addressLocality": "Dortmund",
        },
        "geo": {"@type": "GeoCoordinates", "latitude": 51.5149, "longitude": 7.4636},
    },
    "offers": [
        {
            "@type": "Offer",
            "price": "19.50",
            "priceCurrency": "EUR",
            "availability": "https://schema.org/InStock",
            "url": "https://tickets.example/4711",
            "validFrom": "2026-09-01T10:00:00+02:00",
            "seller": {"@type": "Organization", "name": "Ticketkasse"},
            "name": "Normalpreis",
        },
        {
            "@type": "AggregateOffer",
            "lowPrice": 25,
            "highPrice": 69,
            "priceCurrency": "EUR",
            "availability": "https://schema.org/Discontinued",
        },
        {
            "@type": "Offer",
            "price": "12",
            "priceCurrency": "EUR",
            "priceSpecification": {"@type": "PriceSpecification", "minPrice": "12", "maxPrice": "30"},
        },
    ],
}


def _pushed(event: dict[str, Any]) -> Listing:
    rules = Rules(
        source="push:konzerthaus-dortmund",
        venues=(KONZERTHAUS,),
        registry=load_venues(),
        categories=load_categories(),
        now=NOW,
    )
    (item,) = read_batch(json.dumps(event).encode(), "application/ld+json", rules).items
    return item.listing


def _scraped(event: dict[str, Any]) -> Listing:
    result = parse_jsonld(json.dumps(event).encode(), source="konzerthaus", fetched_at=NOW)
    assert (result.warnings, result.rejections) == ([], [])
    (listing,) = result.listings
    return listing


def _read(listing: Listing) -> dict[str, Any]:
    return {f.name: getattr(listing, f.name) for f in fields(listing) if f.name not in SET_BY_PUSH}


def test_pushed_and_scraped_give_the_same_listing() -> None:
    pushed, scraped = _pushed(EVENT), _scraped(EVENT)
    assert _read(pushed) == _read(scraped)
    assert pushed.venue_slug == KONZERTHAUS


def test_the_fields_that_had_drifted_are_read_by_both() -> None:
    for listing in (_pushed(EVENT), _scraped(EVENT)):
        assert listing.subtitle == "Zyklus, Teil 3"
        assert listing.categories == ["Klassik", "Orchester", "Sinfonik"]
        assert [(offer.price_min, offer.price_max) for offer in listing.offers] == [
            (Decimal("19.50"), Decimal("19.50")),
            (Decimal(25), Decimal(69)),
            (Decimal(12), Decimal(30)),
        ]
        assert listing.offers[1].availability_text == "Discontinued"
        assert (
            listing.offers[1].availability is not None and listing.offers[1].availability.value == "sold_out"
        )


@pytest.mark.parametrize(
    "extra", [{"isAccessibleForFree": True, "offers": []}, {"@id": None, "identifier": "4711"}]
)
def test_free_admission_and_identifier_are_read_by_both(extra: dict[str, Any]) -> None:
    event = {key: value for key, value in (EVENT | extra).items() if value is not None}
    assert _read(_pushed(event)) == _read(_scraped(event))


def test_push_alone_adds_the_event_subtype_as_a_category() -> None:
    event = EVENT | {"@type": "MusicEvent"}
    assert _pushed(event).categories == ["MusicEvent", *_scraped(event).categories]
