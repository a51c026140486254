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
from browser_kit import (
    screenshot,
)
from console_browser import assert_axe_clean, console_server, signed_in_page
from icalendar import Calendar
from sqlalchemy import select
from web_data import web_settings

from aggregator.clock import FixedClock
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence

pytestmark = pytest.mark.browser
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app on a free port over an ingested calendar: its URL, the event id and its first date."""
    found: dict[str, Any] = {}

    def fill(factory: Any) -> None:
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
        ingest(
            IngestContext(factory, web_settings(), clock=FixedClock(ran)), "konzerthaus", programme, now=ran
        )
        with factory() as session:
            found["event"] = session.scalars(select(Event.id)).one()
            found["first"] = session.scalars(select(Occurrence.id).order_by(Occurrence.start)).first()

    with console_server(tmp_path_factory.mktemp("events") / "events.db", FixedClock(NOW), fill) as (url, _):
        yield {"url": url, **found}


@pytest.fixture(scope="module")
def page(served: dict[str, Any]) -> Iterator[Any]:
    """A German page in Berlin time, signed in as the editor."""
    with signed_in_page(served["url"]) as page:
        yield page


def _feed(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/feeds/events.ics", timeout=10) as answer:
        calendar = Calendar.from_ical(answer.read())
    return {str(e["UID"]).split("@")[0]: int(str(e["SEQUENCE"])) for e in calendar.walk("VEVENT")}


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
    assert_axe_clean(page)
    assert _feed(url) == {uid: sequence + 1 for uid, sequence in before.items()}

    page.get_by_role("link", name="Termin bearbeiten: 2026-12-01 19:30").click()
    page.get_by_label("Grund (Pflicht)").fill("Geschlossene Vorstellung")
    page.get_by_role("button", name="Verbergen").click()
    page.wait_for_load_state()
    assert "Geschlossene Vorstellung" in page.content()
    assert_axe_clean(page)
    after = _feed(url)
    assert first not in after
    assert after == {uid: sequence + 1 for uid, sequence in before.items() if uid != first}
    screenshot(page, "console-event-date")

    page.goto(f"{url}/admin/events/{event_id}?lang=en")
    assert_axe_clean(page)
    page.goto(f"{url}/admin/audit")
    assert page.locator("td", has_text="occurrence.hide").count() == 1
    assert page.locator("td", has_text="event.edit").count() == 1
