"""The Events Calendar (Tribe) REST adapter against two reconstructed API pages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import NOW

from aggregator.formats.html_text import html_to_text
from aggregator.listing import Listing
from aggregator.types import BERLIN
from sources.base import Document, LayoutChanged, SourceError, registry
from sources.platforms.tribe import TribeEventsSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tribe_example"
OPTIONS = {
    "name": "kulturort",
    "url": "https://kulturort.example",
    "venue": "Kulturort Beispiel",
    "start_date": "2024-05-01",
    "per_page": 3,
    "now": datetime(2024, 5, 1, 10, tzinfo=UTC),
}


def make(**options: Any) -> TribeEventsSource:
    return TribeEventsSource(SnapshotFetcher(FIXTURES, NOW), {**OPTIONS, **options})


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return list(make().fetch())


@pytest.fixture(scope="module")
def listings(documents: list[Document]) -> dict[str, Listing]:
    source = make()
    return {item.record_id: item for document in documents for item in source.parse(document)}


def by_id(listings: dict[str, Listing], post_id: int) -> Listing:
    return listings[f"kulturort.example?id={post_id}"]


def test_is_a_configurable_platform_class_outside_the_registry() -> None:
    assert TribeEventsSource.platform == "tribe"
    assert TribeEventsSource not in registry().values()
    assert make().source_name == "kulturort"


def test_fetch_follows_next_rest_url(documents: list[Document]) -> None:
    assert [d.url.rsplit("&", 1)[-1] for d in documents] == ["per_page=3", "page=2"]


def test_first_page_url_asks_for_the_window() -> None:
    assert make().first_page_url() == (
        "https://kulturort.example/wp-json/tribe/events/v1/events"
        "?start_date=2024-05-01&end_date=2025-06-05&per_page=3"
    )


@pytest.mark.parametrize(
    "url",
    ["https://kulturort.example/", "https://kulturort.example/wp-json/tribe/events/v1/events"],
)
def test_site_or_api_url_is_accepted(url: str) -> None:
    assert make(url=url).api_url() == "https://kulturort.example/wp-json/tribe/events/v1/events"


def test_start_date_offset_counts_from_now() -> None:
    source = make(start_date=7, future_days=30)
    assert "start_date=2024-05-08&end_date=2024-05-31" in source.first_page_url()


def test_window_comes_from_now_and_the_window_settings_not_the_wall_clock() -> None:
    source = make(start_date=None, now=datetime(2030, 3, 10, 23, 30, tzinfo=UTC), past_days=2, future_days=10)
    assert "start_date=2030-03-09&end_date=2030-03-21" in source.first_page_url()


def test_without_now_the_first_page_asks_for_the_apis_default_window() -> None:
    source = TribeEventsSource(None, {"name": "k", "url": "https://kulturort.example", "per_page": 3})
    assert source.first_page_url().endswith("/events?per_page=3")


class _Served:
    """A fetcher giving recorded documents in order, whatever URL the window asks for."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = iter(documents)

    def new_run(self) -> None:
        pass

    def now(self) -> datetime:
        return NOW

    def get(self, url: str) -> Document:
        return next(self.documents)


def test_events_outside_the_window_are_counted_not_listed(documents: list[Document]) -> None:
    options = {**OPTIONS, "now": datetime(2024, 6, 1, 10, tzinfo=UTC), "future_days": 150}
    result = TribeEventsSource(_Served(documents), options).run()
    assert [listing.start.date() for listing in result.listings if listing.start] == [
        date(2024, 9, 21),
        date(2024, 6, 12),
    ]
    assert [w.split(" left out: ")[-1] for w in result.warnings] == [
        "1 ended before it (past), 2 start after it (future)"
    ]


def test_every_event_of_both_pages_is_listed(listings: dict[str, Listing]) -> None:
    assert sorted(listings) == [f"kulturort.example?id={n}" for n in (4711, 4720, 4733, 4802, 4815)]


@pytest.mark.parametrize(
    ("post_id", "title"),
    [
        (4711, "Öffentliche Führung – Sammlung Ostwall"),
        (4720, "DORTMUNDER MUSEUMSNACHT & Party"),
        (4733, "Lesung: „Stadt der Zukunft“"),
    ],
)
def test_titles_are_unescaped(listings: dict[str, Listing], post_id: int, title: str) -> None:
    assert by_id(listings, post_id).title == title


def test_start_comes_from_the_utc_field(listings: dict[str, Listing]) -> None:
    assert by_id(listings, 4711).start == datetime(2024, 5, 4, 13, 0, tzinfo=UTC)


def test_end_comes_from_the_utc_field(listings: dict[str, Listing]) -> None:
    assert by_id(listings, 4815).end == datetime(2025, 5, 30, 20, 30, tzinfo=UTC)


def test_all_day_event_starts_at_local_midnight(listings: dict[str, Listing]) -> None:
    item = by_id(listings, 4720)
    assert (item.all_day, item.start) == (True, datetime(2024, 9, 21, tzinfo=BERLIN))


def test_description_is_plain_text_by_block(listings: dict[str, Listing]) -> None:
    assert by_id(listings, 4711).description == (
        "Die Führung durch die Sammlung Ostwall dauert ca. 60 Minuten.\n"
        "Treffpunkt: Foyer, Ebene 0.\nAnmeldung nicht erforderlich."
    )


def test_empty_description_is_none(listings: dict[str, Listing]) -> None:
    assert by_id(listings, 4733).description is None


def test_venue_from_the_event(listings: dict[str, Listing]) -> None:
    item = by_id(listings, 4711)
    assert (item.venue_name, item.venue_address, item.geo) == (
        "Dortmunder U",
        "Leonie-Reygers-Terrasse, 44137 Dortmund",
        (51.5155, 7.4536),
    )


def test_configured_venue_when_the_event_has_none(listings: dict[str, Listing]) -> None:
    item = by_id(listings, 4733)
    assert (item.venue_name, item.venue_address) == ("Kulturort Beispiel", None)


def test_price_range_offer(listings: dict[str, Listing]) -> None:
    (offer,) = by_id(listings, 4720).offers
    assert (offer.price_text, offer.price_min, offer.price_max, offer.url) == (
        "12 € – 18 €",
        Decimal("12"),
        Decimal("18"),
        "https://tickets.kulturort.example/museumsnacht",
    )


def test_free_text_cost_is_left_to_normalisation(listings: dict[str, Listing]) -> None:
    (offer,) = by_id(listings, 4733).offers
    assert (offer.price_text, offer.price_min) == ("Eintritt frei", None)


def test_no_cost_means_no_offer(listings: dict[str, Listing]) -> None:
    assert by_id(listings, 4802).offers == []


def test_categories_are_unescaped_names(listings: dict[str, Listing]) -> None:
    assert by_id(listings, 4802).categories == ["Kinder & Familie"]


def test_organiser(listings: dict[str, Listing]) -> None:
    assert by_id(listings, 4711).organiser == "Kulturbüro Dortmund & Partner"


def test_image_false_means_none(listings: dict[str, Listing]) -> None:
    assert by_id(listings, 4733).image is None
    assert (
        by_id(listings, 4711).image
        == "https://kulturort.example/wp-content/uploads/2024/04/fuehrung-durch-die-sammlung.jpg"
    )


@pytest.mark.parametrize("post_id", [4711, 4720, 4733, 4802, 4815])
def test_invariants(listings: dict[str, Listing], post_id: int) -> None:
    item = by_id(listings, post_id)
    assert item.source == "kulturort"
    assert item.series_key == str(post_id)
    assert item.start is not None and item.start.tzinfo is not None
    assert item.end is not None and item.end >= item.start
    assert item.url is not None and item.url.startswith("https://kulturort.example/veranstaltung/")
    assert item.title and item.title.lower() not in item.record_id.lower()


def page(data: Any, url: str = "https://kulturort.example/wp-json/tribe/events/v1/events") -> Document:
    return Document(url=url, body=json.dumps(data).encode(), content_type="application/json", fetched_at=NOW)


def test_json_without_events_is_a_layout_change() -> None:
    with pytest.raises(LayoutChanged, match="events"):
        list(make().parse(page({"code": "rest_no_route"})))


def test_html_instead_of_json_is_a_layout_change() -> None:
    document = Document(url="https://kulturort.example/", body=b"<html>Wartung</html>", fetched_at=NOW)
    with pytest.raises(LayoutChanged, match="not JSON"):
        list(make().parse(document))


def test_empty_first_page_with_a_total_is_a_layout_change() -> None:
    with pytest.raises(LayoutChanged, match="total"):
        list(make().parse(page({"events": [], "total": 12})))


def test_empty_programme_is_legitimate_when_total_is_zero() -> None:
    assert list(make().parse(page({"events": [], "total": 0, "total_pages": 0}))) == []


@pytest.mark.parametrize(
    ("zone", "expected_utc_hour"),
    [("UTC+1", 19), ("UTC+5.5", 14), ("UTC-3:30", 23), ("Europe/Berlin", 18), ("Mars/Olympus", 18)],
)
def test_local_time_with_zone_when_utc_is_missing(zone: str, expected_utc_hour: int) -> None:
    event = {"id": 1, "title": "X", "start_date": "2024-05-01 20:00:00", "timezone": zone}
    (item,) = make().parse(page({"events": [event], "total": 1}))
    assert item.start is not None
    assert item.start.astimezone(UTC).hour == expected_utc_hour


def test_record_id_without_global_id_uses_host_and_id() -> None:
    (item,) = make().parse(page({"events": [{"id": 9, "title": "X"}], "total": 1}))
    assert item.record_id == "kulturort.example?id=9"


class _Pages:
    """A fetcher whose every page points at a next page."""

    def __init__(self, next_url: str | None) -> None:
        self.next_url = next_url
        self.count = 0

    def new_run(self) -> None:
        pass

    def get(self, url: str) -> Document:
        self.count += 1
        following = (
            self.next_url or f"https://kulturort.example/wp-json/tribe/events/v1/events?page={self.count + 1}"
        )
        return page({"events": [], "total": 0, "next_rest_url": following}, url)

    def now(self) -> datetime:
        return NOW


def test_too_many_pages_fail_loudly() -> None:
    source = TribeEventsSource(_Pages(None), {**OPTIONS, "max_pages": 3})
    with pytest.raises(SourceError, match="more than 3 pages"):
        list(source.fetch())


def test_next_page_on_another_host_is_refused() -> None:
    source = TribeEventsSource(_Pages("https://elsewhere.example/next"), OPTIONS)
    with pytest.raises(LayoutChanged, match="next_rest_url"):
        list(source.fetch())


def test_html_to_text_handles_plain_text_with_entities() -> None:
    assert html_to_text("Rock &amp; Pop") == "Rock & Pop"
