"""Reading push bodies into listings: field mapping, dates, places, iCalendar paths (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from _push import DOMICIL, KONZERTHAUS, event
from fixed_clock import NOW

from aggregator.normalise.categories import load_categories
from aggregator.normalise.venues import load_venues
from aggregator.types import Availability, Status
from calendar_api.push.validate import (
    Batch,
    BodyError,
    ForeignVenue,
    InvalidRecords,
    Rules,
    clean_block,
    clean_line,
    read_batch,
)

REGISTRY = load_venues()
CATEGORIES = load_categories()
SOURCE = "push:konzerthaus-dortmund"


def _rules(*venues: str, single_id: str | None = None, allow_empty: bool = False) -> Rules:
    return Rules(
        source=SOURCE,
        venues=venues or (KONZERTHAUS,),
        registry=REGISTRY,
        categories=CATEGORIES,
        now=NOW,
        single_id=single_id,
        allow_empty=allow_empty,
    )


def _json(body: Any, rules: Rules | None = None, content_type: str = "application/ld+json") -> Batch:
    return read_batch(json.dumps(body).encode(), content_type, rules or _rules())


def _faults(body: Any, rules: Rules | None = None, content_type: str = "application/ld+json") -> list[str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(InvalidRecords) as caught:
        read_batch(data, content_type, rules or _rules())
    return [f"{fault.path}: {fault.reason}" for fault in caught.value.faults]


def _calendar(*vevents: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//push//DE", *vevents, "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def _vevent(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VEVENT", "DTSTAMP:20261120T100000Z", *lines, "END:VEVENT"])


# -- JSON-LD fields -----------------------------------------------------------------------------


def test_a_full_event_maps_onto_the_listing() -> None:
    body = event(
        "kh-4711",
        title="Mahler 9",
        description="Mit dem Orchester\nund Chor",
        endDate="2026-12-05T22:15:00+01:00",
        url="https://www.konzerthaus-dortmund.de/4711",
        image={"@type": "ImageObject", "url": "https://img.example/4711.jpg"},
        inLanguage="de",
        organizer={"@type": "Organization", "name": "Konzerthaus Dortmund GmbH"},
        keywords="Klassik, Orchester",
        eventStatus="https://schema.org/EventRescheduled",
        previousStartDate="2026-11-30T20:00:00+01:00",
        superEvent={"@id": "mahler-zyklus"},
        disambiguatingDescription="Zyklus, Teil 3",
        location={
            "@type": "Place",
            "name": "Konzerthaus Dortmund",
            "address": {
                "@type": "PostalAddress",
                "streetAddress": "Brückstraße 21",
                "postalCode": "44135",
                "addressLocality": "Dortmund",
            },
        },
        offers=[
            {
                "@type": "Offer",
                "price": "19.50",
                "priceCurrency": "EUR",
                "availability": "InStock",
                "url": "https://tickets.example/4711",
                "validFrom": "2026-09-01T10:00:00+02:00",
                "seller": {"name": "Ticketkasse"},
            },
            {
                "@type": "AggregateOffer",
                "lowPrice": 25,
                "highPrice": 69,
                "availability": "https://schema.org/SoldOut",
            },
        ],
    )
    listing = _json(body).items[0].listing
    assert (listing.record_id, listing.title, listing.source) == ("kh-4711", "Mahler 9", SOURCE)
    assert listing.start == datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    assert listing.end == datetime(2026, 12, 5, 21, 15, tzinfo=UTC)
    assert listing.previous_start == datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    assert listing.status == Status.RESCHEDULED
    assert listing.description == "Mit dem Orchester\nund Chor"
    assert (listing.subtitle, listing.series_key, listing.language) == (
        "Zyklus, Teil 3",
        "mahler-zyklus",
        "de",
    )
    assert listing.image == "https://img.example/4711.jpg"
    assert listing.organiser == "Konzerthaus Dortmund GmbH"
    assert listing.categories == ["MusicEvent", "Klassik", "Orchester"]
    assert (listing.venue_slug, listing.venue_address) == (KONZERTHAUS, "Brückstraße 21, 44135 Dortmund")
    first, second = listing.offers
    assert (first.price_min, first.price_max, first.availability) == (
        Decimal("19.50"),
        Decimal("19.50"),
        Availability.AVAILABLE,
    )
    assert (first.vendor, first.url) == ("Ticketkasse", "https://tickets.example/4711")
    assert first.on_sale == datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    assert (second.price_min, second.price_max, second.availability) == (
        Decimal(25),
        Decimal(69),
        Availability.SOLD_OUT,
    )
    assert listing.raw["jsonld"]["@id"] == "kh-4711"


def test_a_time_without_offset_is_berlin_wall_time() -> None:
    summer = _json(event("a", startDate="2027-07-01T20:00")).items[0].listing
    winter = _json(event("b", startDate="2026-12-01T20:00")).items[0].listing
    assert summer.start == datetime(2027, 7, 1, 18, 0, tzinfo=UTC)
    assert winter.start == datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def test_utc_times_are_kept_as_the_instant() -> None:
    listing = _json(event("a", startDate="2026-12-01T19:00:00Z")).items[0].listing
    assert listing.start == datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def test_a_date_alone_is_an_all_day_event_ending_after_its_last_day() -> None:
    one = _json(event("a", startDate="2026-12-10")).items[0].listing
    three = _json(event("b", startDate="2026-12-10", endDate="2026-12-12")).items[0].listing
    assert one.all_day and three.all_day
    assert one.end is not None and one.start is not None and (one.end - one.start).days == 1
    assert three.end is not None and three.start is not None and (three.end - three.start).days == 3


def test_a_free_event_gets_a_free_offer() -> None:
    offer = _json(event("a", isAccessibleForFree=True)).items[0].listing.offers[0]
    assert (offer.price_min, offer.availability) == (Decimal(0), Availability.FREE)


def test_cancelled_status_without_schema_prefix() -> None:
    assert _json(event("a", eventStatus="EventCancelled")).items[0].listing.status == Status.CANCELLED


def test_an_unknown_property_is_ignored_and_kept_raw() -> None:
    listing = _json(event("a", performer={"name": "Quartett"}, sameAs=42)).items[0].listing
    assert listing.raw["jsonld"]["sameAs"] == 42


def test_identifier_stands_in_for_a_missing_at_id() -> None:
    body = {k: v for k, v in event("x").items() if k != "@id"} | {"identifier": 4711}
    assert _json(body).items[0].listing.record_id == "4711"


def test_a_type_list_with_one_event_type_is_accepted() -> None:
    body = event("a")
    body["@type"] = ["Thing", "https://schema.org/TheaterEvent"]
    assert _json(body).items[0].listing.categories == ["TheaterEvent"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/ld+json; charset=utf-8", "APPLICATION/JSON"]
)
def test_json_media_types(content_type: str) -> None:
    assert len(_json([event("a")], content_type=content_type).items) == 1


# -- places -----------------------------------------------------------------------------------


def test_no_location_means_the_tokens_venue() -> None:
    listing = _json(event("a")).items[0].listing
    assert (listing.venue_slug, listing.venue_name) == (KONZERTHAUS, "Konzerthaus Dortmund")


def test_a_room_of_the_venue_is_kept() -> None:
    listing = _json(event("a", location="Konzerthaus Dortmund (Großer Saal)")).items[0].listing
    assert (listing.venue_slug, listing.room) == (KONZERTHAUS, "Großer Saal")


def test_a_virtual_location_alone_means_the_tokens_venue() -> None:
    body = event("a", location=[{"@type": "VirtualLocation", "url": "https://stream.example"}])
    assert _json(body).items[0].listing.venue_slug == KONZERTHAUS


@pytest.mark.parametrize(
    "location",
    [
        "domicil",
        {"@type": "Place", "name": "Jazzclub domicil"},
        {"@type": "Place", "address": "Hansastraße 7-11, 44137 Dortmund"},
        "Ein Club irgendwo in Bochum",
    ],
)
def test_another_place_is_foreign(location: Any) -> None:
    with pytest.raises(ForeignVenue) as caught:
        _json([event("ok"), event("x", location=location)])
    assert [fault.path for fault in caught.value.faults] == ["$[1].location"]
    assert "this token writes only for konzerthaus-dortmund" in caught.value.faults[0].reason


def test_a_token_for_two_venues_writes_for_both_but_needs_a_place() -> None:
    rules = _rules(KONZERTHAUS, DOMICIL)
    batch = _json([event("a", location="domicil"), event("b", location="Konzerthaus")], rules)
    assert [item.listing.venue_slug for item in batch.items] == [DOMICIL, KONZERTHAUS]
    assert _faults([event("c")], rules) == [
        "$[0].location: is required: this token writes for konzerthaus-dortmund, domicil"
    ]


# -- whole bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "status"), [(b"{", 400), (b"  ", 400), (b"null", 422), (b"42", 422)])
def test_unusable_bodies(body: bytes, status: int) -> None:
    error: type[Exception] = BodyError if status == 400 else InvalidRecords
    with pytest.raises(error):
        read_batch(body, "application/json", _rules())


def test_absurd_nesting_is_a_body_error() -> None:
    with pytest.raises(BodyError, match="nested too deeply"):
        read_batch(b"[" * 100_000 + b"]" * 100_000, "application/json", _rules())
    deep: Any = "x"
    for _ in range(900):
        deep = {"a": deep}
    with pytest.raises(BodyError, match="nested too deeply"):
        _json([event("a", extra=deep)])


def test_an_empty_list_is_allowed_for_a_sync_only() -> None:
    assert read_batch(b"[]", "application/json", _rules(allow_empty=True)).items == []
    assert _faults([]) == ["$: the body holds no events"]


def test_a_single_id_fills_a_missing_at_id() -> None:
    body = {k: v for k, v in event("x").items() if k != "@id"}
    assert _json(body, _rules(single_id="from-url")).record_ids == ["from-url"]


def test_unknown_media_type_is_415() -> None:
    with pytest.raises(BodyError) as caught:
        read_batch(b"[]", "text/html", _rules())
    assert caught.value.status == 415


# -- iCalendar --------------------------------------------------------------------------------


def test_icalendar_events_become_listings_with_paths() -> None:
    body = _calendar(
        _vevent(
            "UID:a@haus",
            "DTSTART;TZID=Europe/Berlin:20261203T200000",
            "SUMMARY:Liederabend",
            "LOCATION:Konzerthaus Dortmund",
        ),
        _vevent("UID:b@haus", "DTSTART;VALUE=DATE:20261210", "SUMMARY:Tag der offenen Tür"),
    )
    batch = read_batch(body, "text/calendar", _rules())
    assert [(item.path, item.listing.record_id) for item in batch.items] == [
        ("VEVENT[0]", "a@haus"),
        ("VEVENT[1]", "b@haus"),
    ]
    assert batch.items[0].listing.start == datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    assert batch.items[1].listing.all_day
    assert {item.listing.venue_slug for item in batch.items} == {KONZERTHAUS}


ICAL_FAULTS = [
    (("DTSTART;TZID=Europe/Berlin:20261203T200000", "SUMMARY:Ohne UID"), "VEVENT[1].UID: is required"),
    (("UID:x", "DTSTART;TZID=Europe/Berlin:20261203T200000"), "VEVENT[1].SUMMARY: is required"),
    (("UID:x", "SUMMARY:Ohne Beginn"), "VEVENT[1].DTSTART: is required"),
    (
        (
            "UID:x",
            "SUMMARY:Rückwärts",
            "DTSTART;TZID=Europe/Berlin:20261203T200000",
            "DTEND;TZID=Europe/Berlin:20261203T190000",
        ),
        "VEVENT[1].DTEND: 2026-12-03T19:00:00+01:00 is before DTSTART",
    ),
    (("UID:x", "SUMMARY:Zukunft", "DTSTART:29991203T200000Z"), "VEVENT[1].DTSTART: 2999-12-03 is too far"),
    (("UID:ok", "SUMMARY:Doppelt", "DTSTART:20261204T200000Z"), "VEVENT[1].UID: the UID 'ok' is used twice"),
]


@pytest.mark.parametrize(
    ("lines", "expected"), ICAL_FAULTS, ids=[e.split(":")[0] + str(i) for i, (_, e) in enumerate(ICAL_FAULTS)]
)
def test_icalendar_faults_name_the_vevent_and_property(lines: tuple[str, ...], expected: str) -> None:
    good = _vevent("UID:ok", "DTSTART;TZID=Europe/Berlin:20261203T200000", "SUMMARY:Gut")
    faults = _faults(_calendar(good, _vevent(*lines)), content_type="text/calendar")
    assert any(fault.startswith(expected) for fault in faults), faults


def test_an_old_series_still_running_is_read_within_the_window() -> None:
    body = _calendar(
        _vevent(
            "UID:weekly",
            "SUMMARY:Jam Session",
            "DTSTART;TZID=Europe/Berlin:20200106T200000",
            "RRULE:FREQ=WEEKLY;COUNT=400",
        )
    )
    batch = read_batch(body, "text/calendar", _rules())
    starts = [item.listing.start for item in batch.items]
    assert starts and all(s is not None and NOW.year - 2 < s.year for s in starts)
    assert all(item.listing.record_id.startswith("weekly#") for item in batch.items)


def test_icalendar_put_needs_the_url_uid() -> None:
    body = _calendar(_vevent("UID:other", "SUMMARY:X", "DTSTART:20261204T200000Z"))
    assert _faults(body, _rules(single_id="mine"), "text/calendar") == [
        "VEVENT[0].UID: 'other' does not match the id in the URL ('mine')"
    ]


def test_a_body_that_is_no_calendar_is_a_body_error() -> None:
    with pytest.raises(BodyError):
        read_batch(b"BEGIN:VCALENDAR\r\nthis is not", "text/calendar", _rules())


# -- cleaning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "line", "block"),
    [
        ("a\r\nb", "a b", "a\nb"),
        ("a\rb\tc", "a b c", "a\nb\tc"),
        ("x\x00y\x1bz\x7f", "xyz", "xyz"),
        ("  spaced  out  ", "spaced out", "spaced  out"),
        ("line\u2028sep", "line sep", "line\u2028sep"),
        ("<b>fett</b>", "<b>fett</b>", "<b>fett</b>"),
    ],
)
def test_cleaning(raw: str, line: str, block: str) -> None:
    assert (clean_line(raw), clean_block(raw)) == (line, block)
