"""Deutsches Fußballmuseum adapter (JSON-LD events page) against an INVENTED page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from aggregator.types import Availability, Status
from sources.base import Document, LayoutChanged
from sources.fussballmuseum import FussballmuseumSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fussballmuseum"
PAGE = "https://www.fussballmuseum.de/veranstaltungen/"
LISTINGS = FussballmuseumSource(SnapshotFetcher(FIXTURES, NOW)).run().listings
BY_ID = {item.record_id.removeprefix(PAGE + "#"): item for item in LISTINGS}
GRILL = BY_ID["event-3012"]


def test_record_id_is_the_json_ld_id(listing: Listing) -> None:
    assert re.fullmatch(re.escape(PAGE) + r"#event-\d+", listing.record_id)


def test_url_absolute(listing: Listing) -> None:
    assert (listing.url or "").startswith(PAGE)


def test_start_present(listing: Listing) -> None:
    assert listing.start is not None


def test_venue_name(listing: Listing) -> None:
    assert listing.venue_name == "Deutsches Fußballmuseum"


def test_every_event_and_sub_event_is_parsed() -> None:
    assert len(LISTINGS) == 8


def test_title() -> None:
    assert GRILL.title == "Holger Stromberg lädt ein"


def test_start() -> None:
    assert GRILL.start is not None and GRILL.start.isoformat() == "2026-12-05T12:00:00+01:00"


def test_end() -> None:
    assert GRILL.end is not None and GRILL.end.isoformat() == "2026-12-05T13:00:00+01:00"


def test_address() -> None:
    assert GRILL.venue_address == "Platz der Deutschen Einheit 1, 44137 Dortmund"


def test_genre_is_the_category() -> None:
    assert GRILL.categories == ["Aktion"]


def test_description() -> None:
    assert "Currywurst gratis" in (GRILL.description or "")


def test_sold_out_tour() -> None:
    assert [o.availability for o in BY_ID["event-3015"].offers] == [Availability.SOLD_OUT]


def test_dates_of_one_tour_share_the_series_key() -> None:
    assert BY_ID["event-3015"].series_key == BY_ID["event-3016"].series_key == PAGE + "#event-3014"


def test_cancelled_date_of_a_series() -> None:
    assert BY_ID["event-3022"].status == Status.CANCELLED


def test_other_dates_of_the_series_are_not_cancelled() -> None:
    assert BY_ID["event-3021"].status is None


def test_date_only_start_is_all_day() -> None:
    assert BY_ID["event-3041"].all_day is True


def test_page_without_json_ld_events_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match="without any Event"):
        list(FussballmuseumSource().parse(Document(PAGE, body, "text/html; charset=utf-8", fetched_at=NOW)))


def test_page_without_json_ld_raises() -> None:
    with pytest.raises(LayoutChanged, match="no JSON-LD"):
        list(
            FussballmuseumSource().parse(
                Document(PAGE, b"<html><body><h1>Veranstaltungen</h1></body></html>", fetched_at=NOW)
            )
        )
