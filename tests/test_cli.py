"""The command line as a newcomer uses it, on a temporary SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.normalise.venues import load_venues
from stadtkalender.cli import main

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO.parent / "shared" / "ics-corpus" / "files"

CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:jazz-1@example.org\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Berlin:20270115T200000\r
DTEND;TZID=Europe/Berlin:20270115T220000\r
SUMMARY:Jazz im domicil\r
LOCATION:domicil, Hansastraße 7-11, Dortmund\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:jazz-2@example.org\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Berlin:20270122T200000\r
SUMMARY:Jazz im domicil\r
LOCATION:domicil, Hansastraße 7-11, Dortmund\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_commands_refuse_an_outdated_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["sources"]) == 2
    assert "stadtkalender db upgrade" in capsys.readouterr().err


def test_db_upgrade_seeds_the_venue_registry_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", f"sqlite:///{tmp_path / 'seed.db'}")
    assert main(["db", "upgrade"]) == 0
    first = capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"venue registry: {len(load_venues().all())} added, 0 refreshed" in first
    assert "venue registry: 0 added, 0 refreshed" in capsys.readouterr().out


def test_import_twice_changes_nothing(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "domicil.ics"
    calendar.write_text(CALENDAR, encoding="utf-8")
    assert main(["import", str(calendar), "--source", "domicil"]) == 0
    assert "2 added" in capsys.readouterr().out
    assert main(["import", str(calendar), "--source", "domicil"]) == 0
    assert "0 added, 0 updated, 2 unchanged" in capsys.readouterr().out


def test_import_of_something_that_is_no_calendar_says_so_in_one_line(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body>Nothing here</body></html>", encoding="utf-8")
    assert main(["import", str(page)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "page.html" in err[0]


def test_import_of_a_missing_file_names_it(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "no-such.ics"]) == 1
    assert "no-such.ics" in capsys.readouterr().err


def test_offline_ingest_sources_and_runs(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "konzerthaus", "--offline"]) == 0
    assert "konzerthaus: success" in capsys.readouterr().out
    assert main(["sources"]) == 0
    table = capsys.readouterr().out
    assert "konzerthaus" in table and "theater_dortmund" in table
    assert main(["runs", "konzerthaus"]) == 0
    assert "success" in capsys.readouterr().out


def test_unknown_source_is_a_clear_error(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "nonexistent"]) == 2
    assert "unknown source 'nonexistent'" in capsys.readouterr().err


def test_confirm_of_a_run_that_was_not_held_is_refused(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ingest", "konzerthaus", "--offline"])
    assert main(["runs", "confirm", "1"]) == 1
    assert "only held runs can be confirmed" in capsys.readouterr().err


def test_malformed_setting_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STADTKALENDER_SERVER_PORT", "eighty")
    assert main(["sources"]) == 2
    assert "server.port" in capsys.readouterr().err


@pytest.mark.corpus
@pytest.mark.slow
def test_import_of_every_corpus_file_finishes_without_traceback(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not SHARED_CORPUS.is_dir():
        pytest.skip("../shared/ics-corpus not present")
    files = sorted(str(p) for p in SHARED_CORPUS.iterdir())
    assert len(files) >= 200
    for chunk in range(0, len(files), 50):
        code = main(["import", *files[chunk : chunk + 50], "--source", f"corpus-{chunk}"])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        assert code in (0, 1)


PAST_CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:old-1@example.org\r\n"
    "DTSTART;TZID=Europe/Berlin:20120316T200000\r\nSUMMARY:Jazz im domicil\r\n"
    "LOCATION:domicil, Hansastraße 7-11, Dortmund\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_import_of_only_past_events_says_what_was_dropped_and_how_to_import_it(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "old.ics"
    calendar.write_text(PAST_CALENDAR, encoding="utf-8")
    assert main(["import", str(calendar)]) == 1
    captured = capsys.readouterr()
    assert "old.ics: 0 listings, 0 skipped, 1 outside the window" in captured.out
    assert "1 event outside the window" in captured.err and "1 ended before it (past)" in captured.err
    assert "--from 2012-03-16" in captured.err
    assert "nothing imported" in captured.err


def test_import_from_an_earlier_day_imports_the_past_event(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "old.ics"
    calendar.write_text(PAST_CALENDAR, encoding="utf-8")
    assert main(["import", str(calendar), "--from", "2012-01-01"]) == 0
    assert "old.ics: 1 listings, 0 skipped" in capsys.readouterr().out


def test_import_to_an_earlier_day_leaves_the_later_events_out_and_says_so(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "old.ics"
    calendar.write_text(PAST_CALENDAR, encoding="utf-8")
    assert main(["import", str(calendar), "--from", "2011-01-01", "--to", "2011-12-31"]) == 1
    captured = capsys.readouterr()
    assert "1 start after it (future)" in captured.err and "--to 2012-03-16" in captured.err


def test_import_window_that_ends_before_it_starts_is_refused(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "old.ics"
    calendar.write_text(PAST_CALENDAR, encoding="utf-8")
    assert main(["import", str(calendar), "--from", "2012-02-01", "--to", "2012-01-01"]) == 2
    assert "ends (2012-01-01) before it starts (2012-02-01)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "data.json",
            '{"results": [{"title": "Konzert", "date": "2027-01-15"}]}',
            "JSON holds no schema.org Event",
        ),
        (
            "page.html",
            '<html><script type="application/ld+json">{"@type": "Organization"}</script></html>',
            "its JSON-LD holds no schema.org Event",
        ),
        (
            "empty.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n",
            "a calendar without any VEVENT",
        ),
    ],
    ids=["json-not-schema-org", "page-without-events", "calendar-without-vevent"],
)
def test_import_of_a_file_without_anything_event_like_is_refused_in_one_line(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert main(["import", str(path)]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and name in err[0] and reason in err[0]
    assert "listings" not in captured.out


def test_openapi_prints_the_document_the_app_serves(capsys: pytest.CaptureFixture[str]) -> None:
    """``stadtkalender openapi`` (formerly ``python -m calendar_api.openapi``) describes every extension."""
    from calendar_api.openapi import openapi_document
    from stadtkalender.extensions import EXTENSIONS

    assert main(["openapi", "https://kalender.example/"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == openapi_document("https://kalender.example", EXTENSIONS)
    assert printed["servers"] == [{"url": "https://kalender.example"}]
    assert "/api/v1/push/events" in printed["paths"]
    assert "pushToken" in printed["components"]["securitySchemes"]
