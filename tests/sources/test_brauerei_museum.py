"""Brauerei-Museum adapter (its view of the dortmund.de calendar) against reconstructed pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.brauerei_museum import BrauereiMuseumSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "brauerei_museum"
START = "https://www.dortmund.de/veranstaltungskalender/?einrichtung=brauereimuseum"
LISTINGS = BrauereiMuseumSource(SnapshotFetcher(FIXTURES, NOW)).run().listings
BY_ID = {item.record_id: item for item in LISTINGS}
MUSEUMSTAG = BY_ID["520202/16-mai-2027"]


def test_venue_is_the_museum(listing: Listing) -> None:
    assert listing.venue_name == "Brauerei-Museum Dortmund"


def test_every_date_of_every_entry() -> None:
    assert len(LISTINGS) == 8 + 1


def test_title() -> None:
    assert (
        MUSEUMSTAG.title == "Internationaler Museumstag: Führung zur Geschichte des Bierbrauens in Dortmund"
    )


def test_date_text() -> None:
    assert MUSEUMSTAG.date_text == "So 16. Mai 2027"


def test_time_text() -> None:
    assert MUSEUMSTAG.time_text == "15:00 Uhr"


def test_free_tour_wording_in_the_description() -> None:
    assert "kostenlos" in (MUSEUMSTAG.description or "")


def test_weekly_tour_from_the_detail_page() -> None:
    assert len([i for i in LISTINGS if i.series_key == "520201"]) == 8


def test_address_from_the_detail_page() -> None:
    assert BY_ID["520201/6-dezember-2026"].venue_address == "Steigerstraße 16, Dortmund"


def test_tour_cancelled_for_the_building_works() -> None:
    assert BY_ID["520201/10-januar-2027"].status_text == "entfällt"


def test_changed_layout_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match="event-list"):
        list(BrauereiMuseumSource().parse(Document(START, body, "text/html; charset=utf-8", fetched_at=NOW)))
