"""Entering events in the venue portal: the form writes through the push API's path, the event is public
within one request, dates are cancelled and moved, and nothing of another venue's can be touched."""

from __future__ import annotations

import json
import re
from typing import Any

from _console import ConsoleRuntime, post
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
    "dates": "05.12.2026 19:30\n2026-12-12 19:30\n2026-12-19",
    "time": "18:00",
    "end_time": "21:00",
    "room": "Kammermusiksaal",
    "price_min": "12,50",
    "price_max": "25",
    "ticket_url": "https://tickets.example.org/blech",
    "availability": "waiting_list",
    "status": "scheduled",
    "image": "https://example.org/blech.jpg",
    "description": "Eine Führung mit Musik.",
    "language": "de",
    "categories": ["Konzert"],
}


def _publish(client: TestClient, **changes: Any) -> Any:
    return post(client, "/venue/new", {**FORM, **changes})


def _count(runtime: ConsoleRuntime, model: Any) -> int:
    with runtime.factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _event_id(answer: Any) -> str:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/venue/events/([^?]+)\?done=event_published", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def test_a_three_date_event_by_form_is_public_in_the_page_widget_and_feed_at_once(
    runtime: ConsoleRuntime, as_venue: TestClient
) -> None:
    published = _publish(as_venue)
    event_id = _event_id(published)
    page = as_venue.get(published.headers["location"])
    assert page.status_code == 200 and "Veröffentlicht" in page.text
    assert page.text.count('/cancel"') == 3
    assert f"<td>{FORM['title']}</td><td>{SOURCE}</td>" in page.text
    public = as_venue.get(f"/events/{event_id}")
    assert public.status_code == 200 and FORM["title"] in public.text
    assert FORM["title"] in as_venue.get("/embed?venue=konzerthaus-dortmund").text
    feed = as_venue.get("/feeds/venues/konzerthaus-dortmund.ics").text
    assert feed.count("SUMMARY:Brauerei-Führung") == 3
    with runtime.factory() as session:
        dates = session.scalars(select(Occurrence).where(Occurrence.event_id == event_id)).all()
        assert len(dates) == 3 and {d.room for d in dates} == {"Kammermusiksaal"}
        assert sorted(d.start.isoformat() for d in dates) == [
            "2026-12-05T18:30:00+00:00",
            "2026-12-12T18:30:00+00:00",
            "2026-12-19T17:00:00+00:00",
        ]
        offer = dates[0].offers[0]
        assert (str(offer.price_min), str(offer.price_max), offer.availability) == (
            "12.50",
            "25.00",
            "waiting_list",
        )
        event = session.get(Event, event_id)
        assert event is not None and "konzert" in event.categories and event.language == "de"
        log = session.scalars(select(PushLog)).one()
        assert (log.source, log.status, log.summary["via"]) == (SOURCE, 200, "portal")
        actions = list(session.scalars(select(AuditEntry.action)))
    assert "portal.event_publish" in actions


def test_a_push_of_the_same_event_finds_it_unchanged(
    runtime: ConsoleRuntime, as_venue: TestClient, clock: FixedClock
) -> None:
    _event_id(_publish(as_venue))
    with runtime.factory() as session:
        nodes = [
            r.raw["jsonld"] for r in session.scalars(select(SourceRecord).order_by(SourceRecord.record_id))
        ]
    _token, secret = issue_token(
        runtime.factory, ["konzerthaus-dortmund"], name="Kasse", registry=load_venues(), now=clock()
    )
    answer = as_venue.post(
        "/api/v1/push/events",
        content=json.dumps(nodes).encode("utf-8"),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/ld+json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"] == {"unchanged": 3}


def test_a_weekly_rule_with_exceptions(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    event_id = _event_id(
        _publish(
            as_venue,
            dates="",
            time="20:00",
            weekly_from="2026-12-01",
            weekly_until="2026-12-29",
            weekly_except="2026-12-22, 08.12.2026",
        )
    )
    with runtime.factory() as session:
        starts = sorted(
            o.start.date().isoformat()
            for o in session.scalars(select(Occurrence).where(Occurrence.event_id == event_id))
        )
    assert starts == ["2026-12-01", "2026-12-15", "2026-12-29"]


def test_cancelling_one_date_shows_in_the_feed(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    event_id = _event_id(_publish(as_venue))
    with runtime.factory() as session:
        first = session.scalars(
            select(Occurrence.id).where(Occurrence.event_id == event_id).order_by(Occurrence.start)
        ).first()
    answer = post(as_venue, f"/venue/dates/{first}/cancel")
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=date_cancelled")
    feed = as_venue.get(f"/events/{event_id}.ics").text
    assert feed.count("STATUS:CANCELLED") == 1
    assert "abgesagt" in as_venue.get(f"/venue/events/{event_id}").text


def test_moving_a_date_keeps_its_previous_start(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    event_id = _event_id(_publish(as_venue, dates="05.12.2026 19:30"))
    with runtime.factory() as session:
        first = session.scalars(select(Occurrence.id).where(Occurrence.event_id == event_id)).one()
    answer = post(as_venue, f"/venue/dates/{first}/move", {"day": "2026-12-06", "time": "17:00"})
    assert answer.status_code == 303, answer.text
    with runtime.factory() as session:
        moved = session.scalars(select(Occurrence).where(Occurrence.event_id == event_id)).one()
        assert moved.start.isoformat() == "2026-12-06T16:00:00+00:00"
        assert (
            moved.previous_start is not None
            and moved.previous_start.isoformat() == "2026-12-05T18:30:00+00:00"
        )
        assert moved.status == "rescheduled"
        assert (
            moved.end is not None and moved.end.isoformat() == "2026-12-06T17:30:00+00:00"
        )  # 21:00 moved like the start


def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_written(
    runtime: ConsoleRuntime, as_venue: TestClient
) -> None:
    for changes, message in [
        ({"dates": "31.02.2026 19:30"}, "ist kein Datum"),
        ({"dates": "", "weekly_from": ""}, "mindestens ein Datum"),
        ({"title": ""}, "Titel fehlt"),
        ({"price_min": "zwölf"}, "kein Preis"),
        ({"price_min": "30", "price_max": "10"}, "Höchstpreis"),
        ({"dates": "05.12.2031 19:30"}, "startDate"),
        ({"status": "exploded"}, "keine der Möglichkeiten"),
        ({"weekly_from": "2026-12-01", "weekly_until": "2099-12-01", "dates": ""}, "Höchstens 366"),
        ({"ticket_url": "javascript:alert(1)"}, "url"),
    ]:
        answer = _publish(as_venue, **changes)
        assert answer.status_code == 400, (changes, answer.status_code)
        assert message in answer.text, (changes, answer.text[:3000])
        assert 'role="alert"' in answer.text
    assert _count(runtime, Event) == 0


def test_another_venue_is_refused_by_the_form(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    answer = _publish(as_venue, venue="opernhaus-dortmund")
    assert answer.status_code == 400 and "Ihre eigenen Orte" in answer.text
    assert _count(runtime, Event) == 0 and _count(runtime, PushLog) == 0


def test_dates_of_other_venues_and_of_other_sources_cannot_be_changed(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient
) -> None:
    ctx = IngestContext(runtime.factory, runtime.settings, clock=clock)
    for source, venue in (
        ("theater_dortmund", "Opernhaus Dortmund"),
        ("konzerthaus", "Konzerthaus Dortmund"),
    ):
        listing = Listing(
            source=source,
            record_id=f"{source}-1",
            title=f"{source} abend",
            fetched_at=clock(),
            start=clock().replace(month=12, day=3, hour=18),
            venue_name=venue,
        )
        assert ingest(ctx, source, [listing]).status.value == "success"
    with runtime.factory() as session:
        dates = {
            source: session.scalars(
                select(SourceRecord.occurrence_id).where(SourceRecord.source == source)
            ).one()
            for source in ("theater_dortmund", "konzerthaus")
        }
    before = _count(runtime, PushLog), _count(runtime, AuditEntry)
    for action, data in (("cancel", {}), ("move", {"day": "2026-12-06", "time": "17:00"})):
        foreign = post(as_venue, f"/venue/dates/{dates['theater_dortmund']}/{action}", data)
        assert foreign.status_code == 404 and "theater_dortmund abend" not in foreign.text
        scraped = post(as_venue, f"/venue/dates/{dates['konzerthaus']}/{action}", data)
        assert scraped.status_code == 403 and "nicht selbst eingetragen" in scraped.text
        assert post(as_venue, f"/venue/dates/nothing/{action}", data).status_code == 404
    assert (_count(runtime, PushLog), _count(runtime, AuditEntry)) == before
    with runtime.factory() as session:
        assert set(session.scalars(select(Occurrence.status))) == {"scheduled"}
