"""The schema.org JSON-LD importer and the format detection of ``stadtkalender import``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from aggregator.formats.read_result import ReadResult
from aggregator.formats.schemaorg.event_names import clean_event_name
from aggregator.formats.schemaorg.json_blocks import NotAnEventDocument
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from aggregator.listing import Listing
from aggregator.types import BERLIN, Availability, Status
from sources.base import Document, registry
from sources.platforms.detect import ImportFailed, detect_format, import_listings
from sources.platforms.jsonld import JsonLdSource

FIXTURES = Path(__file__).parents[1] / "fixtures" / "jsonld"
ICAL_FIXTURES = Path(__file__).parents[1] / "fixtures" / "ical"
FETCHED_AT = datetime(2025, 1, 1, 12, tzinfo=UTC)
HORIZON = (datetime(2025, 1, 1, tzinfo=BERLIN), datetime(2026, 1, 1, tzinfo=BERLIN))
WIDE = (datetime(2000, 1, 1, tzinfo=BERLIN), HORIZON[1])  # every fixture event lies in it
BASE_URL = "https://theater.example/spielplan/"
DOCUMENTS = sorted(path.name for path in FIXTURES.iterdir() if path.name != "no_jsonld.html")
KONZERTHAUS_URL = "https://www.konzerthaus-dortmund.de/de/programm/16-01-2024-5-philharmonisches-konzert-faszination-stadion/"


@cache
def parsed(name: str) -> ReadResult:
    """Each fixture is parsed once per test session."""
    return parse_jsonld(
        (FIXTURES / name).read_bytes(),
        source="test",
        fetched_at=FETCHED_AT,
        base_url=BASE_URL,
        window=WIDE,
        clean_name=clean_event_name,
    )


def by_title(name: str) -> dict[str, Listing]:
    return {listing.title: listing for listing in parsed(name).listings}


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# --- invariants -------------------------------------------------------------------------------


def invariant_problems(listing: Listing) -> Iterator[str]:
    """What is wrong with a listing that every listing must satisfy."""
    if listing.source != "test" or listing.fetched_at != FETCHED_AT:
        yield "source or fetched_at not passed through"
    if listing.start is None or listing.start.tzinfo is None:
        yield f"start {listing.start!r} not aware"
    elif listing.end is not None and listing.end < listing.start:
        yield f"end {listing.end} before start"
    if not listing.title.strip():
        yield "empty title"
    if not listing.raw.get("jsonld"):
        yield "raw JSON-LD missing"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_listing_invariants(name: str) -> None:
    listings = parsed(name).listings
    problems = [f"{item.record_id}: {problem}" for item in listings for problem in invariant_problems(item)]
    assert listings and problems == []


@pytest.mark.parametrize("name", DOCUMENTS)
def test_record_ids_are_unique(name: str) -> None:
    ids = [listing.record_id for listing in parsed(name).listings]
    assert len(ids) == len(set(ids))


# --- Konzerthaus detail page ------------------------------------------------------------------


@pytest.fixture(scope="module")
def konzert() -> Listing:
    (listing,) = parsed("konzerthaus_detail.html").listings
    return listing


def test_konzerthaus_title_loses_appended_date_and_venue(konzert: Listing) -> None:
    assert konzert.title == "5. Philharmonisches Konzert: Faszination Stadion"


def test_konzerthaus_start(konzert: Listing) -> None:
    assert konzert.start == berlin(2024, 1, 16, 20)


def test_konzerthaus_record_id_is_url_and_start(konzert: Listing) -> None:
    assert konzert.record_id == f"{KONZERTHAUS_URL}#2024-01-16T20:00:00+01:00"


def test_konzerthaus_series_key_is_the_url_without_its_date(konzert: Listing) -> None:
    assert konzert.series_key == (
        "https://www.konzerthaus-dortmund.de/de/programm/5-philharmonisches-konzert-faszination-stadion/"
    )


def test_konzerthaus_venue(konzert: Listing) -> None:
    assert (konzert.venue_name, konzert.venue_address) == ("Konzerthaus Dortmund", "Dortmund")


def test_konzerthaus_description_entities_decoded(konzert: Listing) -> None:
    assert konzert.description == "Über die Stadt Dortmund und den Fußball muss man keine Worte verlieren …"


def test_organization_block_is_not_an_event() -> None:
    assert parsed("konzerthaus_detail.html").records == 1


def test_without_name_cleaning_the_name_is_kept() -> None:
    result = parse_jsonld(
        (FIXTURES / "konzerthaus_detail.html").read_bytes(), source="t", fetched_at=FETCHED_AT
    )
    assert result.listings[0].title.endswith("16.01.2024 Konzerthaus Dortmund")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Faszination Stadion 16.01.2024 Konzerthaus Dortmund", "Faszination Stadion"),
        ("Faszination Stadion | Konzerthaus Dortmund | 16.01.2024", "Faszination Stadion"),
        ("Faszination Stadion - 16.1.2024, 20:00 Uhr", "Faszination Stadion"),
        ("Faszination Stadion 17.01.2024", "Faszination Stadion 17.01.2024"),
        ("Klangwelten Konzerthaus Dortmunder", "Klangwelten Konzerthaus Dortmunder"),
        ("Konzerthaus Dortmund", "Konzerthaus Dortmund"),
    ],
)
def test_clean_event_name(name: str, expected: str) -> None:
    assert clean_event_name(name, berlin(2024, 1, 16, 20), "Konzerthaus Dortmund") == expected


# --- @graph, types, references, AggregateOffer ------------------------------------------------


@pytest.fixture(scope="module")
def physiker() -> Listing:
    return by_title("graph.jsonld")["Die Physiker"]


def test_graph_finds_events_of_every_type_spelling() -> None:
    assert sorted(by_title("graph.jsonld")) == ["Die Physiker", "Impro-Abend", "Tanzabend"]


def test_record_id_is_the_resolved_at_id(physiker: Listing) -> None:
    assert physiker.record_id == "https://theater.example/spielplan/die-physiker/2025-03-14/#event"


def test_series_key_from_super_event(physiker: Listing) -> None:
    assert physiker.series_key == "https://theater.example/stuecke/die-physiker/"


def test_naive_times_are_berlin(physiker: Listing) -> None:
    assert (physiker.start, physiker.end) == (berlin(2025, 3, 14, 19, 30), berlin(2025, 3, 14, 21, 45))


def test_location_reference_resolved(physiker: Listing) -> None:
    assert (physiker.venue_name, physiker.venue_address) == ("Studio", "Theaterkarree 1-3, 44137 Dortmund")


def test_geo_from_strings_and_numbers(physiker: Listing) -> None:
    assert physiker.geo == (51.5106, 7.4596)


def test_organizer_reference_resolved(physiker: Listing) -> None:
    assert physiker.organiser == "Theater Beispiel gGmbH"


def test_language_object(physiker: Listing) -> None:
    assert physiker.language == "de"


def test_image_object_url_made_absolute(physiker: Listing) -> None:
    assert physiker.image == "https://theater.example/media/physiker.jpg"


def test_genre_as_categories(physiker: Listing) -> None:
    assert physiker.categories == ["Schauspiel", "Komödie"]


def test_rescheduled_with_previous_start(physiker: Listing) -> None:
    assert (physiker.status, physiker.previous_start) == (Status.RESCHEDULED, berlin(2025, 2, 28, 19, 30))


def test_aggregate_offer(physiker: Listing) -> None:
    (offer,) = physiker.offers
    assert (offer.price_min, offer.price_max, offer.currency) == (Decimal("12.50"), Decimal("35"), "EUR")


def test_aggregate_offer_availability_seller_and_sale_start(physiker: Listing) -> None:
    (offer,) = physiker.offers
    assert (offer.availability, offer.availability_text, offer.vendor, offer.on_sale) == (
        Availability.FEW_LEFT,
        "LimitedAvailability",
        "Theaterkasse",
        berlin(2025, 1, 15, 10),
    )


def test_postponed_without_prefix() -> None:
    assert by_title("graph.jsonld")["Tanzabend"].status is Status.POSTPONED


def test_location_as_text() -> None:
    listing = by_title("graph.jsonld")["Impro-Abend"]
    assert (listing.venue_name, listing.venue_address) == (
        "Fletch Bizzel",
        "Humboldtstraße 45, 44137 Dortmund",
    )


def test_utc_start_converted() -> None:
    assert by_title("graph.jsonld")["Impro-Abend"].start == berlin(2025, 4, 1, 22)


def test_record_id_without_at_id_is_url_and_start() -> None:
    listing = by_title("graph.jsonld")["Impro-Abend"]
    assert listing.record_id == "https://theater.example/spielplan/impro-2025-04-01#2025-04-01T20:00:00Z"


def test_series_key_strips_a_trailing_date_from_the_url() -> None:
    assert by_title("graph.jsonld")["Impro-Abend"].series_key == "https://theater.example/spielplan/impro"


# --- subEvent ---------------------------------------------------------------------------------


def test_sub_events_become_listings_and_the_festival_their_series() -> None:
    listings = by_title("festival_subevents.json")
    assert sorted(listings) == ["Band A", "Band B"]
    assert {listing.series_key for listing in listings.values()} == {"https://festival.example/2025/"}


def test_sub_event_inherits_place_and_image() -> None:
    band_a = by_title("festival_subevents.json")["Band A"]
    assert (band_a.venue_name, band_a.image) == ("Westfalenpark", "https://festival.example/poster.jpg")


def test_sub_event_keeps_its_own_place() -> None:
    assert by_title("festival_subevents.json")["Band B"].venue_name == "Seebühne"


def test_postal_address_object() -> None:
    band_a = by_title("festival_subevents.json")["Band A"]
    assert band_a.venue_address == "An der Buschmühle 3, 44139 Dortmund"


def test_price_zero_is_free() -> None:
    (offer,) = by_title("festival_subevents.json")["Band A"].offers
    assert (offer.price_min, offer.availability) == (Decimal("0"), Availability.FREE)


def test_undated_sub_event_is_rejected() -> None:
    assert [r.reason for r in parsed("festival_subevents.json").rejections] == ["subEvent without startDate"]


# --- HTML with two blocks, one broken ---------------------------------------------------------


def test_broken_block_is_skipped_with_a_warning_and_the_other_read() -> None:
    result = parsed("two_blocks_one_broken.html")
    assert any(w.startswith("ld+json block 1 of 2 is not valid JSON") for w in result.warnings)
    assert sorted(by_title("two_blocks_one_broken.html")) == ["Jazz im Keller", "Online-Workshop"]


def test_event_without_start_is_rejected_and_named() -> None:
    (rejection,) = parsed("two_blocks_one_broken.html").rejections
    assert (rejection.record_id, rejection.reason) == (
        "https://club.example/events/43",
        "event without startDate",
    )


def test_description_html_to_text() -> None:
    jazz = by_title("two_blocks_one_broken.html")["Jazz im Keller"]
    assert jazz.description == "Ein Abend mit Trio X.\nEinlass 19 Uhr"


def test_cancelled() -> None:
    assert by_title("two_blocks_one_broken.html")["Jazz im Keller"].status is Status.CANCELLED


def test_offer_list_with_sold_out_and_in_stock() -> None:
    offers = by_title("two_blocks_one_broken.html")["Jazz im Keller"].offers
    assert [(o.price_min, o.availability) for o in offers] == [
        (Decimal("18"), Availability.SOLD_OUT),
        (Decimal("12.00"), Availability.AVAILABLE),
    ]


def test_virtual_location() -> None:
    workshop = by_title("two_blocks_one_broken.html")["Online-Workshop"]
    assert (workshop.venue_name, workshop.venue_url) == (None, "https://meet.example/workshop")


# --- eventSchedule, all-day, ItemList ---------------------------------------------------------


def test_weekly_schedule_with_by_day_and_except_date() -> None:
    starts = [
        item.start for item in parsed("schedule.json").listings if item.title == "Fotografie der 1920er"
    ]
    assert starts == [berlin(2025, 3, 4, 10), berlin(2025, 3, 6, 10), berlin(2025, 3, 11, 10)]


def test_schedule_end_time() -> None:
    first = next(item for item in parsed("schedule.json").listings if item.title == "Fotografie der 1920er")
    assert first.end == berlin(2025, 3, 4, 18)


def test_daily_schedule_from_start_and_end_date_with_duration() -> None:
    course = [
        (item.start, item.end)
        for item in parsed("schedule.json").listings
        if item.title == "Intensivkurs Töpfern"
    ]
    assert course == [(berlin(2025, 8, day, 9, 30), berlin(2025, 8, day, 12, 30)) for day in (11, 12, 13)]


def test_schedule_occurrences_keyed_by_start() -> None:
    ids = [
        item.record_id for item in parsed("schedule.json").listings if item.title == "Intensivkurs Töpfern"
    ]
    assert ids[0] == "https://vhs.example/kurs/123#2025-08-11T07:30:00Z"


def test_schedule_respects_the_horizon() -> None:
    result = parse_jsonld(
        (FIXTURES / "schedule.json").read_bytes(),
        source="t",
        fetched_at=FETCHED_AT,
        window=(berlin(2025, 3, 5), berlin(2025, 3, 12)),
    )
    assert [item.start for item in result.listings if item.title.startswith("Foto")] == [
        berlin(2025, 3, 6, 10),
        berlin(2025, 3, 11, 10),
    ]


def test_date_only_is_all_day_with_inclusive_end_date() -> None:
    (listing,) = parsed("single.json").listings
    assert (listing.all_day, listing.start, listing.end) == (True, berlin(2025, 9, 14), berlin(2025, 9, 15))


def test_item_list_with_one_url_for_two_dates() -> None:
    listings = parsed("itemlist.html").listings
    assert [item.record_id for item in listings] == [
        "https://theater.example/events/lesung#2025-10-01T19:00:00+02:00",
        "https://theater.example/events/lesung#2025-10-08T19:00:00+02:00",
    ]


def test_relative_url_made_absolute() -> None:
    assert parsed("itemlist.html").listings[0].url == "https://theater.example/events/lesung"


def test_same_at_id_for_several_dates_is_disambiguated() -> None:
    text = (
        '[{"@type": "Event", "@id": "https://x.example/e", "name": "A", "startDate": "2025-05-01T20:00"},'
        ' {"@type": "Event", "@id": "https://x.example/e", "name": "A", "startDate": "2025-05-02T20:00"}]'
    )
    ids = [item.record_id for item in parse_jsonld(text, source="t", fetched_at=FETCHED_AT).listings]
    assert ids == ["https://x.example/e", "https://x.example/e#2025-05-02T18:00:00Z"]


def test_price_string_with_thousands_and_comma() -> None:
    text = '{"@type": "Event", "name": "Gala", "startDate": "2025-05-01", "offers": {"price": "1.234,50 €"}}'
    (listing,) = parse_jsonld(text, source="t", fetched_at=FETCHED_AT).listings
    assert listing.offers[0].price_min == Decimal("1234.50")


# --- not an event document --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ((FIXTURES / "no_jsonld.html").read_bytes(), "the page has no application/ld+json block"),
        (b"", "it is empty"),
        (b'{"@type": "Event", ', "it is not valid JSON"),
        (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "it is an iCalendar file"),
        (b'<html><script type="application/ld+json">{broken</script></html>', "none of its 1 ld+json"),
    ],
    ids=["no-ld-json", "empty", "bad-json", "ical", "only-broken"],
)
def test_not_an_event_document(data: bytes, reason: str) -> None:
    with pytest.raises(NotAnEventDocument) as caught:
        parse_jsonld(data, source="kino", fetched_at=FETCHED_AT, origin="page.html")
    assert caught.value.reason.startswith(reason)
    assert str(caught.value).startswith("kino: page.html has no usable JSON-LD: ")
    assert "\n" not in str(caught.value)


def test_json_ld_without_events_is_empty_with_a_warning() -> None:
    result = parse_jsonld('{"@type": "Organization", "name": "X"}', source="t", fetched_at=FETCHED_AT)
    assert (result.listings, result.warnings) == ([], ["the JSON-LD holds no Event"])


# --- the configurable source ------------------------------------------------------------------


class _Page:
    """A fetcher serving one fixture for any URL."""

    def __init__(self, name: str) -> None:
        self.name = name

    def new_run(self) -> None:
        pass

    def get(self, url: str) -> Document:
        return Document(url=url, body=(FIXTURES / self.name).read_bytes(), fetched_at=FETCHED_AT)

    def now(self) -> datetime:
        return FETCHED_AT


def test_source_is_a_platform_family_not_a_registered_source() -> None:
    assert JsonLdSource.platform == "jsonld"
    assert JsonLdSource not in registry().values()


def test_source_resolves_urls_against_the_document_url() -> None:
    source = JsonLdSource(
        _Page("itemlist.html"), options={"name": "lit", "url": "https://lit.example/programm/"}
    )
    assert next(item.url for item in source.run().listings) == "https://lit.example/events/lesung"


def test_source_venue_option_fills_listings_without_location() -> None:
    source = JsonLdSource(
        _Page("itemlist.html"), options={"name": "lit", "url": "https://lit.example/", "venue": "Lit"}
    )
    assert {item.venue_name for item in source.run().listings} == {"Lit"}


def test_source_cleans_names_through_an_overridable_method() -> None:
    class Shouting(JsonLdSource):
        def clean_name(self, name: str, start: datetime | None, location: str | None) -> str:
            return name.upper()

    source = Shouting(_Page("graph.jsonld"), options={"name": "shout", "url": "https://theater.example/"})
    assert "DIE PHYSIKER" in {item.title for item in source.run().listings}


def test_source_exposes_rejections() -> None:
    source = JsonLdSource(
        _Page("two_blocks_one_broken.html"), options={"name": "club", "url": "https://c.example/"}
    )
    result = source.run()
    assert [r.source for r in result.rejections] == ["club"] and result.warnings


# --- format detection and import --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (ICAL_FIXTURES / "recurring.ics", "ical"),
        (ICAL_FIXTURES / "bom_utf8.ics", "ical"),
        (ICAL_FIXTURES / "utf16.ics", "ical"),
        (FIXTURES / "graph.jsonld", "jsonld"),
        (FIXTURES / "schedule.json", "jsonld"),
        (FIXTURES / "konzerthaus_detail.html", "jsonld"),
        (FIXTURES / "no_jsonld.html", "html"),
        (ICAL_FIXTURES / "not_a_calendar.ics", "html"),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_detect_format_from_content(path: Path, expected: str) -> None:
    assert detect_format(path.read_bytes(), filename="download.bin") == expected


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("feed.ics", "", "ical"),
        ("", "text/calendar; charset=utf-8", "ical"),
        ("https://x.example/events.json?page=2", "", "jsonld"),
        ("", "text/html", "html"),
        ("notes.txt", "text/plain", "unknown"),
    ],
)
def test_detect_format_falls_back_to_name_and_type(filename: str, content_type: str, expected: str) -> None:
    assert detect_format(b"\x00\x01 ???", filename=filename, content_type=content_type) == expected


def test_import_dispatches_ical() -> None:
    data = (ICAL_FIXTURES / "recurring.ics").read_bytes()
    result = import_listings(data, source="s", fetched_at=FETCHED_AT, window=HORIZON, origin="recurring.ics")
    assert (result.format, len(result.listings), result.records) == ("ical", 6, 5)


def test_import_dispatches_json_ld_and_resolves_against_a_url_origin() -> None:
    data = (FIXTURES / "itemlist.html").read_bytes()
    result = import_listings(
        data, source="s", fetched_at=FETCHED_AT, window=HORIZON, origin="https://item.example/a/"
    )
    assert (result.format, result.listings[0].url) == ("jsonld", "https://item.example/events/lesung")


@pytest.mark.parametrize(
    ("data", "origin", "message"),
    [
        (
            (FIXTURES / "no_jsonld.html").read_bytes(),
            "page.html",
            "s: page.html cannot be imported: an HTML page",
        ),
        (b"", "leer.ics", "s: leer.ics is not an iCalendar file: it is empty"),
        (b"hello", "notes.txt", "s: notes.txt cannot be imported: neither iCalendar nor JSON-LD nor HTML"),
        (b'{"@type": ', "x.json", "s: x.json has no usable JSON-LD: it is not valid JSON"),
    ],
    ids=["html", "empty-ics", "text", "bad-json"],
)
def test_import_failure_names_the_origin(data: bytes, origin: str, message: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        import_listings(data, source="s", fetched_at=FETCHED_AT, window=HORIZON, origin=origin)
    assert str(caught.value).startswith(message)
