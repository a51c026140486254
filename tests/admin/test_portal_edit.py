"""Editing an event in the venue portal: the form comes prefilled from the venue's own records, saving
updates those records through the push write path (same ids, provenance ``push``, SEQUENCE up), dates
left out are cancelled after a confirmation, and events the venue did not publish are explained, not
edited."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from typing import Any

from _console import EMAILS, ConsoleRuntime, post, sign_in
from sqlalchemy import func, select
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import AuditEntry, Event, Occurrence, PushLog, SourceRecord
from aggregator.normalise.venues import load_venues
from calendar_api.push.tokens import issue_token

SOURCE = "push:konzerthaus-dortmund"
FORM: dict[str, Any] = {
    "title": "Brauerei-Führung mit Blechbläsern",
    "venue": "konzerthaus-dortmund",
    "dates": "05.12.2026 19:30\n12.12.2026 19:30\n19.12.2026 19:30",
    "end_time": "21:00",
    "room": "Kammermusiksaal",
    "price_min": "12.50",
    "price_max": "25.00",
    "ticket_url": "https://tickets.example.org/blech",
    "availability": "waiting_list",
    "status": "scheduled",
    "image": "https://example.org/blech.jpg",
    "url": "https://example.org/blech",
    "description": "Eine Führung mit Musik.",
    "language": "de",
    "categories": ["Konzert"],
}


def _publish(client: TestClient, **changes: Any) -> str:
    answer = post(client, "/venue/new", {**FORM, **changes})
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/venue/events/([^?]+)\?done=event_published", answer.headers["location"])
    assert found
    return found.group(1)


def _values(html: str) -> dict[str, Any]:
    """The form's current values as a browser would send them."""
    values: dict[str, Any] = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or name.group(1) == "csrftoken":
            continue
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                values.setdefault(name.group(1), []).append(unescape(re.search(r'value="([^"]*)"', tag)[1]))  # type: ignore[index]
            continue
        value = re.search(r'value="([^"]*)"', tag)
        text = unescape(value.group(1)) if value else ""
        values[name.group(1)] = [values[name.group(1)], text] if name.group(1) in values else text
    for name, text in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        values[name] = unescape(text)
    for name, options in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        values[name] = unescape(chosen.group(1)) if chosen else ""
    return values


def _records(runtime: ConsoleRuntime) -> dict[str, tuple[str, str, str]]:
    """Every stored record: id → (source, event id, status)."""
    with runtime.factory() as session:
        return {
            r.record_id: (r.source, r.event_id, str(r.data.get("status")))
            for r in session.scalars(select(SourceRecord))
        }


def _count(runtime: ConsoleRuntime, model: Any) -> int:
    with runtime.factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_form_comes_prefilled_with_every_field(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    event_id = _publish(as_venue)
    detail = as_venue.get(f"/venue/events/{event_id}")
    assert f'href="/venue/events/{event_id}/edit" id="edit-event">Bearbeiten<' in detail.text
    assert f'/venue/events/{event_id}/edit" aria-label="Bearbeiten: ' in as_venue.get("/venue/").text
    page = as_venue.get(f"/venue/events/{event_id}/edit")
    assert page.status_code == 200
    values = _values(page.text)
    assert values == {
        **{k: v for k, v in FORM.items()},
        "time": "",
        "weekly_from": "",
        "weekly_until": "",
        "weekly_except": "",
    }
    assert f'action="/venue/events/{event_id}/edit"' in page.text


def test_saving_updates_the_same_records_with_provenance_push_and_sequence_up(
    runtime: ConsoleRuntime, as_venue: TestClient
) -> None:
    event_id = _publish(as_venue)
    before = _records(runtime)
    with runtime.factory() as session:
        sequences = {o.id: o.sequence for o in session.scalars(select(Occurrence))}
    form = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    changed = {
        **form,
        "title": "Brauerei-Führung mit Posaunen",
        "price_min": "15",
        "price_max": "",
        "availability": "sold_out",
        "status": "postponed",
        "room": "Foyer",
    }
    answer = post(as_venue, f"/venue/events/{event_id}/edit", changed)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/venue/events/{event_id}?done=event_updated"
    after = _records(runtime)
    assert set(after) == set(before) and {v[:2] for v in after.values()} == {(SOURCE, event_id)}
    assert {v[2] for v in after.values()} == {"postponed"}
    with runtime.factory() as session:
        event = session.get(Event, event_id)
        assert event is not None and event.title == "Brauerei-Führung mit Posaunen"
        assert event.field_sources["title"] == SOURCE
        dates = list(session.scalars(select(Occurrence).where(Occurrence.event_id == event_id)))
        assert {d.room for d in dates} == {"Foyer"} and {d.status for d in dates} == {"postponed"}
        assert all(d.sequence > sequences[d.id] for d in dates)
        offer = dates[0].offers[0]
        assert (str(offer.price_min), offer.availability) == ("15.00", "sold_out")
        assert session.scalars(select(PushLog.status).order_by(PushLog.id.desc())).first() == 200
        assert "portal.event_edit" in set(session.scalars(select(AuditEntry.action)))
    feed = as_venue.get(f"/events/{event_id}.ics").text.replace("\r\n ", "")
    assert feed.count("SUMMARY:Verschoben: Brauerei-Führung mit Posaunen") == 3
    assert "SEQUENCE:0" not in feed
    assert "Gespeichert" in as_venue.get(f"/venue/events/{event_id}?done=event_updated").text


def test_a_date_left_out_is_cancelled_only_after_a_confirmation(
    runtime: ConsoleRuntime, as_venue: TestClient
) -> None:
    event_id = _publish(as_venue)
    form = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    form["dates"] = "05.12.2026 19:30\n19.12.2026 19:30\n02.01.2027 19:30"
    logs = _count(runtime, PushLog)
    preview = post(as_venue, f"/venue/events/{event_id}/edit", form)
    assert preview.status_code == 200
    assert re.search(r'<ul id="edit-cancelled"><li>12\.12\.2026 19:30</li></ul>', preview.text)
    assert _count(runtime, PushLog) == logs and len(_records(runtime)) == 3  # nothing written yet
    confirmed = _values(preview.text)
    assert confirmed["cancel_id"].endswith("#2026-12-12T19:30")
    answer = post(as_venue, f"/venue/events/{event_id}/edit", confirmed)
    assert answer.status_code == 303, answer.text
    records = _records(runtime)
    assert len(records) == 4 and {v[1] for v in records.values()} == {event_id}
    assert sorted(v[2] for v in records.values()) == ["cancelled", "scheduled", "scheduled", "scheduled"]
    feed = as_venue.get(f"/events/{event_id}.ics").text
    assert feed.count("STATUS:CANCELLED") == 1 and feed.count("BEGIN:VEVENT") == 4
    again = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    assert again["dates"] == "05.12.2026 19:30\n19.12.2026 19:30\n02.01.2027 19:30"


def test_a_stale_confirmation_shows_the_preview_again(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    event_id = _publish(as_venue)
    form = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    form["dates"] = "05.12.2026 19:30"
    form["cancel_id"] = "something-else"
    logs = _count(runtime, PushLog)
    preview = post(as_venue, f"/venue/events/{event_id}/edit", form)
    assert preview.status_code == 200 and preview.text.count("<li>") >= 2
    assert "12.12.2026 19:30</li><li>19.12.2026 19:30" in preview.text
    assert _count(runtime, PushLog) == logs


def test_an_event_pushed_with_the_venues_own_id_is_edited_under_that_id(
    runtime: ConsoleRuntime, as_venue: TestClient, clock: FixedClock
) -> None:
    _token, secret = issue_token(
        runtime.factory, ["konzerthaus-dortmund"], name="Kasse", registry=load_venues(), now=clock()
    )
    node = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": "kasse-4711",
        "name": "Orgelnacht",
        "startDate": "2026-12-10T20:00",
        "location": {"@type": "Place", "name": "Konzerthaus Dortmund"},
        "offers": {"@type": "Offer", "price": "9", "priceCurrency": "EUR"},
    }
    pushed = as_venue.post(
        "/api/v1/push/events",
        content=json.dumps(node).encode("utf-8"),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/ld+json"},
    )
    assert pushed.status_code == 200, pushed.text
    event_id = pushed.json()["records"][0]["event_id"]
    form = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    assert (form["title"], form["dates"], form["price_min"]) == ("Orgelnacht", "10.12.2026 20:00", "9")
    form["dates"] = "11.12.2026 21:00"  # the one date changes: the same record, no cancellation
    answer = post(as_venue, f"/venue/events/{event_id}/edit", form)
    assert answer.status_code == 303, answer.text
    assert _records(runtime) == {"kasse-4711": (SOURCE, event_id, "scheduled")}
    with runtime.factory() as session:
        start = session.scalars(select(Occurrence.start).where(Occurrence.event_id == event_id)).one()
    assert start.isoformat() == "2026-12-11T20:00:00+00:00"
    listed = as_venue.get("/api/v1/push/events/kasse-4711", headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200 and "Orgelnacht" in listed.text


def test_a_moved_date_stays_moved_when_other_fields_change(
    runtime: ConsoleRuntime, as_venue: TestClient
) -> None:
    event_id = _publish(as_venue, dates="05.12.2026 19:30\n12.12.2026 19:30")
    with runtime.factory() as session:
        first = session.scalars(
            select(Occurrence.id).where(Occurrence.event_id == event_id).order_by(Occurrence.start)
        ).first()
    moved = post(as_venue, f"/venue/dates/{first}/move", {"day": "2026-12-06", "time": "17:00"})
    assert moved.status_code == 303
    form = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    assert form["dates"] == "06.12.2026 17:00\n12.12.2026 19:30"
    answer = post(as_venue, f"/venue/events/{event_id}/edit", {**form, "title": "Neuer Titel"})
    assert answer.status_code == 303, answer.text
    with runtime.factory() as session:
        dates = list(
            session.scalars(
                select(Occurrence).where(Occurrence.event_id == event_id).order_by(Occurrence.start)
            )
        )
    assert [d.status for d in dates] == ["rescheduled", "scheduled"]
    assert dates[0].previous_start is not None
    assert dates[0].previous_start.isoformat() == "2026-12-05T18:30:00+00:00"


def test_bad_input_is_refused_and_nothing_is_written(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    event_id = _publish(as_venue)
    form = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    before = _records(runtime), _count(runtime, PushLog)
    for changes, message in [
        ({"title": ""}, "Titel fehlt"),
        ({"dates": ""}, "mindestens ein Datum"),
        ({"price_min": "viel"}, "kein Preis"),
        ({"venue": "opernhaus-dortmund"}, "Ihre eigenen Orte"),
        ({"ticket_url": "javascript:alert(1)"}, "url"),
    ]:
        answer = post(as_venue, f"/venue/events/{event_id}/edit", {**form, **changes})
        assert answer.status_code == 400, (changes, answer.status_code)
        assert message in answer.text and 'role="alert"' in answer.text, changes
    assert _records(runtime) == before[0]
    assert _count(runtime, PushLog) == before[1] + 1  # the refused push write is logged, nothing stored


def test_a_scraped_event_is_explained_not_edited(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient
) -> None:
    ctx = IngestContext(runtime.factory, runtime.settings, clock=clock)
    listing = Listing(
        source="konzerthaus",
        record_id="konzerthaus-1",
        title="Sinfoniekonzert",
        fetched_at=clock(),
        start=clock().replace(month=12, day=3, hour=18),
        venue_name="Konzerthaus Dortmund",
    )
    assert ingest(ctx, "konzerthaus", [listing]).status.value == "success"
    with runtime.factory() as session:
        event_id = session.scalars(select(Event.id)).one()
    detail = as_venue.get(f"/venue/events/{event_id}")
    assert "Warum kann ich das nicht bearbeiten?" in detail.text
    assert "Bearbeiten: " not in as_venue.get("/venue/").text
    page = as_venue.get(f"/venue/events/{event_id}/edit")
    assert page.status_code == 200 and "nicht selbst veröffentlicht" in page.text
    assert "konzerthaus" in page.text and "geht den Angaben dieser Quellen vor" in page.text
    assert "<form" not in page.text.split("<main", 1)[-1].split("</main>")[0].replace(
        'action="/admin/logout"', ""
    )
    english = as_venue.get(f"/venue/events/{event_id}/edit?lang=en")
    assert "You did not publish this event yourself" in english.text
    before = _records(runtime), _count(runtime, PushLog), _count(runtime, AuditEntry)
    refused = post(as_venue, f"/venue/events/{event_id}/edit", {**FORM, "dates": "03.12.2026 19:00"})
    assert refused.status_code == 403
    assert (_records(runtime), _count(runtime, PushLog), _count(runtime, AuditEntry)) == before


def test_past_dates_take_the_new_details_but_stay_out_of_the_form(
    runtime: ConsoleRuntime, as_venue: TestClient, clock: FixedClock
) -> None:
    event_id = _publish(as_venue)
    clock.advance(timedelta(days=16))  # 2026-12-07: the first date is past
    assert sign_in(as_venue, EMAILS["venue"]).status_code == 303  # the session has timed out meanwhile
    form = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    assert form["dates"] == "12.12.2026 19:30\n19.12.2026 19:30"
    answer = post(as_venue, f"/venue/events/{event_id}/edit", {**form, "title": "Neuer Titel"})
    assert answer.status_code == 303, answer.text  # no confirmation: nothing is cancelled
    with runtime.factory() as session:
        records = list(session.scalars(select(SourceRecord).order_by(SourceRecord.record_id)))
        event = session.get(Event, event_id)
        assert event is not None and event.title == "Neuer Titel"
    assert [(r.data["title"], r.data["status"]) for r in records] == [("Neuer Titel", "scheduled")] * 3


def test_a_series_sent_as_icalendar_is_edited_under_its_own_ids(
    runtime: ConsoleRuntime, as_venue: TestClient, clock: FixedClock
) -> None:
    _token, secret = issue_token(
        runtime.factory, ["konzerthaus-dortmund"], name="Kasse", registry=load_venues(), now=clock()
    )
    body = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kasse//DE\r\nBEGIN:VEVENT\r\nUID:reihe 1\r\n"
        b"DTSTART;TZID=Europe/Berlin:20261203T200000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
        b"SUMMARY:Jazz am Donnerstag\r\nLOCATION:Konzerthaus Dortmund\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    pushed = as_venue.post(
        "/api/v1/push/events",
        content=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "text/calendar"},
    )
    assert pushed.status_code == 200, pushed.text
    before = _records(runtime)
    event_id = next(iter(before.values()))[1]
    form = _values(as_venue.get(f"/venue/events/{event_id}/edit").text)
    assert form["dates"] == "03.12.2026 20:00\n10.12.2026 20:00\n17.12.2026 20:00"
    form = {**form, "title": "Jazz am Donnerstagabend", "dates": "03.12.2026 20:00\n17.12.2026 20:00"}
    preview = post(as_venue, f"/venue/events/{event_id}/edit", form)
    assert preview.status_code == 200 and "<li>10.12.2026 20:00</li>" in preview.text
    confirmed = _values(preview.text)
    assert confirmed["cancel_id"].startswith("reihe 1#2026-12-10")  # an id with a space survives the form
    answer = post(as_venue, f"/venue/events/{event_id}/edit", confirmed)
    assert answer.status_code == 303, answer.text
    after = _records(runtime)
    assert set(after) == set(before)
    assert sorted(v[2] for v in after.values()) == ["cancelled", "scheduled", "scheduled"]
    with runtime.factory() as session:
        assert session.scalars(select(Event.title)).one() == "Jazz am Donnerstagabend"
