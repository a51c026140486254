"""The venue portal: a venue account sees its own venues' events with where each field came from, and the
sources that feed them — and nothing of another venue's."""

from __future__ import annotations

from datetime import UTC, datetime

from _console import EMAILS, ConsoleRuntime, client_for, sign_in
from sqlalchemy import select
from starlette.testclient import TestClient

from aggregator.audit import Actor, record
from aggregator.clock import FixedClock
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Event

OPERA = "opernhaus-dortmund"


def _send(
    runtime: ConsoleRuntime, clock: FixedClock, source: str, venue: str, title: str, **extra: str
) -> None:
    listings = [
        Listing(
            source=source,
            record_id=f"{source}-{day}",
            title=title,
            series_key=source,
            fetched_at=clock(),
            start=datetime(2026, 12, day, 19, 30, tzinfo=UTC),
            venue_name=venue,
            **extra,  # type: ignore[arg-type]
        )
        for day in (1, 2)
    ]
    report = ingest(IngestContext(runtime.factory, runtime.settings, clock=clock), source, listings)
    assert report.status.value == "success", report.error


def _event_id(runtime: ConsoleRuntime, title: str) -> str:
    with runtime.factory() as session:
        return session.scalars(select(Event.id).where(Event.title == title)).one()


def _programme(runtime: ConsoleRuntime, clock: FixedClock) -> tuple[str, str]:
    _send(runtime, clock, "konzerthaus", "Konzerthaus Dortmund", "Mahler 5", description="Die Fünfte.")
    _send(runtime, clock, "theater_dortmund", "Opernhaus Dortmund", "Tosca")
    return _event_id(runtime, "Mahler 5"), _event_id(runtime, "Tosca")


def test_a_venue_account_lands_on_the_portal(runtime: ConsoleRuntime, clock: FixedClock) -> None:
    with client_for(runtime, clock) as client:
        answer = sign_in(client, EMAILS["venue"])
        assert answer.headers["location"] == "/venue/"
        assert client.get("/venue").status_code == 308
        page = client.get("/venue/")
        assert page.status_code == 200
        assert "Ihre Termine" in page.text and 'href="/venue/"' in page.text
        assert '<a class="brand" href="/venue/">Veranstaltungsorte · Stadtkalender</a>' in page.text


def test_the_portal_shows_the_own_events_and_the_health_of_their_sources_only(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient
) -> None:
    mahler, tosca = _programme(runtime, clock)
    page = as_venue.get("/venue/?lang=en")
    assert page.status_code == 200
    assert "Mahler 5" in page.text and f'href="/venue/events/{mahler}"' in page.text
    assert "Tosca" not in page.text and tosca not in page.text
    assert "konzerthaus" in page.text and "theater_dortmund" not in page.text
    assert "Sources that feed your venues" in page.text and ">ok<" in page.text


def test_an_event_shows_where_each_field_came_from_and_what_editors_did(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient
) -> None:
    mahler, _tosca = _programme(runtime, clock)
    with runtime.factory() as session, session.begin():
        record(session, Actor(2, EMAILS["editor"]), "event.edit", "event", mahler, at=clock(), after={"x": 1})
    page = as_venue.get(f"/venue/events/{mahler}")
    assert page.status_code == 200
    assert '<th scope="row">Titel</th><td>Mahler 5</td><td>konzerthaus</td>' in page.text
    assert "Die Fünfte." in page.text
    assert "findet statt" in page.text and "konzerthaus-1" in page.text
    assert EMAILS["editor"] in page.text and "event.edit" in page.text
    assert f'href="/events/{mahler}"' in page.text


def test_another_venues_event_is_a_404_and_an_unknown_one_too(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient
) -> None:
    _mahler, tosca = _programme(runtime, clock)
    for event_id in (tosca, "no-such-event"):
        answer = as_venue.get(f"/venue/events/{event_id}")
        assert answer.status_code == 404
        assert "Tosca" not in answer.text and "gehört nicht zu Ihren Orten" in answer.text


def test_editors_and_admins_are_refused_the_portal(as_editor: TestClient, as_admin: TestClient) -> None:
    for client in (as_editor, as_admin):
        assert client.get("/venue/").status_code == 403
