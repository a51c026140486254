"""Zoo and Westfalenpark adapter (two views of the dortmund.de calendar) against reconstructed pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.snapshots import SnapshotFetcher
from sources.zoo_westfalenpark import ZooWestfalenparkSource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "zoo_westfalenpark"
CALENDAR = "https://www.dortmund.de/veranstaltungskalender/"
SOURCE = ZooWestfalenparkSource(SnapshotFetcher(FIXTURES, NOW))
DOCUMENTS = list(SOURCE.fetch())
LISTINGS = SOURCE.run().listings
BY_ID = {item.record_id: item for item in LISTINGS}
BIRTHDAY = BY_ID["512290/24-mai-2027"]


def test_venue_is_zoo_or_park(listing: Listing) -> None:
    assert listing.venue_name in {"Zoo Dortmund", "Westfalenpark Dortmund"}


def test_both_institution_lists_are_fetched() -> None:
    assert [d.url for d in DOCUMENTS if "einrichtung" in d.url] == [
        CALENDAR + "?einrichtung=zoo",
        CALENDAR + "?einrichtung=westfalenpark",
    ]


def test_every_date_of_every_entry() -> None:
    assert len(LISTINGS) == 2 + 1 + 4 + 2 + 1


def test_title() -> None:
    assert BIRTHDAY.title == "Zoo-Geburtstag"


def test_date_text() -> None:
    assert BIRTHDAY.date_text == "Mo 24. Mai 2027"


def test_missing_time_is_none() -> None:
    assert BIRTHDAY.time_text is None


def test_venue() -> None:
    assert BIRTHDAY.venue_name == "Zoo Dortmund"


def test_free_entry_wording_in_the_description() -> None:
    assert "freien Eintritt" in (BIRTHDAY.description or "")


def test_two_day_festival() -> None:
    assert [i.date_text for i in LISTINGS if i.series_key == "520403"] == [
        "Fr 23. Juli 2027",
        "Sa 24. Juli 2027",
    ]


def test_cancelled_rosarium_tour() -> None:
    assert BY_ID["520402/20-juni-2027"].status_text == "entfällt"


def test_changed_layout_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match="event-list"):
        list(ZooWestfalenparkSource().parse(Document(CALENDAR + "?einrichtung=zoo", body, fetched_at=NOW)))
