"""Recording a source's documents into a snapshot folder, with fake fetchers (no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged, Source
from sources.platforms.tribe import TribeEventsSource
from sources.record import file_name_for, record
from sources.snapshots import SnapshotFetcher

TRIBE = Path(__file__).resolve().parent.parent / "fixtures" / "tribe_example"
TRIBE_OPTIONS = {
    "name": "kulturort",
    "url": "https://kulturort.example",
    "start_date": "2024-05-01",
    "per_page": 3,
    "now": datetime(2024, 5, 1, 10, tzinfo=UTC),  # the window's end in the recorded URL counts from it
}


class FakeFetcher:
    """Serves canned bodies and counts requests."""

    def __init__(self, pages: dict[str, tuple[bytes, str]]) -> None:
        self.pages = pages
        self.requested: list[str] = []

    def new_run(self) -> None:
        pass

    def now(self) -> datetime:
        return NOW

    def get(self, url: str) -> Document:
        self.requested.append(url)
        body, content_type = self.pages[url]
        return Document(url=url, body=body, content_type=content_type, fetched_at=NOW)


class TwoPages(Source):
    """A throwaway source: two fixed URLs, one listing per document unless it says BROKEN."""

    abstract = True
    start_urls: ClassVar[tuple[str, ...]] = (
        "https://venue.example/programm/",
        "https://venue.example/feed.ics",
    )

    def parse(self, document: Document) -> Iterator[Listing]:
        if b"BROKEN" in document.body:
            raise LayoutChanged("two_pages", "no programme list", document.url)
        yield Listing(source="two_pages", record_id=document.url, title="x", fetched_at=document.fetched_at)


PAGES = {
    "https://venue.example/programm/": (b"<html>Programm</html>", "text/html; charset=utf-8"),
    "https://venue.example/feed.ics": (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"),
}


@pytest.mark.parametrize(
    ("url", "content_type", "name"),
    [
        ("https://venue.example/de/programm/", "text/html; charset=utf-8", "de-programm.html"),
        ("https://venue.example/", "text/html", "index.html"),
        (
            "https://venue.example/kalender/?tx_solr%5Bpage%5D=2",
            "text/html",
            "kalender_tx_solr-5Bpage-5D-2.html",
        ),
        (
            "https://www.theaterdo.de/fileadmin/eventim/data.xml",
            "application/xml",
            "fileadmin-eventim-data.xml",
        ),
        ("https://venue.example/events.ics", "", "events.ics"),
        ("https://venue.example/api/events", "application/json; charset=UTF-8", "api-events.json"),
    ],
)
def test_file_names_are_safe_and_typed(url: str, content_type: str, name: str) -> None:
    assert file_name_for(url, content_type) == name


def test_long_names_are_shortened_with_a_hash() -> None:
    name = file_name_for("https://venue.example/" + "a" * 300, "text/html")
    assert len(name) <= 85
    assert name != file_name_for("https://venue.example/" + "a" * 299 + "b", "text/html")


def test_record_saves_every_document_and_the_index(tmp_path: Path) -> None:
    result = record(TwoPages(), FakeFetcher(PAGES), tmp_path)
    index = json.loads((tmp_path / "urls.json").read_text())
    assert index == {
        "https://venue.example/feed.ics": {
            "file": "feed.ics",
            "content_type": "text/calendar",
            "fetched_at": NOW.isoformat(),
        },
        "https://venue.example/programm/": {
            "file": "programm.html",
            "content_type": "text/html; charset=utf-8",
            "fetched_at": NOW.isoformat(),
        },
    }

    assert (tmp_path / "programm.html").read_bytes() == b"<html>Programm</html>"
    assert (result.listings, result.parse_errors) == (2, [])
    assert str(result) == f"2 documents, 2 listings into {tmp_path}"


def test_a_replay_says_each_page_was_fetched_when_it_was_recorded(tmp_path: Path) -> None:
    record(TwoPages(), FakeFetcher(PAGES), tmp_path)
    later = NOW.replace(year=NOW.year + 3)
    document = SnapshotFetcher(tmp_path, later).get("https://venue.example/feed.ics")
    assert document.fetched_at == NOW


def test_recording_replays_through_the_snapshot_fetcher(tmp_path: Path) -> None:
    recorded = record(TribeEventsSource(None, TRIBE_OPTIONS), SnapshotFetcher(TRIBE, NOW), tmp_path)
    replayed = TribeEventsSource(SnapshotFetcher(tmp_path, NOW), TRIBE_OPTIONS)
    titles = [item.title for item in replayed.run().listings]
    assert recorded.listings == len(titles) == 5
    assert len(recorded.files) == 2


def test_rerecording_keeps_names_and_other_entries(tmp_path: Path) -> None:
    (tmp_path / "urls.json").write_text(json.dumps({"https://other.example/": "other.html"}))
    (tmp_path / "other.html").write_text("old")
    record(TwoPages(), FakeFetcher(PAGES), tmp_path)
    changed = {**PAGES, "https://venue.example/programm/": (b"<html>Neu</html>", "text/html")}
    record(TwoPages(), FakeFetcher(changed), tmp_path)
    index = json.loads((tmp_path / "urls.json").read_text())
    assert sorted(index) == [
        "https://other.example/",
        "https://venue.example/feed.ics",
        "https://venue.example/programm/",
    ]
    assert (tmp_path / "programm.html").read_bytes() == b"<html>Neu</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "feed.ics",
        "other.html",
        "programm.html",
        "urls.json",
    ]


def test_a_name_taken_by_another_url_gets_a_suffix(tmp_path: Path) -> None:
    (tmp_path / "urls.json").write_text(json.dumps({"https://mirror.example/programm/": "programm.html"}))
    result = record(TwoPages(), FakeFetcher(PAGES), tmp_path)
    assert result.files["https://venue.example/programm/"] == "programm-2.html"


def test_parse_errors_are_collected_and_the_page_still_saved(tmp_path: Path) -> None:
    broken = {**PAGES, "https://venue.example/programm/": (b"<html>BROKEN</html>", "text/html")}
    result = record(TwoPages(), FakeFetcher(broken), tmp_path)
    assert (tmp_path / "programm.html").read_bytes() == b"<html>BROKEN</html>"
    assert result.listings == 1
    assert len(result.parse_errors) == 1 and "no programme list" in result.parse_errors[0]


def test_the_source_gets_its_fetcher_back(tmp_path: Path) -> None:
    original = FakeFetcher(PAGES)
    source = TwoPages(original)
    record(source, FakeFetcher(PAGES), tmp_path)
    assert source.fetcher is original
