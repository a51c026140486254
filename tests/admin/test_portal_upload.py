"""Uploading .ics and JSON-LD in the portal: a preview (added, changed, cancelled) before anything is
written, then commit or discard; hostile files are refused with a message and write nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from _console import ConsoleRuntime, csrf, form_token
from sqlalchemy import func, select
from starlette.testclient import TestClient

from aggregator.models import ApiToken, Event, Occurrence, PushLog, SourceRecord
from calendar_api.admin.portal_upload_pages import MAX_UPLOAD_BYTES


def _ics(*events: tuple[str, str, str]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Brauerei-Museum//DE"]
    for uid, start, status in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTART;TZID=Europe/Berlin:{start}",
            f"SUMMARY:Führung {uid}",
            "LOCATION:Konzerthaus Dortmund",
            f"STATUS:{status}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


TWO = _ics(("f1", "20261205T190000", "CONFIRMED"), ("f2", "20261206T190000", "CONFIRMED"))


def _upload(client: TestClient, body: bytes, name: str = "programm.ics") -> Any:
    return client.post(
        "/venue/upload",
        data={"csrftoken": csrf(client)},
        files={"file": (name, body, "application/octet-stream")},
    )


def _commit(client: TestClient, preview: Any) -> Any:
    kind = re.search(r'name="kind" value="([^"]+)"', preview.text)
    payload = re.search(r'name="payload" value="([^"]+)"', preview.text)
    assert kind and payload, preview.text
    data = {"kind": kind.group(1), "payload": payload.group(1), "csrftoken": form_token(preview.text)}
    return client.post("/venue/upload/commit", data=data)


def _counts(runtime: ConsoleRuntime) -> tuple[int, ...]:
    with runtime.factory() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Event, Occurrence, SourceRecord, PushLog, ApiToken)
        )


def test_a_preview_writes_nothing_and_a_commit_writes_it(
    runtime: ConsoleRuntime, as_venue: TestClient
) -> None:
    assert as_venue.get("/venue/upload").status_code == 200
    preview = _upload(as_venue, TWO)
    assert preview.status_code == 200, preview.text
    assert "2 neu, 0 geändert, 0 abgesagt, 0 unverändert" in preview.text
    assert _counts(runtime)[:4] == (0, 0, 0, 0)
    committed = _commit(as_venue, preview)
    assert committed.status_code == 303 and committed.headers["location"].endswith("done=upload_committed")
    assert _counts(runtime)[:3] == (1, 2, 2) or _counts(runtime)[:3] == (2, 2, 2)
    assert "Führung f1" in as_venue.get("/venue/").text
    again = _upload(as_venue, TWO)
    assert "0 neu, 0 geändert, 0 abgesagt, 2 unverändert" in again.text
    changed = _upload(
        as_venue, _ics(("f1", "20261205T200000", "CONFIRMED"), ("f2", "20261206T190000", "CANCELLED"))
    )
    assert "0 neu, 1 geändert, 1 abgesagt, 0 unverändert" in changed.text
    assert _commit(as_venue, changed).status_code == 303
    feed = as_venue.get("/feeds/venues/konzerthaus-dortmund.ics").text
    assert feed.count("STATUS:CANCELLED") == 1


def test_json_ld_is_taken_too(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    body = json.dumps(
        [
            {
                "@context": "https://schema.org",
                "@type": "Event",
                "@id": "j1",
                "name": "Lesung",
                "startDate": "2026-12-07T18:00",
                "location": {"@type": "Place", "name": "Konzerthaus Dortmund"},
            }
        ]
    ).encode("utf-8")
    preview = _upload(as_venue, body, "programm.jsonld")
    assert "1 neu" in preview.text
    assert _commit(as_venue, preview).status_code == 303
    with runtime.factory() as session:
        assert session.scalars(select(Event.title)).one() == "Lesung"


def test_hostile_files_are_refused_with_a_message_and_write_nothing(
    runtime: ConsoleRuntime, as_venue: TestClient
) -> None:
    before = _counts(runtime)
    cases: list[tuple[bytes, str, int, str]] = [
        (b"x" * (MAX_UPLOAD_BYTES + 1), "big.ics", 413, "größer als"),
        (b"BEGIN:VCALENDAR\r\nnonsense", "broken.ics", 400, "Nothing was written"),
        (b"{" * 100_000, "deep.json", 400, "Nothing was written"),
        (
            b'{"@type": "Event", "@id": "x", "name": "X", "startDate": "2026-12-07T18:00", '
            b'"location": "Opernhaus Dortmund"}',
            "other.json",
            403,
            "opernhaus-dortmund",
        ),
        (
            _ics(("o1", "20261205T190000", "CONFIRMED")).replace(
                b"Konzerthaus Dortmund", b"Opernhaus Dortmund"
            ),
            "other.ics",
            403,
            "opernhaus-dortmund",
        ),
        (b"", "empty.ics", 400, ""),
    ]
    for body, name, status, message in cases:
        answer = _upload(as_venue, body, name)
        assert answer.status_code == status, (name, answer.status_code, answer.text[:2000])
        assert message in answer.text and 'role="alert"' in answer.text, name
    for payload, kind in (("not base64!", "text/calendar"), ("QUJD", "text/html"), ("", "text/calendar")):
        page = as_venue.get("/venue/upload")
        data = {"kind": kind, "payload": payload, "csrftoken": form_token(page.text)}
        assert as_venue.post("/venue/upload/commit", data=data).status_code == 400
    assert _counts(runtime)[:3] == before[:3]
