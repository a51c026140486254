"""Dortmunder U adapter (a Tribe REST API site) against a reconstructed API page."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.dortmunder_u import DortmunderUSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dortmunder_u"
API = "https://dortmunder-u.de/wp-json/tribe/events/v1/events"
LISTINGS = DortmunderUSource(SnapshotFetcher(FIXTURES, NOW)).run().listings
BY_ID = {item.record_id: item for item in LISTINGS}
SOMA = BY_ID["dortmunder-u.de?id=20412"]


def test_url_absolute(listing: Listing) -> None:
    assert (listing.url or "").startswith("https://dortmunder-u.de/event/")


def test_start_present(listing: Listing) -> None:
    assert listing.start is not None


def test_venue_name_present(listing: Listing) -> None:
    assert listing.venue_name


def test_every_event_is_parsed() -> None:
    assert len(LISTINGS) == 14


def test_first_page_url_does_not_depend_on_today() -> None:
    assert DortmunderUSource().first_page_url() == f"{API}?per_page=50"


def test_title_entities_decoded() -> None:
    assert SOMA.title == "Kleiner Freitag: Judith Kranz – „Soma“"


def test_start_is_utc_of_the_local_time() -> None:
    assert SOMA.start is not None and SOMA.start.isoformat() == "2026-12-03T18:00:00+00:00"


def test_category() -> None:
    assert SOMA.categories == ["Kleiner Freitag"]


def test_free_entry_offer() -> None:
    assert [o.price_text for o in SOMA.offers] == ["Eintritt frei"]


def test_institution_venue() -> None:
    assert BY_ID["dortmunder-u.de?id=20398"].venue_name == "Museum Ostwall im Dortmunder U"


def test_exhibition_is_all_day() -> None:
    assert BY_ID["dortmunder-u.de?id=20350"].all_day is True


def test_cancelled_wording_stays_in_the_title() -> None:
    assert BY_ID["dortmunder-u.de?id=20400"].title.startswith("ABGESAGT:")


def test_priced_event_keeps_the_amount() -> None:
    offer = BY_ID["dortmunder-u.de?id=20447"].offers[0]
    assert (offer.price_text, str(offer.price_min)) == ("7,50 €", "7.50")


def test_weekly_tour_dates_are_separate_records() -> None:
    tours = [i for i in LISTINGS if "Kunst -> Leben -> Kunst" in i.title]
    assert len({i.record_id for i in tours}) == 3


def test_changed_layout_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match="not JSON"):
        list(DortmunderUSource().parse(Document(API, body, "text/html; charset=utf-8", fetched_at=NOW)))
