"""Westfalenhallen adapter against an INVENTED event list (the real layout is unknown)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.snapshots import SnapshotFetcher
from sources.westfalenhallen import WestfalenhallenSource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "westfalenhallen"
PAGE = "https://www.westfalenhallen.de/veranstaltungen/"
LISTINGS = WestfalenhallenSource(SnapshotFetcher(FIXTURES, NOW)).run().listings
BY_ID = {item.record_id: item for item in LISTINGS}
PROMS = BY_ID["uid-7312"]
FAIR = BY_ID["uid-7322"]


def test_record_id_is_the_uid(listing: Listing) -> None:
    assert re.fullmatch(r"uid-\d+", listing.record_id)


def test_url_absolute(listing: Listing) -> None:
    assert (listing.url or "").startswith("https://www.westfalenhallen.de/veranstaltungen/detail/")


def test_date_text_present(listing: Listing) -> None:
    assert re.match(r"(Mo|Di|Mi|Do|Fr|Sa|So) \d{2}\.\d{2}\.\d{4}", listing.date_text or "")


def test_venue_name(listing: Listing) -> None:
    assert listing.venue_name == "Westfalenhallen Dortmund"


def test_room_is_a_hall(listing: Listing) -> None:
    assert (listing.room or "").startswith("Halle")


def test_every_item_is_parsed() -> None:
    assert len(LISTINGS) == 9


def test_title() -> None:
    assert PROMS.title == "Night of the Proms"


def test_date_text() -> None:
    assert PROMS.date_text == "Mi 02.12.2026"


def test_time_text() -> None:
    assert PROMS.time_text == "20:00 Uhr"


def test_room() -> None:
    assert PROMS.room == "Halle 1"


def test_category() -> None:
    assert PROMS.categories == ["Konzert"]


def test_admission_time_kept_in_raw() -> None:
    assert PROMS.raw["admission"] == "Einlass 19:00 Uhr"


def test_eventim_ticket_link() -> None:
    assert [(o.vendor, o.url) for o in PROMS.offers] == [
        ("Eventim", "https://www.eventim.de/event/night-of-the-proms-2026-westfalenhalle-dortmund-7312000/")
    ]


def test_series_key_is_the_detail_slug() -> None:
    assert PROMS.series_key == "night-of-the-proms-2026"


def test_multi_day_fair_date_range() -> None:
    assert FAIR.date_text == "Mi 09.12.2026 – Mo 14.12.2026"


def test_multi_day_fair_daily_hours() -> None:
    assert FAIR.time_text == "10:00 – 17:00 Uhr"


def test_fair_without_ticket_link_has_no_offer() -> None:
    assert FAIR.offers == []


def test_missing_time_is_none() -> None:
    assert BY_ID["uid-7340"].time_text is None


def test_cancelled() -> None:
    assert BY_ID["uid-7341"].status_text == "abgesagt"


def test_sold_out() -> None:
    assert [o.availability_text for o in BY_ID["uid-7355"].offers] == ["ausverkauft"]


def test_two_dates_share_the_series_key() -> None:
    assert {BY_ID["uid-7355"].series_key, BY_ID["uid-7356"].series_key} == {"helene-fischer-2027"}


def test_changed_layout_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match="event-list"):
        list(WestfalenhallenSource().parse(Document(PAGE, body, "text/html; charset=utf-8", fetched_at=NOW)))


def test_item_without_uid_raises() -> None:
    body = (FIXTURES / "veranstaltungen.html").read_text(encoding="utf-8").replace('data-uid="7301"', "")
    with pytest.raises(LayoutChanged, match="data-uid"):
        list(WestfalenhallenSource().parse(Document(PAGE, body.encode(), fetched_at=NOW)))
