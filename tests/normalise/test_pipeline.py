from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aggregator.listing import Listing, OfferListing, Rejection
from aggregator.normalise.categories import load_categories
from aggregator.normalise.pipeline import STEPS, NormaliseResult, normalise
from aggregator.normalise.venues import load_venues
from aggregator.types import BERLIN, Availability, Status

from .venue_data import (
    CITY_PORTAL_PAGE,
    KONZERTHAUS_CAPTURE,
    city_portal_entries,
    konzerthaus_events,
    require,
)

VENUES = load_venues()
CATEGORIES = load_categories()
FETCHED = datetime(2023, 11, 28, 9, 0, tzinfo=UTC)
NOW = datetime(2023, 11, 28, 12, 0, tzinfo=UTC)


def listing(**changes: Any) -> Listing:
    fields: dict[str, Any] = {
        "source": "test",
        "record_id": "r1",
        "title": "Night of the Proms",
        "fetched_at": FETCHED,
        "date_text": "Sa 2. Dezember 2023",
        "time_text": "20:00 Uhr",
        "venue_name": "Westfalenhallen Dortmund",
    }
    fields.update(changes)
    return Listing(**fields)


def run(*items: Listing) -> NormaliseResult:
    return normalise(items, venues=VENUES, categories=CATEGORIES, now=NOW)


def only(*items: Listing) -> Listing:
    result = run(*items)
    assert result.rejected == [] and len(result.listings) == 1, result
    return result.listings[0]


def test_steps_are_in_the_documented_order() -> None:
    assert [step.__name__ for step in STEPS] == [
        "clean_fields",
        "cap_lengths",
        "check_urls",
        "normalise_title",
        "resolve_dates",
        "apply_status",
        "normalise_offers",
        "resolve_venue",
        "assign_categories",
        "validate",
    ]


def test_a_plain_listing() -> None:
    result = only(listing())
    assert result.start == datetime(2023, 12, 2, 20, 0, tzinfo=BERLIN)
    assert (result.end, result.all_day, result.status) == (None, False, Status.SCHEDULED)
    assert (result.venue_slug, result.room, result.record_id) == ("westfalenhallen", None, "r1")
    assert result.warnings == []


def test_input_is_not_mutated() -> None:
    original = listing(offers=[OfferListing(price_text="Tickets 8 €")], categories=[" Oper "])
    run(original)
    assert (
        original.start is None and original.offers[0].price_min is None and original.categories == [" Oper "]
    )


def test_text_is_cleaned() -> None:
    result = only(
        listing(
            title="  Die\r\nZauberflöte\x00 ",
            subtitle="  ",
            description="Erste Zeile\r\n\r\n\r\n\r\nZweite\x07 Zeile  ",
            categories=["", " Oper "],
        )
    )
    assert (result.title, result.subtitle) == ("Die Zauberflöte", None)
    assert result.description == "Erste Zeile\n\nZweite Zeile"
    assert result.category_slugs == ["oper"]


def test_all_caps_title_is_recased() -> None:
    assert only(listing(title="DIE ALTE DAME UND DER FUCHS")).title == "Die Alte Dame und der Fuchs"


# --- dates --------------------------------------------------------------------------------------------


def test_short_range_expands_with_day_suffixes() -> None:
    result = run(
        listing(record_id="comic-con", date_text="2.–3. Dezember 2023", time_text="09:00 bis 19:00 Uhr")
    )
    assert [item.record_id for item in result.listings] == ["comic-con#2023-12-02", "comic-con#2023-12-03"]
    assert [item.start.hour for item in result.listings if item.start] == [9, 9]
    assert [item.end.hour for item in result.listings if item.end] == [19, 19]


def test_date_pair_expands() -> None:
    result = run(listing(record_id="x", date_text="Sa 2.12.2023 und So 3.12.2023"))
    assert [item.record_id for item in result.listings] == ["x#2023-12-02", "x#2023-12-03"]


def test_long_range_stays_one_listing() -> None:
    result = only(listing(record_id="expo", date_text="24.11.2023 – 07.01.2024", time_text=None))
    assert (result.record_id, result.all_day) == ("expo", True)
    assert result.end == datetime(2024, 1, 8, tzinfo=BERLIN)


def test_expansion_limit_is_passed_through() -> None:
    items = [listing(date_text="1.–20. Dezember 2023", time_text=None)]
    assert (
        len(normalise(items, venues=VENUES, categories=CATEGORIES, now=NOW, max_daily_days=31).listings) == 20
    )
    assert len(normalise(items, venues=VENUES, categories=CATEGORIES, now=NOW).listings) == 1


def test_year_comes_from_fetched_at() -> None:
    result = only(listing(date_text="Sa, 2.1.", time_text="20 Uhr"))
    assert result.start == datetime(2024, 1, 2, 20, tzinfo=BERLIN)


def test_naive_adapter_start_is_berlin_wall_time() -> None:
    result = only(
        listing(start=datetime(2026, 3, 29, 20, 0), end=datetime(2026, 3, 29, 22, 0), date_text=None)
    )
    assert result.start is not None and result.end is not None
    assert result.start.astimezone(UTC) == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)
    assert result.end.astimezone(UTC) == datetime(2026, 3, 29, 20, 0, tzinfo=UTC)
    assert result.start.tzinfo is BERLIN


def test_aware_adapter_start_keeps_its_instant() -> None:
    start = datetime(2023, 12, 2, 19, 0, tzinfo=UTC)
    result = only(listing(start=start, date_text=None))
    assert result.start == start and result.start is not None and result.start.tzinfo is BERLIN


def test_start_given_wins_over_date_text() -> None:
    result = only(listing(start=datetime(2023, 12, 5, 19, 30), date_text="Sa 2. Dezember 2023"))
    assert result.start == datetime(2023, 12, 5, 19, 30, tzinfo=BERLIN)


# --- rejections -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"title": "   "}, "title", "empty title"),
        ({"date_text": None}, "start", "no start and no date text"),
        ({"date_text": "demnächst", "time_text": None}, "date_text", "no date found"),
        ({"date_text": "demnächst"}, "date_text", "a time without a date"),
        ({"date_text": "20 Uhr", "time_text": None}, "date_text", "a time without a date"),
        ({"date_text": "31.02.2024"}, "date_text", "no such date"),
        ({"date_text": "1.1.1985"}, "start", "start 1985-01-01 is outside"),
        ({"date_text": "1.1.2029"}, "start", "start 2029-01-01 is outside"),
    ],
)
def test_rejections_carry_record_id_reason_and_field(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    result = run(listing(record_id="bad", **changes))
    assert result.listings == []
    assert len(result.rejected) == 1
    rejection = result.rejected[0]
    assert (rejection.source, rejection.record_id, rejection.field) == ("test", "bad", field)
    assert rejection.reason.startswith(reason)


def test_one_bad_listing_does_not_stop_the_run() -> None:
    result = run(listing(record_id="a"), listing(record_id="b", date_text="bald"), listing(record_id="c"))
    assert [item.record_id for item in result.listings] == ["a", "c"]
    assert result.rejected == [
        Rejection("test", "b", "a time without a date: 'bald 20:00 Uhr'", "date_text", "resolve_dates")
    ]


def test_horizon_is_five_years_from_now() -> None:
    ok = listing(date_text="28.11.2028", time_text="10:00 Uhr")
    late = listing(date_text="29.11.2028", time_text="10:00 Uhr")
    assert len(run(ok).listings) == 1 and len(run(late).rejected) == 1


def test_end_before_start_is_dropped_with_a_warning() -> None:
    result = only(listing(start=datetime(2023, 12, 2, 20), end=datetime(2023, 12, 2, 18), date_text=None))
    assert result.end is None
    assert result.warnings and "before start" in result.warnings[0]


# --- status, offers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, Status.SCHEDULED),
        ({"status_text": "Premiere"}, Status.SCHEDULED),
        ({"status_text": "abgesagt"}, Status.CANCELLED),
        ({"status_text": "Die Vorstellung entfällt"}, Status.CANCELLED),
        ({"status_text": "verschoben"}, Status.POSTPONED),
        ({"status_text": "Ersatztermin"}, Status.RESCHEDULED),
        ({"status": Status.CANCELLED, "status_text": "findet statt"}, Status.CANCELLED),
    ],
)
def test_status(changes: dict[str, Any], status: Status) -> None:
    assert only(listing(**changes)).status is status


def test_status_prefix_in_title() -> None:
    result = only(listing(title="ABGESAGT: Night of the Proms"))
    assert (result.title, result.status, result.status_text) == (
        "Night of the Proms",
        Status.CANCELLED,
        "ABGESAGT",
    )


@pytest.mark.parametrize(
    ("offer", "low", "high", "availability"),
    [
        (OfferListing(price_text="Tickets 24 € – 43 €"), Decimal(24), Decimal(43), Availability.AVAILABLE),
        (OfferListing(price_text="ab 12,90 €"), Decimal("12.90"), None, None),
        (
            OfferListing(price_text="Eintritt frei (Platzkarte erforderlich)"),
            Decimal(0),
            Decimal(0),
            Availability.FREE,
        ),
        (OfferListing(availability_text="ausverkauft"), None, None, Availability.SOLD_OUT),
        (
            OfferListing(price_text="Tickets 29 € – 149 €", availability_text="zur Warteliste"),
            Decimal(29),
            Decimal(149),
            Availability.WAITING_LIST,
        ),
        (
            OfferListing(availability_text="Online nicht buchbar"),
            None,
            None,
            Availability.NOT_BOOKABLE_ONLINE,
        ),
        (
            OfferListing(price_text="Tickets 8 €", price_min=Decimal(7), availability=Availability.FEW_LEFT),
            Decimal(7),
            None,
            Availability.FEW_LEFT,
        ),
        (OfferListing(url="https://www.theaterdo.de/philharmoniker/konzerte/"), None, None, None),
    ],
)
def test_offers(
    offer: OfferListing, low: Decimal | None, high: Decimal | None, availability: Availability | None
) -> None:
    result = only(listing(offers=[offer]))
    normalised = result.offers[0]
    assert (normalised.price_min, normalised.price_max, normalised.availability) == (low, high, availability)
    assert (normalised.price_text, normalised.availability_text) == (
        offer.price_text,
        offer.availability_text,
    )


# --- venues and categories ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "slug", "room"),
    [
        ({"venue_name": "Westfalenhalle 1"}, "westfalenhallen", "Halle 1"),
        (
            {"venue_name": "Westfalenhallen Dortmund", "room": "Westfalenhalle 3A"},
            "westfalenhallen",
            "Halle 3A",
        ),
        ({"venue_name": "Kokerei Hansa (Salzlager)"}, "kokerei-hansa", "Salzlager"),
        ({"venue_name": "Theater Dortmund - Opernhaus"}, "opernhaus-dortmund", None),
        ({"venue_name": "Konzerthaus", "room": "Irgendwo oben"}, "konzerthaus-dortmund", "Irgendwo oben"),
        (
            {"venue_name": None, "venue_address": "Brückstraße 21, 44135 Dortmund"},
            "konzerthaus-dortmund",
            None,
        ),
    ],
)
def test_venue(changes: dict[str, Any], slug: str, room: str | None) -> None:
    result = only(listing(**changes))
    assert (result.venue_slug, result.room) == (slug, room)


def test_unknown_venue_is_kept_and_reported_once() -> None:
    result = run(
        listing(record_id="a", venue_name="Gemeindehaus St. Marien"),
        listing(record_id="b", venue_name="Gemeindehaus St. Marien"),
    )
    assert [item.venue_slug for item in result.listings] == ["gemeindehaus-st-marien"] * 2
    assert result.unknown_venues == ["Gemeindehaus St. Marien"]
    assert "unknown venue" in result.listings[0].warnings[0]


def test_no_venue_is_a_warning_not_a_rejection() -> None:
    result = only(listing(venue_name=None))
    assert result.venue_slug is None and result.warnings == ["no venue given"]


def test_categories_and_unknown_labels() -> None:
    result = run(
        listing(record_id="a", categories=["Konzertante Oper", "Geheimtipp-Reihe"]),
        listing(record_id="b", categories=["Geheimtipp-Reihe"], title="Öffentliche Führung"),
    )
    assert [item.category_slugs for item in result.listings] == [["konzert", "oper"], ["fuehrung"]]
    assert result.unknown_categories == ["Geheimtipp-Reihe"]
    assert result.listings[1].warnings == ["unknown category 'Geheimtipp-Reihe'"]


def test_existing_category_slugs_are_kept_first() -> None:
    assert only(listing(category_slugs=["fest"], categories=["Oper"])).category_slugs == ["fest", "oper"]


# --- real captures -------------------------------------------------------------------------------------


def test_konzerthaus_capture_normalises_completely() -> None:
    require(KONZERTHAUS_CAPTURE)
    items = [
        Listing(
            source="konzerthaus",
            record_id=event.detail_slug,
            title=event.title,
            fetched_at=datetime(2026, 5, 17, 15, 6, 23, tzinfo=UTC),
            date_text=event.date_text,
            time_text=event.time_text,
            categories=[event.genre],
            venue_name="Konzerthaus Dortmund",
            offers=[
                OfferListing(price_text=button) for button in event.buttons if button != "Weitere Tickets"
            ],
        )
        for event in konzerthaus_events()
    ]
    result = normalise(items, venues=VENUES, categories=CATEGORIES, now=datetime(2026, 5, 17, tzinfo=UTC))
    assert result.rejected == [] and result.unknown_venues == [] and result.unknown_categories == []
    assert len(result.listings) == len(items) == 26
    for item in result.listings:
        assert item.start is not None and item.start.strftime("%d-%m-%Y") == item.record_id[:10]
        assert item.venue_slug == "konzerthaus-dortmund" and item.category_slugs and not item.warnings
    sold_out = next(item for item in result.listings if item.record_id.endswith("element-of-crime"))
    assert sold_out.offers[0].availability is Availability.SOLD_OUT


def test_city_portal_teasers_normalise() -> None:
    require(CITY_PORTAL_PAGE)
    items = [
        listing(record_id=str(index), title=title, date_text=date_text, time_text=time_text, venue_name=venue)
        for index, (date_text, time_text, venue, title) in enumerate(city_portal_entries())
    ]
    result = run(*items)
    assert result.rejected == [] and result.unknown_venues == []
    assert {item.venue_slug for item in result.listings} == {
        "dortmunder-u",
        "phoenix-des-lumieres",
        "innenstadt",
        "westfalenhallen",
        "schloss-bodelschwingh",
        "opernhaus-dortmund",
        "konzerthaus-dortmund",
    }
    ostwall = result.listings[0]
    assert (ostwall.room, ostwall.end - ostwall.start if ostwall.end and ostwall.start else None) == (
        "Museum Ostwall",
        timedelta(hours=7),
    )
