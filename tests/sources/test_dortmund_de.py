"""dortmund.de city calendar adapter against reconstructed list and detail pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.dortmund_de import DortmundDeSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dortmund_de"
CALENDAR = "https://www.dortmund.de/veranstaltungskalender/"
DETAIL = CALENDAR + "veranstaltung.html?eid="
SOURCE = DortmundDeSource(SnapshotFetcher(FIXTURES, NOW))
DOCUMENTS = list(SOURCE.fetch())
LISTINGS = SOURCE.run().listings
BY_ID = {item.record_id: item for item in LISTINGS}
FIRST_PAGE = list(SOURCE.parse(DOCUMENTS[0]))
PANZER = BY_ID["512322/8-dezember-2026"]


# Invariants over every item (those of every dortmund.de reader: test_dortmund_de_family.py)


def test_venue_name_present(listing: Listing) -> None:
    assert listing.venue_name


# Fetching: both list pages, then the detail pages of multi-date entries only


def test_fetch_follows_the_next_link() -> None:
    assert [d.url for d in DOCUMENTS[:2]] == [CALENDAR, CALENDAR + "?page=2"]


def test_fetch_gets_detail_pages_of_multi_date_entries_only() -> None:
    eids = {d.url.removeprefix(DETAIL) for d in DOCUMENTS[2:]}
    assert eids == {
        "512301",
        "512302",
        "512288",
        "512311",
        "512275",
        "512320",
        "512276",
        "512277",
        "512323",
        "512278",
    }


def test_every_date_of_every_entry() -> None:
    assert len(LISTINGS) == 28 + 31 + 68 + 1 + 4 + 17 + 2 + 5 + 1 + 5 + 1 + 6 + 1 + 3 + 1 + 1 + 1 + 1


# The list page alone: one listing per entry, for the date it shows


def test_list_page_gives_one_listing_per_entry() -> None:
    assert len(FIRST_PAGE) == 10


def test_list_page_keeps_the_number_of_dates() -> None:
    assert FIRST_PAGE[0].raw["termine"] == 28


def test_list_page_first_date_has_the_same_record_id_as_on_the_detail_page() -> None:
    assert FIRST_PAGE[0].record_id in BY_ID


# One field per test (a one-date entry, from the list page)


def test_title() -> None:
    assert PANZER.title == "Paul Panzer - Apaulkalypse"


def test_date_text() -> None:
    assert PANZER.date_text == "Di 8. Dezember 2026"


def test_time_text() -> None:
    assert PANZER.time_text == "20:00 Uhr"


def test_venue() -> None:
    assert PANZER.venue_name == "Westfalenhallen Dortmund"


def test_teaser_is_the_description() -> None:
    assert (PANZER.description or "").startswith("Paul Panzer präsentiert sein neues Programm")


def test_url() -> None:
    assert PANZER.url == DETAIL + "512322"


def test_one_date_entry_has_termine_one() -> None:
    assert PANZER.raw["termine"] == 1


# From detail pages


def test_detail_page_gives_every_date() -> None:
    assert len([i for i in LISTINGS if i.series_key == "512275"]) == 17


def test_detail_page_time_span() -> None:
    assert BY_ID["512301/28-november-2026"].time_text == "10:00 bis 17:00 Uhr"


def test_detail_page_address() -> None:
    assert BY_ID["512275/1-dezember-2026"].venue_address == "Platz der Alten Synagoge, 44137 Dortmund"


def test_detail_page_organiser_without_label() -> None:
    assert BY_ID["512275/1-dezember-2026"].organiser == "Theater Dortmund"


def test_detail_page_category() -> None:
    assert BY_ID["512275/1-dezember-2026"].categories == ["Musical"]


def test_one_cancelled_date_of_a_series() -> None:
    assert BY_ID["512275/31-dezember-2026"].status_text == "entfällt"


def test_other_dates_of_that_series_are_not_cancelled() -> None:
    assert BY_ID["512275/26-dezember-2026"].status_text is None


# The awkward cases


def test_cancelled_entry_on_the_list() -> None:
    assert BY_ID["512332/20-dezember-2026"].status_text == "Abgesagt"


def test_missing_time_is_none() -> None:
    assert BY_ID["512290/24-mai-2027"].time_text is None


def test_two_dates_on_one_day_get_distinct_ids() -> None:
    body = (FIXTURES / "veranstaltung_512320.html").read_text(encoding="utf-8")
    body = body.replace("Do 3. Dezember 2026", "Mi 2. Dezember 2026")
    items = list(DortmundDeSource().parse(Document(DETAIL + "512320", body.encode(), fetched_at=NOW)))
    assert [i.record_id for i in items] == ["512320/2-dezember-2026", "512320/2-dezember-2026#2"]


# Layout changes fail loudly


def test_changed_layout_raises() -> None:
    body = (FIXTURES / "changed_layout.html").read_bytes()
    with pytest.raises(LayoutChanged, match="event-list"):
        list(DortmundDeSource().parse(Document(CALENDAR, body, "text/html; charset=utf-8", fetched_at=NOW)))


def test_entry_link_without_eid_raises() -> None:
    body = (FIXTURES / "liste_alle_2.html").read_text(encoding="utf-8").replace("?eid=", "?id=")
    with pytest.raises(LayoutChanged, match="eid"):
        list(DortmundDeSource().parse(Document(CALENDAR, body.encode(), fetched_at=NOW)))
