"""`stadtkalender import` file by file, and of URLs that cannot be fetched (issue 12)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from aggregator.db import make_engine, session_factory
from aggregator.models import Event, Occurrence, SourceRecord
from stadtkalender.cli import main


def _calendar(titles: list[str], day: int) -> str:
    """VEVENTs with the UIDs an exporting tool numbers from 1, at one venue, on January ``day``+i."""
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{number}\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART;TZID=Europe/Berlin:202701{day + number:02d}T200000\r\nSUMMARY:{title}\r\n"
        "LOCATION:domicil, Hansastraße 7-11, Dortmund\r\nEND:VEVENT\r\n"
        for number, title in enumerate(titles, start=1)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n"


FILES = {
    "a.ics": _calendar(["Quintett Morgenrot", "Trio Abendblau", "Duo Mittagsgelb"], 1),
    "b.ics": _calendar(["Lesung Kranichflug", "Vortrag Seidenstraße"], 10),
    "c.ics": _calendar(["Tanzabend Wirbelwind"], 20),
}


@pytest.fixture
def database(database: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's database (tests/conftest.py), with the import files beside it and a fast HTTP client."""
    monkeypatch.setenv("STADTKALENDER_HTTP_CACHE_DIR", str(database.parent / "http-cache"))
    monkeypatch.setenv("STADTKALENDER_HTTP_REQUESTS_PER_SECOND", "100")
    for name, text in FILES.items():
        (database.parent / name).write_text(text, encoding="utf-8")
    return database


def _stored(database: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Title per event, and status per occurrence title."""
    engine = make_engine(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        titles = {event.id: event.title for event in session.scalars(select(Event))}
        statuses = {titles[o.event_id]: o.status for o in session.scalars(select(Occurrence))}
    engine.dispose()
    return titles, statuses


def test_files_imported_one_by_one_keep_each_others_events(database: Path) -> None:
    for name in ("a.ics", "b.ics", "c.ics", "b.ics", "c.ics"):
        assert main(["import", name]) == 0
    titles, statuses = _stored(database)
    expected = {
        "Quintett Morgenrot",
        "Trio Abendblau",
        "Duo Mittagsgelb",
        "Lesung Kranichflug",
        "Vortrag Seidenstraße",
        "Tanzabend Wirbelwind",
    }
    assert sorted(titles.values()) == sorted(expected)
    assert statuses == dict.fromkeys(expected, "scheduled")


def test_records_of_different_files_do_not_share_ids(database: Path) -> None:
    assert main(["import", "a.ics"]) == 0
    assert main(["import", "b.ics"]) == 0
    engine = make_engine(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        records = session.execute(select(SourceRecord.record_id, SourceRecord.event_id)).all()
    engine.dispose()
    assert len(records) == 5
    assert len({event_id for _record, event_id in records}) == 5


def test_reimporting_a_changed_file_updates_its_events_in_place(database: Path, tmp_path: Path) -> None:
    assert main(["import", "a.ics"]) == 0
    before, _ = _stored(database)
    (tmp_path / "a.ics").write_text(
        FILES["a.ics"].replace("Trio Abendblau", "Trio Abendrot"), encoding="utf-8"
    )
    assert main(["import", "a.ics"]) == 0
    after, _ = _stored(database)
    assert set(after) == set(before)
    assert sorted(after.values()) == ["Duo Mittagsgelb", "Quintett Morgenrot", "Trio Abendrot"]


def test_only_a_complete_import_lets_missing_listings_vanish(database: Path, tmp_path: Path) -> None:
    (tmp_path / "a-short.ics").write_text(_calendar(["Quintett Morgenrot"], 1), encoding="utf-8")
    assert main(["import", "a.ics", "--source", "hall"]) == 0
    for _run in range(3):
        assert main(["import", "a-short.ics", "--source", "hall"]) == 0
    assert set(_stored(database)[1].values()) == {"scheduled"}
    for _run in range(2):
        assert main(["import", "a-short.ics", "--source", "hall", "--complete"]) == 0
    assert _stored(database)[1] == {
        "Quintett Morgenrot": "scheduled",
        "Trio Abendblau": "cancelled",
        "Duo Mittagsgelb": "cancelled",
    }


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self._answer(404, b"")
        elif self.path == "/good.ics":
            self._answer(200, FILES["c.ics"].encode(), "text/calendar")
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._answer(404, b"not here")

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.mark.realtime
def test_a_url_that_cannot_be_fetched_is_one_line_and_the_other_inputs_still_import(
    database: Path,
    server: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["import", f"{server}/missing.ics", f"{server}/to-file", "a.ics", f"{server}/good.ics"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2, err
    assert "404" in lines[0] and "/missing.ics" in lines[0]
    assert "/to-file" in lines[1]
    titles, _statuses = _stored(database)
    assert sorted(titles.values()) == [
        "Duo Mittagsgelb",
        "Quintett Morgenrot",
        "Tanzabend Wirbelwind",
        "Trio Abendblau",
    ]
