"""The duplicate review in a real browser: axe-clean pages with open items, and a near miss resolved end to end.

An editor merges a near-miss pair on ``/admin/review``; the merged-away event's public page then leads to
the surviving event, and the feed lists the performance once instead of twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
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
from sqlalchemy import select
from web_data import NOW, web_settings

from aggregator import accounts
from aggregator.clock import FixedClock
from aggregator.db import make_engine, session_factory, upgrade
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import SourceRecord
from aggregator.types import BERLIN, RunStatus

pytestmark = pytest.mark.browser
KINDS = {"konzerthaus": "venue", "dortmund_de": "city"}


def _listing(source: str, record_id: str, title: str, start: datetime) -> Listing:
    return Listing(
        source=source,
        record_id=record_id,
        title=title,
        fetched_at=NOW,
        start=start,
        time_text=f"{start:%H.%M} Uhr",
        venue_name="Konzerthaus Dortmund",
        url=f"https://example.org/{source}/{record_id}",
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The whole app with a near miss and a start conflict to review; and the events' IDs by record."""
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS

    accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('review') / 'review.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    clock = FixedClock(NOW)
    ctx = IngestContext(factory, web_settings(), kinds=KINDS, clock=clock)
    evening, other = datetime(2026, 4, 5, 19, 30, tzinfo=BERLIN), datetime(2026, 4, 6, 18, tzinfo=BERLIN)
    runs = {
        "konzerthaus": [
            _listing("konzerthaus", "k1", "Igor Levit spielt Beethoven", evening),
            _listing("konzerthaus", "k2", "Kosmos", other),
        ],
        "dortmund_de": [
            _listing("dortmund_de", "c1", "Igor Levit: Beethoven-Sonaten", evening.replace(minute=40)),
            _listing("dortmund_de", "c2", "Kosmos", other.replace(hour=19, minute=30)),
        ],
    }
    for source, listings in runs.items():
        assert ingest(ctx, source, listings, now=NOW).status == RunStatus.SUCCESS
    make_accounts(factory, clock)
    with factory() as session:
        events = {f"{r.source}:{r.record_id}": r.event_id for r in session.scalars(select(SourceRecord))}

    def make_app(url: str) -> Any:
        return create_app(  # version_ttl=0: the feed reflects each decision at the next request
            Runtime(web_settings(url), engine, factory), clock=clock, extensions=EXTENSIONS, version_ttl=0
        )

    server, thread, url = serve_app(make_app)
    yield url, events
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()
    accounts.HASHER = PasswordHasher()


@pytest.fixture
def page(served: tuple[str, dict[str, str]]) -> Iterator[Any]:
    """A signed-in editor's page in German and Berlin time; fails the test on any console error."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="de-DE", timezone_id="Europe/Berlin"
        )
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{served[0]}/admin/login")
        page.get_by_label("E-Mail-Adresse").fill(EMAILS["editor"])
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_load_state()
        yield page
        browser.close()
    assert not errors, errors


def _clean(page: Any, axe: str) -> None:
    violations = axe_violations(page, axe)
    assert violations == [], f"axe-core on {page.url}: {violations}"


def _levit_in_feed(page: Any, url: str) -> int:
    feed: str = page.request.get(f"{url}/feeds/events.ics").text()
    return feed.count("SUMMARY:Igor Levit")


def test_the_review_pages_with_open_items_are_axe_clean(
    page: Any, served: tuple[str, dict[str, str]]
) -> None:
    url, events = served
    source = axe_bundle()
    split = f"/admin/events/{events['konzerthaus:k2']}/split"
    for path in ("/admin/review", "/admin/decisions", split):
        for lang in ("de", "en"):
            answer = page.goto(f"{url}{path}?lang={lang}")
            assert answer.status == 200, (path, answer.status)
            _clean(page, source)
    page.goto(f"{url}/admin/review?lang=de")
    screenshot(page, "console-review", publish="console-review.png")


def test_an_editor_merges_a_near_miss_and_the_public_page_and_feed_follow(
    page: Any, served: tuple[str, dict[str, str]]
) -> None:
    url, events = served
    venue_event, city_event = events["konzerthaus:k1"], events["dortmund_de:c1"]
    survivor, merged = min(venue_event, city_event), max(venue_event, city_event)
    assert _levit_in_feed(page, url) == 2

    page.goto(f"{url}/admin/review")
    page.get_by_role("button", name="Zusammenführen: ").click()
    page.wait_for_load_state()
    assert "Entschieden" in page.get_by_role("status").inner_text()
    assert page.get_by_text("Beinahe-Treffer").count() == 0

    page.goto(f"{url}/events/{merged}")
    assert page.url.split("?")[0].endswith(f"/events/{survivor}")
    assert _levit_in_feed(page, url) == 1

    page.goto(f"{url}/admin/decisions")
    page.get_by_role("button", name="Rückgängig machen").first.click()
    page.wait_for_load_state()
    assert "Rückgängig gemacht" in page.get_by_role("status").inner_text()
    assert _levit_in_feed(page, url) == 2
