"""Editing events in a real browser: a title edit moves the feed's SEQUENCE once, a hidden date leaves the feed.

Debian's Chromium through Playwright against the whole app under uvicorn, on a calendar built by a real
ingest (so every record has what derivation reads); axe-core checks the pages as they look after editing.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _console import EMAILS, PASSWORD, make_accounts
from argon2 import PasswordHasher
from browser_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    axe_bundle,
    axe_violations,
    require_chromium,
    screenshot,
    serve_app,
)
from calendar_rows import Runtime
from icalendar import Calendar
from sqlalchemy import select
from web_data import web_settings

from aggregator import accounts
from aggregator.clock import FixedClock
from aggregator.db import make_engine, session_factory, upgrade
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence

pytestmark = pytest.mark.browser
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app on a free port over an ingested calendar: its URL, the event id and its first date."""
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS

    accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('events') / 'events.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    settings = web_settings()
    ran = NOW - timedelta(hours=1)
    programme = [
        Listing(
            source="konzerthaus",
            record_id=f"zf-{day}",
            title="Die Zauberflöte",
            fetched_at=ran,
            start=datetime(2026, 12, day, 18, 30, tzinfo=UTC),
            venue_name="Konzerthaus Dortmund",
            series_key="zf",
            url=f"https://example.org/zf-{day}",
        )
        for day in (1, 2, 3)
    ]
    ingest(IngestContext(factory, settings, clock=FixedClock(ran)), "konzerthaus", programme, now=ran)
    clock = FixedClock(NOW)
    make_accounts(factory, clock)
    with factory() as session:
        event_id = session.scalars(select(Event.id)).one()
        first = session.scalars(select(Occurrence.id).order_by(Occurrence.start)).first()

    def make_app(url: str) -> Any:
        runtime = Runtime(web_settings(url), engine, factory)
        return create_app(runtime, clock=clock, extensions=EXTENSIONS, version_ttl=0)

    server, thread, url = serve_app(make_app)
    yield {"url": url, "event": event_id, "first": first}
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()
    accounts.HASHER = PasswordHasher()


@pytest.fixture(scope="module")
def page(served: dict[str, Any]) -> Iterator[Any]:
    """A German page in Berlin time, signed in as the editor."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin")
        tab = context.new_page()
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"{served['url']}/admin/login")
        tab.get_by_label("E-Mail-Adresse").fill(EMAILS["editor"])
        tab.get_by_label("Passwort").fill(PASSWORD)
        tab.get_by_role("button", name="Anmelden").click()
        tab.wait_for_load_state()
        yield tab
        context.close()
        browser.close()
    assert not errors, errors


def _feed(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/feeds/events.ics", timeout=10) as answer:
        calendar = Calendar.from_ical(answer.read())
    return {str(e["UID"]).split("@")[0]: int(str(e["SEQUENCE"])) for e in calendar.walk("VEVENT")}


def _clean(page: Any) -> None:
    assert axe_violations(page, axe_bundle()) == [], page.url


def test_edit_a_title_then_hide_a_date_and_watch_the_feed(page: Any, served: dict[str, Any]) -> None:
    url, event_id, first = served["url"], served["event"], served["first"]
    before = _feed(url)
    assert first in before

    page.goto(f"{url}/admin/events")
    page.get_by_label("Suche (Titel, Text, Ort, Veranstalter oder ID)").fill("zauber")
    page.get_by_role("button", name="Filtern").click()
    page.get_by_role("link", name="Die Zauberflöte").click()
    page.wait_for_url(f"{url}/admin/events/{event_id}")
    page.get_by_label("Titel", exact=True).fill("Die Zauberflöte (Premiere)")
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_load_state()
    assert "Gespeichert" in page.locator(".notice").inner_text()
    assert "Die Quellen sagen: Die Zauberflöte" in page.content()
    _clean(page)
    assert _feed(url) == {uid: sequence + 1 for uid, sequence in before.items()}

    page.get_by_role("link", name="Termin bearbeiten: 2026-12-01 19:30").click()
    page.get_by_label("Grund (Pflicht)").fill("Geschlossene Vorstellung")
    page.get_by_role("button", name="Verbergen").click()
    page.wait_for_load_state()
    assert "Geschlossene Vorstellung" in page.content()
    _clean(page)
    after = _feed(url)
    assert first not in after
    assert after == {uid: sequence + 1 for uid, sequence in before.items() if uid != first}
    screenshot(page, "console-event-date")

    page.goto(f"{url}/admin/events/{event_id}?lang=en")
    _clean(page)
    page.goto(f"{url}/admin/audit")
    assert page.locator("td", has_text="occurrence.hide").count() == 1
    assert page.locator("td", has_text="event.edit").count() == 1
