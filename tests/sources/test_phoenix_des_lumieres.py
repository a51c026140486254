"""Phoenix des Lumières adapter against an INVENTED programme page (the real layout is unknown)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.phoenix_des_lumieres import PhoenixDesLumieresSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "phoenix_des_lumieres"
PAGE = "https://www.phoenix-lumieres.com/de/programm"
LISTINGS = PhoenixDesLumieresSource(SnapshotFetcher(FIXTURES, NOW)).run().listings
BY_ID = {item.record_id: item for item in LISTINGS}
OZEAN = BY_ID["node-236"]
PHARAONEN = BY_ID["node-231"]


def test_record_id_is_the_node(listing: Listing) -> None:
    assert re.fullmatch(r"node-\d+", listing.record_id)


def test_url_absolute(listing: Listing) -> None:
    assert (listing.url or "").startswith("https://www.phoenix-lumieres.com/de/")


def test_date_text_is_a_date_or_period(listing: Listing) -> None:
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}( – \d{2}\.\d{2}\.\d{4})?", listing.date_text or "")


def test_venue_name(listing: Listing) -> None:
    assert listing.venue_name == "Phoenix des Lumières"


def test_every_teaser_is_parsed() -> None:
    assert len(LISTINGS) == 7


def test_title() -> None:
    assert OZEAN.title == "Wunderwelt Ozean"


def test_period_is_the_date_text() -> None:
    assert OZEAN.date_text == "22.03.2027 – 03.04.2027"


def test_daily_hours_written_as_a_time_span() -> None:
    assert OZEAN.time_text == "10:00 – 18:00 Uhr"


def test_hours_as_printed_kept_in_raw() -> None:
    assert OZEAN.raw["hours"] == "täglich 10–18 Uhr"


def test_kind_is_the_category() -> None:
    assert OZEAN.categories == ["Sonderausstellung"]


def test_subtitle() -> None:
    assert OZEAN.subtitle == "Die beliebte Ausstellung kehrt für die Osterferien zurück"


def test_ticket_link() -> None:
    assert [o.url for o in OZEAN.offers] == [
        "https://www.phoenix-lumieres.com/de/tickets?show=wunderwelt-ozean"
    ]


def test_series_key_is_the_path_slug() -> None:
    assert OZEAN.series_key == "wunderwelt-ozean"


def test_weekday_dependent_hours_pass_through() -> None:
    assert PHARAONEN.time_text == "So–Do 10–17 Uhr, Fr–Sa 10–19 Uhr"


def test_missing_hours_is_none() -> None:
    assert BY_ID["node-229"].time_text is None


def test_cancelled_event() -> None:
    assert BY_ID["node-240"].status_text == "abgesagt"


def test_cancelled_event_has_no_ticket_offer() -> None:
    assert BY_ID["node-240"].offers == []


def test_single_date_event_keeps_its_time() -> None:
    assert (BY_ID["node-240"].date_text, BY_ID["node-240"].time_text) == ("16.01.2027", "20:00 Uhr")


@pytest.mark.parametrize(
    ("printed", "written"),
    [("täglich 10–18 Uhr", "10:00 – 18:00 Uhr"), ("täglich 9.30 - 17 Uhr", "09:30 – 17:00 Uhr")],
)
def test_daily_hours_variants(printed: str, written: str) -> None:
    assert PhoenixDesLumieresSource()._parse_time_text(printed) == written


def test_changed_layout_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match="view-expositions"):
        list(
            PhoenixDesLumieresSource().parse(Document(PAGE, body, "text/html; charset=utf-8", fetched_at=NOW))
        )
