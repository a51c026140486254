"""What the public sees of editors' work: hidden events and dates leave lists, pages, widget and feeds;
a title edit shows at once with SEQUENCE moved once; highlights filter and sort."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from calendar_rows import Runtime
from fixed_clock import NOW, clock
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.audit import Actor
from aggregator.config import Settings
from aggregator.derive import Priority
from aggregator.event_edits import (
    edit_event,
    editing,
    hide_event,
    hide_occurrence,
    set_highlight,
    unhide_event,
    unhide_occurrence,
)
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence
from stadtkalender.extensions import EXTENSIONS

EDITOR = Actor(1, "redaktion@dortmund.de")
EDITED = NOW + timedelta(minutes=5)
"""When the editor acts: after the run that built the calendar."""
VALIDATOR = Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "ical-validate"


def _listing(
    record_id: str, title: str, day: int, venue: str = "Konzerthaus Dortmund", **extra: Any
) -> Listing:
    return Listing(
        source="konzerthaus",
        record_id=record_id,
        title=title,
        fetched_at=NOW,
        start=datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        venue_name=venue,
        url=f"https://example.org/{record_id}",
        **extra,
    )


class Calendar_:
    """The served app over an ingested calendar, and the editor's hands on it."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session], priority: Priority) -> None:
        self.client = client
        self.factory = factory
        self.priority = priority

    def event_id(self, title: str) -> str:
        with self.factory() as session:
            return session.scalars(select(Event.id).where(Event.title == title)).one()

    def occurrence_ids(self, title: str) -> list[str]:
        with self.factory() as session:
            return list(
                session.scalars(
                    select(Occurrence.id).join(Event).where(Event.title == title).order_by(Occurrence.start)
                )
            )

    def edit(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        with editing(self.factory) as session:
            action(session, *args, actor=EDITOR, now=EDITED, priority=self.priority, **kwargs)

    def ids(self, query: str = "") -> list[str]:
        response = self.client.get(f"/api/v1/events?{query}")
        assert response.status_code == 200, response.text
        return [event["title"] for event in response.json()["events"]]

    def feed(self, path: str = "/feeds/events.ics") -> dict[str, Any]:
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        calendar = Calendar.from_ical(response.content)
        return {str(e["UID"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


@pytest.fixture
def cal(settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Iterator[Calendar_]:
    ctx = IngestContext(factory, settings, kinds={"konzerthaus": "venue"}, clock=clock())
    programme = [
        _listing(f"zf-{day}", "Die Zauberflöte", day, series_key="zauberfloete") for day in (1, 2, 3)
    ]
    programme += [
        _listing("jazz-1", "Jazz im Foyer", 10),
        _listing("kammer-1", "Kammermusik", 15, venue="Orchesterzentrum NRW"),
    ]
    ingest(ctx, "konzerthaus", programme, now=NOW)
    app_runtime = Runtime(settings, engine, factory)
    from calendar_api.app import create_app

    app = create_app(app_runtime, clock=lambda: NOW, extensions=EXTENSIONS, version_ttl=0)
    with TestClient(app) as client:
        yield Calendar_(client, factory, Priority(settings.dedupe.priority, {}))


# --- hiding ------------------------------------------------------------------------------------


def test_a_hidden_occurrence_leaves_lists_feeds_and_pages(cal: Calendar_) -> None:
    event_id = cal.event_id("Die Zauberflöte")
    first, *rest = cal.occurrence_ids("Die Zauberflöte")
    assert first in cal.feed()
    cal.edit(hide_occurrence, first, "Geschlossene Vorstellung")

    listed = cal.client.get("/api/v1/events?q=zauber").json()["events"][0]
    assert [o["id"] for o in listed["occurrences"]] == rest
    detail = cal.client.get(f"/api/v1/events/{event_id}").json()
    assert [o["id"] for o in detail["occurrences"]] == rest
    for path in ("/feeds/events.ics", "/feeds/venues/konzerthaus-dortmund.ics", f"/events/{event_id}.ics"):
        feed = cal.feed(path)
        assert first not in feed, path
        assert set(rest) <= set(feed), path
    page = cal.client.get(f"/events/{event_id}").text
    assert "Geschlossene" not in page
    assert "1. Dezember 2026" not in page and "2. Dezember 2026" in page

    cal.edit(unhide_occurrence, first)
    assert first in cal.feed()


def test_an_event_whose_only_dates_are_hidden_leaves_the_list(cal: Calendar_) -> None:
    (only,) = cal.occurrence_ids("Jazz im Foyer")
    cal.edit(hide_occurrence, only, "Dublette")
    assert "Jazz im Foyer" not in cal.ids()
    assert "Jazz im Foyer" not in cal.client.get("/").text
    assert "Jazz im Foyer" not in cal.client.get("/embed").text


def test_a_hidden_event_is_gone_everywhere_and_comes_back(cal: Calendar_) -> None:
    event_id = cal.event_id("Die Zauberflöte")
    occurrences = cal.occurrence_ids("Die Zauberflöte")
    cal.edit(hide_event, event_id, "Falsch zugeordnet")

    assert "Die Zauberflöte" not in cal.ids()
    assert "Die Zauberflöte" not in cal.ids("q=zauber&from=2026-01-01")
    assert not set(occurrences) & set(cal.feed())
    assert not set(occurrences) & set(cal.feed("/feeds/venues/konzerthaus-dortmund.ics"))
    detail = cal.client.get(f"/api/v1/events/{event_id}")
    assert detail.status_code == 410
    assert detail.json()["type"].endswith("#problem-gone")
    assert "Falsch" not in detail.text
    page = cal.client.get(f"/events/{event_id}")
    assert page.status_code == 410
    assert "aus dem Kalender genommen" in page.text and "Zauberflöte" not in page.text
    assert cal.client.get(f"/events/{event_id}?lang=en").text.count("taken this event off") == 1
    own = cal.client.get(f"/events/{event_id}.ics")
    assert own.status_code == 200
    assert b"BEGIN:VEVENT" not in own.content and b"Zauberfl" not in own.content
    for path in ("/", "/embed", "/?q=zauber"):
        assert "Zauberflöte" not in cal.client.get(path).text, path

    cal.edit(unhide_event, event_id)
    assert "Die Zauberflöte" in cal.ids()
    assert cal.client.get(f"/api/v1/events/{event_id}").status_code == 200
    assert set(occurrences) <= set(cal.feed())


def test_hiding_and_showing_again_moves_the_feeds_sequence(cal: Calendar_) -> None:
    first = cal.occurrence_ids("Die Zauberflöte")[0]
    before = int(cal.feed()[first]["SEQUENCE"])
    etag = cal.client.get("/feeds/events.ics").headers["etag"]
    cal.edit(hide_occurrence, first, "Probe")
    assert cal.client.get("/feeds/events.ics", headers={"If-None-Match": etag}).status_code == 200
    cal.edit(unhide_occurrence, first)
    assert int(cal.feed()[first]["SEQUENCE"]) == before + 2


@pytest.mark.validator
def test_consumers_accept_a_feed_with_a_hidden_occurrence(cal: Calendar_, tmp_path: Path) -> None:
    if not VALIDATOR.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{VALIDATOR} is missing: CI must run the iCalendar consumers")
        pytest.skip(f"{VALIDATOR} not found")
    first = cal.occurrence_ids("Die Zauberflöte")[0]
    cal.edit(hide_occurrence, first, "Probe")
    cal.edit(hide_event, cal.event_id("Jazz im Foyer"), "Dublette")
    for path in ("/feeds/events.ics", f"/events/{cal.event_id('Jazz im Foyer')}.ics"):
        feed = tmp_path / "feed.ics"
        feed.write_bytes(cal.client.get(path).content)
        result = subprocess.run(
            [str(VALIDATOR), str(feed), "20260101", "20280101"],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        verdicts = re.findall(
            r"^(\S+)(?: \S+)?\s+(OK|WARN|FAIL)\b.*?vevents=(\d+)", result.stdout, re.MULTILINE
        )
        assert len(verdicts) >= 6, result.stdout
        expected = "3" if path == "/feeds/events.ics" else "0"  # 5 dates, one hidden, one hidden event
        assert {count for _name, _verdict, count in verdicts} == {expected}, result.stdout


# --- field edits -------------------------------------------------------------------------------


def test_a_title_edit_shows_at_once_with_sequence_moved_once(cal: Calendar_) -> None:
    event_id = cal.event_id("Die Zauberflöte")
    occurrences = cal.occurrence_ids("Die Zauberflöte")
    before = {uid: int(e["SEQUENCE"]) for uid, e in cal.feed().items() if uid in occurrences}
    assert "Die Zauberflöte" in cal.client.get(f"/events/{event_id}").text
    cal.edit(edit_event, event_id, {"title": "Die Zauberflöte (Premiere)"})

    assert cal.client.get(f"/api/v1/events/{event_id}").json()["title"] == "Die Zauberflöte (Premiere)"
    assert "Die Zauberflöte (Premiere)" in cal.client.get(f"/events/{event_id}").text
    feed = cal.feed()
    assert {uid: int(feed[uid]["SEQUENCE"]) for uid in occurrences} == {k: v + 1 for k, v in before.items()}
    assert {str(feed[uid]["SUMMARY"]) for uid in occurrences} == {"Die Zauberflöte (Premiere)"}
    own = cal.feed(f"/events/{event_id}.ics")
    assert {int(own[uid]["SEQUENCE"]) for uid in occurrences} == {v + 1 for v in before.values()}


# --- highlights --------------------------------------------------------------------------------


def test_highlight_filter_and_field(cal: Calendar_) -> None:
    cal.edit(set_highlight, cal.event_id("Kammermusik"), True, date(2026, 12, 31))
    assert cal.ids("highlight=true") == ["Kammermusik"]
    assert cal.ids("highlight=false") == ["Die Zauberflöte", "Jazz im Foyer", "Kammermusik"]
    events = {e["title"]: e["highlight"] for e in cal.client.get("/api/v1/events").json()["events"]}
    assert events == {"Die Zauberflöte": False, "Jazz im Foyer": False, "Kammermusik": True}
    assert set(cal.feed("/feeds/events.ics?highlight=true")) == set(cal.occurrence_ids("Kammermusik"))


def test_sort_highlights_puts_them_first_and_pages_through_both_parts(cal: Calendar_) -> None:
    cal.edit(set_highlight, cal.event_id("Kammermusik"), True)
    cal.edit(set_highlight, cal.event_id("Jazz im Foyer"), True)
    assert cal.ids("sort=highlights") == ["Jazz im Foyer", "Kammermusik", "Die Zauberflöte"]
    titles, url = [], "/api/v1/events?sort=highlights&limit=1"
    while url:
        body = cal.client.get(url.removeprefix("http://127.0.0.1:8080")).json()
        titles += [event["title"] for event in body["events"]]
        url = body["next"]
    assert titles == ["Jazz im Foyer", "Kammermusik", "Die Zauberflöte"]
    assert "sort" not in cal.client.get("/api/v1/events?sort=highlights").json()["feeds"]["url"]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("sort=loudest", "sort='loudest'"),
        ("highlight=yes", "highlight='yes'"),
    ],
)
def test_bad_highlight_parameters_are_refused(cal: Calendar_, query: str, detail: str) -> None:
    response = cal.client.get(f"/api/v1/events?{query}")
    assert response.status_code == 400
    assert detail in response.json()["detail"]


def test_a_cursor_of_another_order_is_refused(cal: Calendar_) -> None:
    plain = cal.client.get("/api/v1/events?limit=1").json()["next"]
    cursor = plain.split("cursor=")[1].split("&")[0]
    response = cal.client.get(f"/api/v1/events?sort=highlights&cursor={cursor}")
    assert (response.status_code, response.json()["parameter"]) == (400, "cursor")


def test_a_highlight_ends_after_its_last_day(
    cal: Calendar_, settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    cal.edit(set_highlight, cal.event_id("Kammermusik"), True, date(2026, 11, 22))
    from calendar_api.app import create_app

    for moment, expected in (
        (datetime(2026, 11, 22, 22, 59, tzinfo=UTC), ["Kammermusik"]),  # 23:59 in Berlin
        (datetime(2026, 11, 22, 23, 0, tzinfo=UTC), []),
    ):
        app = create_app(Runtime(settings, engine, factory), clock=lambda m=moment: m, extensions=EXTENSIONS)
        with TestClient(app) as later:
            titles = [e["title"] for e in later.get("/api/v1/events?highlight=true").json()["events"]]
            assert titles == expected, moment
            dated = later.get("/api/v1/events?highlight=true&from=2026-12-01").json()["events"]
            assert [e["title"] for e in dated] == expected, moment


def test_the_page_and_widget_show_highlights_first(cal: Calendar_) -> None:
    cal.edit(set_highlight, cal.event_id("Kammermusik"), True)
    page = cal.client.get("/?sort=highlights").text
    assert page.index("Tipps der Redaktion") < page.index("Kammermusik") < page.index("Die Zauberflöte")
    assert "Tipp der Redaktion" in page
    only = cal.client.get("/?highlight=true").text
    assert "Kammermusik" in only and "Die Zauberflöte" not in only
    embed = cal.client.get("/embed?sort=highlights").text
    assert embed.index("Kammermusik") < embed.index("Die Zauberflöte")
    assert "sk-badge-highlight" in embed
    builder = cal.client.get("/embed/builder?highlight=true&sort=highlights").text
    assert 'highlight="true"' in builder and 'sort="highlights"' in builder
    assert "/feeds/events.ics?highlight=true" in only
    assert "sort=" not in re.findall(r'id="feed-url"[^>]*value="([^"]*)"', page)[0]


def test_the_openapi_document_describes_the_highlight_options(cal: Calendar_) -> None:
    document = cal.client.get("/openapi.json").json()
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert parameters["highlight"]["schema"] == {"type": "boolean"}
    assert parameters["sort"]["schema"]["enum"] == ["next", "highlights"]
    assert "410" in document["paths"]["/api/v1/events/{id}"]["get"]["responses"]
    assert document["components"]["schemas"]["Event"]["properties"]["highlight"]["type"] == "boolean"
    feed_parameters = {p["name"] for p in document["paths"]["/feeds/events.ics"]["get"]["parameters"]}
    assert "highlight" in feed_parameters and "sort" not in feed_parameters


def test_the_data_version_moves_with_a_highlight(cal: Calendar_) -> None:
    first = cal.client.get("/api/v1/events?sort=highlights")
    cal.edit(set_highlight, cal.event_id("Kammermusik"), True)
    again = cal.client.get("/api/v1/events?sort=highlights", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    assert again.json()["events"][0]["title"] == "Kammermusik"


def test_nothing_editorial_is_in_public_responses(cal: Calendar_) -> None:
    cal.edit(hide_occurrence, cal.occurrence_ids("Die Zauberflöte")[0], "Geheimer Grund")
    cal.edit(edit_event, cal.event_id("Die Zauberflöte"), {"subtitle": "Neu"})
    for path in (
        "/api/v1/events",
        f"/api/v1/events/{cal.event_id('Die Zauberflöte')}",
        "/feeds/events.ics",
        "/",
    ):
        body = cal.client.get(path).text
        assert EDITOR.label not in body and "Geheimer Grund" not in body, path
