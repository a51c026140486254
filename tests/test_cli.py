"""The command line as a newcomer uses it, on a temporary SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    return path


def test_commands_refuse_an_outdated_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["sources"]) == 2
    assert "stadtkalender db upgrade" in capsys.readouterr().err


def test_import_twice_changes_nothing(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
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


def test_confirm_of_a_run_that_was_not_held_is_refused(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest", "konzerthaus", "--offline"])
    assert main(["runs", "confirm", "1"]) == 1
    assert "only held runs can be confirmed" in capsys.readouterr().err


def test_malformed_setting_is_reported_by_name(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
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
        code = main(["import", *files[chunk:chunk + 50], "--source", f"corpus-{chunk}"])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        assert code in (0, 1)
