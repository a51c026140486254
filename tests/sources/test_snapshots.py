"""Offline fetching from snapshot folders (the fixture format)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.config import IngestSettings, Settings
from sources.base import SourceError
from sources.snapshots import SnapshotFetcher, SnapshotMissing, read_index, snapshot_dir


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "programm.html").write_bytes("<h1>Konzert für Kinder</h1>".encode())
    (tmp_path / "feed.ics").write_bytes(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "p2.json").write_bytes(b'{"events": []}')
    index = {
        "https://example.org/programm/": {
            "file": "programm.html",
            "content_type": "text/html; charset=utf-8",
        },
        "https://example.org/feed.ics": "feed.ics",
        "https://example.org/api?page=2": {"file": "pages/p2.json"},
    }
    (tmp_path / "urls.json").write_text(json.dumps(index), encoding="utf-8")
    return tmp_path


def test_get_returns_the_recorded_body_and_content_type(folder: Path) -> None:
    document = SnapshotFetcher(folder, NOW).get("https://example.org/programm/")
    assert (document.url, document.text, document.content_type) == (
        "https://example.org/programm/",
        "<h1>Konzert für Kinder</h1>",
        "text/html; charset=utf-8",
    )


@pytest.mark.parametrize(
    ("url", "content_type"),
    [
        ("https://example.org/feed.ics", "text/calendar; charset=utf-8"),
        ("https://example.org/api?page=2", "application/json; charset=utf-8"),
    ],
)
def test_short_entries_guess_the_content_type(folder: Path, url: str, content_type: str) -> None:
    assert SnapshotFetcher(folder, NOW).get(url).content_type == content_type


def test_unmapped_url_names_url_and_folder(folder: Path) -> None:
    with pytest.raises(SnapshotMissing) as info:
        SnapshotFetcher(folder, NOW).get("https://example.org/other")
    assert info.value.url == "https://example.org/other"
    assert str(folder) in str(info.value)


def test_folder_without_index_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"urls\.json"):
        SnapshotFetcher(tmp_path, NOW).get("https://example.org/")


def test_missing_file_is_an_error(folder: Path) -> None:
    (folder / "feed.ics").unlink()
    with pytest.raises(SourceError, match=r"feed\.ics"):
        SnapshotFetcher(folder, NOW).get("https://example.org/feed.ics")


def test_malformed_entry_is_reported(tmp_path: Path) -> None:
    (tmp_path / "urls.json").write_text('{"https://x.example/": 3}', encoding="utf-8")
    with pytest.raises(SourceError, match=r"x\.example"):
        read_index(tmp_path)


def test_snapshot_dir_is_under_the_configured_folder(tmp_path: Path) -> None:
    settings = Settings(ingest=IngestSettings(snapshots_dir=str(tmp_path)))
    assert snapshot_dir(settings, "konzerthaus") == tmp_path / "konzerthaus"
