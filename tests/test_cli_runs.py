"""`stadtkalender runs show RUN`: what one run rejected and why, on a temporary SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

from stadtkalender.cli import main


def _event(uid: str, location: str, start: str | None = "20270115T200000") -> str:
    when = f"DTSTART;TZID=Europe/Berlin:{start}\r\n" if start else ""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n{when}SUMMARY:Jazz im Keller\r\n"
        f"LOCATION:{location}\r\nEND:VEVENT\r\n"
    )


CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    + _event("good-1@example.org", "domicil, Hansastraße 7-11, Dortmund")
    + _event("dash@example.org", "-", "20270116T200000")
    + _event("blank@example.org", "", "20270117T200000")
    + _event("undated@example.org", "domicil", None)
    + "END:VCALENDAR\r\n"
)


def test_runs_show_lists_what_a_run_rejected_and_warned(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "keller.ics"
    calendar.write_text(CALENDAR, encoding="utf-8")
    assert main(["import", str(calendar), "--source", "keller"]) == 0
    assert "3 added" in capsys.readouterr().out
    assert main(["runs", "keller"]) == 0
    assert "runs show RUN" in capsys.readouterr().out
    assert main(["runs", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "run 1 of keller: success, 3 listings, 1 rejected" in shown
    row = next(line for line in shown.splitlines() if "undated@example.org" in line)
    assert "(adapter)" in row and "VEVENT without DTSTART" in row
    assert any(
        line.startswith("warning: ") and line.endswith("VEVENT without DTSTART")
        for line in shown.splitlines()
    )


def test_runs_show_of_a_missing_run_says_so(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "show", "7"]) == 1
    assert "no run 7" in capsys.readouterr().err
    assert main(["runs", "show"]) == 2
