"""Theater Dortmund adapter against three reconstructed calendar pages and an empty fourth."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.snapshots import SnapshotFetcher
from sources.theater_dortmund import TheaterDortmundSource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "theater_dortmund"
KALENDER = "https://www.theaterdo.de/kalender/"


class _CountingFetcher(SnapshotFetcher):
    """Remembers which URLs were asked for."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, NOW)
        self.requested: list[str] = []

    def get(self, url: str) -> Document:
        self.requested.append(url)
        return super().get(url)


FETCHER = _CountingFetcher(FIXTURES)
LISTINGS = TheaterDortmundSource(FETCHER).run().listings
RENT = LISTINGS[0]


def _by_title_and_date(title: str, date_text: str) -> Listing:
    return next(i for i in LISTINGS if i.title == title and i.date_text == date_text)


# Invariants over every item


def test_record_id_is_the_event_block_id(listing: Listing) -> None:
    assert re.fullmatch(r"event-\d+", listing.record_id)


def test_url_absolute(listing: Listing) -> None:
    assert (listing.url or "").startswith("https://www.theaterdo.de/produktionen/detail/")


def test_date_text_joined_from_day_and_month(listing: Listing) -> None:
    assert re.fullmatch(r"\d{1,2}\. (Dezember 2026|Januar 2027)", listing.date_text or "")


def test_venue_name_present(listing: Listing) -> None:
    assert listing.venue_name


# Paging


def test_three_pages_of_fifteen() -> None:
    assert len(LISTINGS) == 45


def test_paging_stops_at_the_empty_page() -> None:
    assert FETCHER.requested == [KALENDER] + [f"{KALENDER}?tx_solr%5Bpage%5D={n}" for n in (2, 3, 4)]


def test_paging_is_capped() -> None:
    class _Endless:
        def new_run(self) -> None:
            pass

        def get(self, url: str) -> Document:
            return Document(
                url,
                (FIXTURES / "kalender_page1.html").read_bytes(),
                "text/html; charset=utf-8",
                fetched_at=NOW,
            )

        def now(self) -> datetime:
            return NOW

    assert len(list(TheaterDortmundSource(_Endless()).fetch())) == 40


# One field per test


def test_title() -> None:
    assert RENT.title == "Rent"


def test_record_id() -> None:
    assert RENT.record_id == "event-412301"


def test_series_key_is_the_production_slug() -> None:
    assert RENT.series_key == "rent"


def test_url() -> None:
    assert RENT.url == "https://www.theaterdo.de/produktionen/detail/rent/"


def test_date_text() -> None:
    assert RENT.date_text == "1. Dezember 2026"


def test_time_text() -> None:
    assert RENT.time_text == "19:30 Uhr"


def test_venue() -> None:
    assert RENT.venue_name == "Opernhaus"


def test_division_is_the_category() -> None:
    assert RENT.categories == ["Oper"]


def test_subtitle() -> None:
    assert RENT.subtitle == "Musical von Jonathan Larson"


def test_eventim_ticket_link() -> None:
    assert [o.url for o in RENT.offers] == [
        "https://ticket.theaterdo.de/eventim.webshop/webticket/shop?event=18400"
    ]


# The awkward cases


def test_time_range_kept_verbatim() -> None:
    assert _by_title_and_date("Kostümverkauf", "5. Dezember 2026").time_text == "10:00 – 17:00 Uhr"


def test_missing_time_is_none() -> None:
    assert _by_title_and_date("BLACKBOX: Queer im Fußball", "3. Dezember 2026").time_text is None


def test_sold_out() -> None:
    offer = _by_title_and_date("Schwanensee", "5. Dezember 2026").offers[0]
    assert (offer.url, offer.availability_text) == (None, "ausverkauft")


def test_free_entry_is_price_text() -> None:
    offer = _by_title_and_date("Einführungsmatinee Madama Butterfly", "6. Dezember 2026").offers[0]
    assert (offer.price_text, offer.availability_text) == ("Eintritt frei!", None)


def test_cancelled_status_text() -> None:
    assert _by_title_and_date("Der Kirschgarten", "18. Dezember 2026").status_text == "abgesagt"


def test_no_ticket_area_content_means_no_offer() -> None:
    assert _by_title_and_date("Kostümverkauf", "5. Dezember 2026").offers == []


def test_missing_venue_defaults_to_the_division_house() -> None:
    assert _by_title_and_date("Familienkonzert", "20. Dezember 2026").venue_name == "Konzerthaus"


def test_default_venue_is_flagged_in_raw() -> None:
    assert _by_title_and_date("Familienkonzert", "20. Dezember 2026").raw["venue_default"] is True


def test_venue_with_address_kept_verbatim() -> None:
    item = _by_title_and_date("3. Kammerkonzert", "10. Januar 2027")
    assert item.venue_name == "Gartensaal, Baukunstarchiv NRW, Ostwall"


def test_premiere_label_in_raw() -> None:
    assert _by_title_and_date("Madama Butterfly", "4. Dezember 2026").raw["label"] == "Premiere"


def test_matinee_belongs_to_the_production() -> None:
    assert (
        _by_title_and_date("Einführungsmatinee Madama Butterfly", "6. Dezember 2026").series_key
        == "madama-butterfly"
    )


# Layout changes fail loudly


def test_changed_layout_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match=r"no div\.event"):
        list(
            TheaterDortmundSource().parse(
                Document(KALENDER, body, "text/html; charset=utf-8", fetched_at=NOW)
            )
        )


def test_page_without_results_container_raises() -> None:
    with pytest.raises(LayoutChanged, match="tx-solr-search"):
        list(
            TheaterDortmundSource().parse(
                Document(KALENDER, b"<html><body><h1>Kalender</h1></body></html>", fetched_at=NOW)
            )
        )


def test_empty_page_is_zero_listings() -> None:
    body = (FIXTURES / "kalender_page4.html").read_bytes()
    assert list(TheaterDortmundSource().parse(Document(KALENDER, body, fetched_at=NOW))) == []
