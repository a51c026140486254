"""The duplicate review in a real browser: axe-clean pages with open items, and a near miss resolved end to end.

An editor merges a near-miss pair on ``/admin/review``; the merged-away event's public page then leads to
the surviving event, and the feed lists the performance once instead of twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from browser_kit import (
    screenshot,
)
from console_browser import assert_axe_clean, console_server, signed_in_page
from sqlalchemy import select
from web_data import NOW, web_settings

from aggregator.clock import FixedClock
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
    clock = FixedClock(NOW)
    events: dict[str, str] = {}

    def fill(factory: Any) -> None:
        ctx = IngestContext(factory, web_settings(), kinds=KINDS, clock=clock)
        evening, other = datetime(2026, 4, 5, 19, 30, tzinfo=BERLIN), datetime(2026, 4, 6, 18, tzinfo=BERLIN)
        runs = {
            "konzerthaus": [
                _listing("konzerthaus", "k1", "Igor Levit spielt Beethoven", evening),
                _listing("konzerthaus", "k2", "Kosmos", other),
            ],
            "dortmund_de": [
                _listing("dortmund_de", "c1", "Igor Levit: Beethoven-Sonaten", evening),
                _listing("dortmund_de", "c2", "Kosmos", other.replace(hour=19, minute=30)),
            ],
        }
        for source, listings in runs.items():
            assert ingest(ctx, source, listings, now=NOW).status == RunStatus.SUCCESS
        with factory() as session:
            events.update(
                {f"{r.source}:{r.record_id}": r.event_id for r in session.scalars(select(SourceRecord))}
            )

    with console_server(tmp_path_factory.mktemp("review") / "review.db", clock, fill) as (url, _):
        yield url, events


@pytest.fixture
def page(served: tuple[str, dict[str, str]]) -> Iterator[Any]:
    """A signed-in editor's page in German and Berlin time; fails the test on any console error."""
    with signed_in_page(served[0]) as page:
        yield page


def _levit_in_feed(page: Any, url: str) -> int:
    feed: str = page.request.get(f"{url}/feeds/events.ics").text()
    return feed.count("SUMMARY:Igor Levit")


def test_the_review_pages_with_open_items_are_axe_clean(
    page: Any, served: tuple[str, dict[str, str]]
) -> None:
    url, events = served
    split = f"/admin/events/{events['konzerthaus:k2']}/split"
    for path in ("/admin/review", "/admin/decisions", split):
        for lang in ("de", "en"):
            answer = page.goto(f"{url}{path}?lang={lang}")
            assert answer.status == 200, (path, answer.status)
            assert_axe_clean(page)
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
