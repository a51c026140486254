"""MKK adapter (the museum's view of the dortmund.de calendar) against reconstructed pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.mkk import MkkSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mkk"
START = "https://www.dortmund.de/veranstaltungskalender/?einrichtung=mkk"
LISTINGS = MkkSource(SnapshotFetcher(FIXTURES, NOW)).run().listings
BY_ID = {item.record_id: item for item in LISTINGS}
TOUR = BY_ID["520104/3-januar-2027"]


def test_venue_is_the_museum(listing: Listing) -> None:
    assert listing.venue_name == "Museum für Kunst und Kulturgeschichte"


def test_every_date_of_every_entry() -> None:
    assert len(LISTINGS) == 77 + 6 + 3 + 1 + 1


def test_title() -> None:
    assert TOUR.title == "Goldschatz, Giftschrank und Gemälde"


def test_date_text() -> None:
    assert TOUR.date_text == "So 3. Januar 2027"


def test_time_text() -> None:
    assert TOUR.time_text == "13:00 Uhr"


def test_prices_stay_in_the_description() -> None:
    assert "Eintritt frei, Führung 3 Euro" in (TOUR.description or "")


def test_exhibition_daily_hours() -> None:
    assert BY_ID["520101/1-dezember-2026"].time_text == "10:00 bis 17:00 Uhr"


def test_exhibition_category_from_the_detail_page() -> None:
    assert BY_ID["520101/1-dezember-2026"].categories == ["Ausstellung"]


def test_cancelled_tour_date() -> None:
    assert BY_ID["520102/27-dezember-2026"].status_text == "entfällt"


def test_missing_time_is_none() -> None:
    assert BY_ID["520105/16-mai-2027"].time_text is None


def test_changed_layout_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match="event-list"):
        list(MkkSource().parse(Document(START, body, "text/html; charset=utf-8", fetched_at=NOW)))
