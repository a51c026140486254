"""Registering a feed URL in the venue portal: checked at once by the probe, saved as a source in the
database, run by the scheduler without a restart, bound to the venue, shown with its runs; hostile and
useless URLs are refused and store nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from _console import EMAILS, client_for, make_accounts, post, sign_in
from feed_host import ics, venue_site
from fixed_clock import NOW
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.config import Settings
from aggregator.models import AuditEntry, Event, SourceRecord, SourceState, VenueFeed
from scheduler.service import SchedulerService
from sources.catalog import SourceCatalog, catalog, registered_specs
from stadtkalender.runtime import Runtime

OWN = "konzerthaus-dortmund"
SOURCE = f"feed:{OWN}"


DAY = "20261205T193000"
PAGES = {
    "/programm.ics": ics(
        ("k1", DAY, "Klavierabend Levit", "Konzerthaus Dortmund"),
        ("k2", DAY, "Kammermusik am Sonntag", "Konzerthaus Dortmund"),
        ("k3", DAY, "Familienkonzert", None),
        ("w1", DAY, "Holiday on Ice", "Westfalenhallen Dortmund"),
    ),
    "/fremd.ics": ics(("w2", DAY, "Hallenfußball", "Westfalenhallen Dortmund")),
    "/leer.html": b"<!doctype html><html><head><title>Willkommen</title></head><body><p>Hallo</p></body></html>",
}


@pytest.fixture
def server() -> Iterator[str]:
    with venue_site(PAGES) as url:
        yield url


@pytest.fixture
def feed_runtime(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> Runtime:
    """The real runtime (what ``serve`` builds), with the loopback test server allowed as an admin would."""
    allowed = replace(
        settings,
        probe=replace(settings.probe, allowed_hosts=["127.0.0.1"]),
        http=replace(
            settings.http, requests_per_second=0
        ),  # no polite pause (nor sleep) against our own host
    )
    specs = SourceCatalog(catalog(allowed), lambda: registered_specs(factory, allowed))
    make_accounts(factory, clock)
    return Runtime(allowed, engine, factory, specs, clock)


@pytest.fixture
def venue(feed_runtime: Runtime, clock: FixedClock) -> Iterator[TestClient]:
    with client_for(feed_runtime, clock) as client:  # type: ignore[arg-type]
        assert sign_in(client, EMAILS["venue"]).status_code == 303
        yield client


def _feeds(factory: sessionmaker[Session]) -> list[VenueFeed]:
    with factory() as session:
        return list(session.scalars(select(VenueFeed)))


def _titles(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        rows = session.execute(select(SourceRecord.record_id, Event.title).join(Event)).all()
    return {record_id: title for record_id, title in rows}


def test_a_venue_registers_a_feed_sees_what_it_offers_and_its_first_run(
    feed_runtime: Runtime, venue: TestClient, server: str
) -> None:
    page = venue.get("/venue/feeds")
    assert page.status_code == 200 and 'name="url"' in page.text

    checked = post(venue, "/venue/feeds/check", {"url": f"{server}/programm.ics"})
    assert checked.status_code == 200, checked.text
    assert "Klavierabend Levit" in checked.text and "ical" in checked.text
    assert "Westfalenhallen Dortmund" in checked.text and "nicht übernommen" in checked.text
    assert _feeds(feed_runtime.factory) == [], "a check stores nothing"

    saved = post(venue, "/venue/feeds", {"url": f"{server}/programm.ics"})
    assert saved.status_code == 303, saved.text
    [feed] = _feeds(feed_runtime.factory)
    assert (feed.source, feed.venue_slug, feed.config["type"]) == (SOURCE, OWN, "ical")
    assert feed.config["venue"] == "Konzerthaus Dortmund"
    with feed_runtime.factory() as session:
        assert session.get(SourceState, SOURCE).run_requested_at is not None  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).where(AuditEntry.action == "venue_feed.add")) == 1

    service = SchedulerService(feed_runtime)  # a scheduler started before the feed existed
    [outcome] = service.poll_requests()
    assert outcome.report is not None and outcome.report.status.value == "success", outcome
    assert SOURCE in service.schedules, "the feed is scheduled from now on, without a restart"
    assert _titles(feed_runtime.factory) == {
        "k1": "Klavierabend Levit",
        "k2": "Kammermusik am Sonntag",
        "k3": "Familienkonzert",  # no place: the feed's venue
    }, "the event at another venue's place is not taken"

    detail = venue.get(f"/venue/feeds/{feed.id}")
    assert detail.status_code == 200
    assert "erfolgreich" in detail.text and "a venue&#39;s feed publishes only its own events" in detail.text
    public = venue.get("/api/v1/events", params={"venue": OWN})
    assert {e["title"] for e in public.json()["events"]} >= {"Klavierabend Levit", "Familienkonzert"}


def test_an_editor_pauses_a_venues_feed_like_any_source(
    feed_runtime: Runtime, venue: TestClient, server: str, clock: FixedClock
) -> None:
    assert post(venue, "/venue/feeds", {"url": f"{server}/programm.ics"}).status_code == 303
    with client_for(feed_runtime, clock) as editor:  # type: ignore[arg-type]
        assert sign_in(editor, EMAILS["editor"]).status_code == 303
        assert post(editor, f"/admin/sources/{SOURCE}/pause", {}).status_code == 303
    assert len(_feeds(feed_runtime.factory)) == 1
    assert "pausiert" in venue.get("/venue/feeds").text.lower()
    outcome = SchedulerService(feed_runtime).run_job(SOURCE, now=NOW)
    assert outcome.skipped == "disabled in source_state"


def test_removing_a_feed_stops_its_runs_and_keeps_its_events(
    feed_runtime: Runtime, venue: TestClient, server: str
) -> None:
    assert post(venue, "/venue/feeds", {"url": f"{server}/programm.ics"}).status_code == 303
    service = SchedulerService(feed_runtime)
    service.poll_requests()
    [feed] = _feeds(feed_runtime.factory)
    assert post(venue, f"/venue/feeds/{feed.id}/remove", {}).status_code == 303
    service.sync_sources()
    assert SOURCE not in feed_runtime.specs and SOURCE not in service.schedules
    assert len(_titles(feed_runtime.factory)) == 3
    assert venue.get(f"/venue/feeds/{feed.id}").status_code == 404
    again = post(venue, "/venue/feeds", {"url": f"{server}/programm.ics"})
    assert again.status_code == 303, "a removed URL may be registered again"
    assert [f.source for f in _feeds(feed_runtime.factory) if f.removed_at is None] == [f"{SOURCE}:2"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("http://10.1.2.3/programm.ics", "not a public address"),
        ("http://169.254.169.254/latest/meta-data", "not a public address"),
        ("http://localhost:9/x.ics", "local name"),
        ("ftp://example.org/x.ics", "only http and https"),
    ],
)
def test_hostile_urls_are_refused_with_the_reason_and_store_nothing(
    feed_runtime: Runtime, venue: TestClient, url: str, says: str
) -> None:
    checked = post(venue, "/venue/feeds/check", {"url": url})
    assert checked.status_code == 200 and says in checked.text, checked.text
    assert "nur öffentliche Adressen mit http oder https" in checked.text
    assert "Als Feed speichern" not in checked.text
    assert post(venue, "/venue/feeds", {"url": url}).status_code == 400
    assert _feeds(feed_runtime.factory) == []


def test_a_page_without_events_and_a_feed_of_another_venue_cannot_be_saved(
    feed_runtime: Runtime, venue: TestClient, server: str
) -> None:
    empty = post(venue, "/venue/feeds/check", {"url": f"{server}/leer.html"})
    assert "keine lesbaren Termine" in empty.text
    foreign = post(venue, "/venue/feeds/check", {"url": f"{server}/fremd.ics"})
    assert "Keiner dieser Termine findet an Ihrem Ort statt" in foreign.text
    for path in ("/leer.html", "/fremd.ics"):
        assert post(venue, "/venue/feeds", {"url": f"{server}{path}"}).status_code == 400
    assert _feeds(feed_runtime.factory) == []


def test_a_venue_cannot_register_a_feed_for_another_venue_nor_twice(
    feed_runtime: Runtime, venue: TestClient, server: str
) -> None:
    other = post(venue, "/venue/feeds", {"url": f"{server}/programm.ics", "venue": "opernhaus-dortmund"})
    assert other.status_code == 403
    assert post(venue, "/venue/feeds", {"url": f"{server}/programm.ics"}).status_code == 303
    twice = post(venue, "/venue/feeds", {"url": f"{server}/programm.ics"})
    assert twice.status_code == 409 and "schon eingetragen" in twice.text
    assert len(_feeds(feed_runtime.factory)) == 1


def test_a_feed_never_shadows_a_configured_source(settings: Settings, factory: sessionmaker[Session]) -> None:
    configured = catalog(settings)
    name = next(iter(configured))
    fake = {
        name: replace(configured[name], venues=("x",)),
        "feed:x": replace(configured[name], name="feed:x"),
    }
    specs = SourceCatalog(configured, lambda: fake)
    assert specs[name] is configured[name] and "feed:x" in specs
