"""``/api/v1/changes``: a reuser follows the cursor through creations, updates, merges and cancellations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from calendar_rows import Runtime
from fixed_clock import NOW, clock
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.changes import prune_changes
from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.types import Status
from calendar_api.app import create_app


def _listing(record_id: str, title: str, day: int, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": "konzerthaus",
        "record_id": record_id,
        "title": title,
        "fetched_at": NOW,
        "start": datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        "venue_name": "Konzerthaus Dortmund",
    }
    values.update(extra)
    return Listing(**values)


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return IngestContext(factory, settings, kinds={"konzerthaus": "venue"}, clock=clock())


@pytest.fixture
def client(settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(Runtime(settings, engine, factory, {}), clock=lambda: NOW, extensions=(), version_ttl=0)
    with TestClient(app) as client:
        yield client


def _follow(client: TestClient, since: str = "0", query: str = "", limit: int = 2) -> tuple[list[Any], str]:
    """Every change after ``since``, page by page; the last cursor."""
    seen: list[Any] = []
    while True:
        response = client.get(f"/api/v1/changes?since={since}&limit={limit}{query}")
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["changes"]
        if body["cursor"] == since:
            return seen, since
        since = body["cursor"]


def test_a_reader_sees_every_change_once_and_in_order(client: TestClient, ctx: IngestContext) -> None:
    carmen = [_listing(f"c{day}", "Carmen", day, series_key="carmen") for day in (5, 6, 7)]
    ingest(ctx, "konzerthaus", [*carmen, _listing("t1", "Tosca", 9)], now=NOW)
    first, cursor = _follow(client)
    assert [c["kind"] for c in first] == ["created", "created"]
    carmen[1] = carmen[1].evolve(status=Status.CANCELLED)
    carmen[2] = carmen[2].evolve(start=datetime(2026, 12, 8, 19, 30, tzinfo=UTC))
    ingest(
        ctx, "konzerthaus", [*carmen, _listing("t1", "Tosca (konzertant)", 9)], now=NOW + timedelta(hours=1)
    )
    later, cursor = _follow(client, cursor)
    assert sorted((c["kind"], tuple(c["fields"])) for c in later) == [
        ("cancelled", ()),
        ("rescheduled", ()),
        ("updated", ("title",)),
    ]
    assert all(int(c["cursor"]) > int(first[-1]["cursor"]) for c in later)
    assert _follow(client, cursor) == ([], cursor)
    everything, _ = _follow(client, limit=1000)
    assert [c["cursor"] for c in everything] == [c["cursor"] for c in first + later]
    tosca = next(c for c in later if c["kind"] == "updated")
    assert tosca["event_url"].endswith(f"/api/v1/events/{tosca['event']}")
    assert tosca["at"] == "2026-11-21T14:00:00+01:00"


def test_a_merge_reaches_the_reader_as_a_tombstone(client: TestClient, ctx: IngestContext) -> None:
    first = _listing("r1", "Die Zauberflöte", 1, series_key="s1")
    second = _listing("r2", "Carmen", 2, series_key="s2")
    ingest(ctx, "konzerthaus", [first, second], now=NOW)
    _, cursor = _follow(client)
    ingest(ctx, "konzerthaus", [first, second.evolve(series_key="s1")], now=NOW + timedelta(hours=1))
    later, _ = _follow(client, cursor)
    (merged,) = [c for c in later if c["kind"] == "merged"]
    survivor = merged["data"]["into"]
    assert client.get(f"/api/v1/events/{merged['event']}", follow_redirects=False).headers["location"] == (
        f"/api/v1/events/{survivor}"
    )
    assert any(c["event"] == survivor and "occurrences" in c["fields"] for c in later)


def test_filters_and_the_cursor_past_changes_left_out(client: TestClient, ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("r1", "Carmen", 5)], now=NOW)
    body = client.get("/api/v1/changes?venue=depot").json()
    assert body["changes"] == []
    assert int(body["cursor"]) > 0 and "venue=depot" in body["next"]
    assert (
        len(client.get("/api/v1/changes?venue=konzerthaus-dortmund&source=konzerthaus").json()["changes"])
        == 1
    )
    assert client.get("/api/v1/changes?source=dortmund_de").json()["changes"] == []


def test_lists_answer_304_until_something_changes(client: TestClient, ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("r1", "Carmen", 5)], now=NOW)
    response = client.get("/api/v1/changes?since=0")
    etag = response.headers["etag"]
    assert client.get("/api/v1/changes?since=0", headers={"If-None-Match": etag}).status_code == 304
    ingest(ctx, "konzerthaus", [_listing("r1", "Carmen!", 5)], now=NOW + timedelta(hours=1))
    changed = client.get("/api/v1/changes?since=0", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json()["changes"]) == 2


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("since=-1", "since"),
        ("since=abc", "since"),
        ("since=1&since=2", "since"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("venue=", "venue"),
        ("from=2026-01-01", "from"),
    ],
)
def test_bad_input_is_a_problem_naming_the_parameter(client: TestClient, query: str, parameter: str) -> None:
    response = client.get(f"/api/v1/changes?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["parameter"] == parameter


def test_a_cursor_older_than_the_kept_changes_is_gone(
    client: TestClient, ctx: IngestContext, factory: sessionmaker[Session]
) -> None:
    ingest(ctx, "konzerthaus", [_listing("r1", "Carmen", 5)], now=NOW)
    ingest(ctx, "konzerthaus", [_listing("r1", "Carmen!", 5)], now=NOW + timedelta(days=100))
    with factory() as session, session.begin():
        prune_changes(session, retention=timedelta(days=90), now=NOW + timedelta(days=100))
    response = client.get("/api/v1/changes?since=0")
    assert response.status_code == 410
    assert response.json()["title"] == "Cursor expired"


def test_updated_since_lists_only_the_events_changed_since(client: TestClient, ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("r1", "Carmen", 5), _listing("t1", "Tosca", 9)], now=NOW)
    later = NOW + timedelta(hours=1)
    ingest(ctx, "konzerthaus", [_listing("r1", "Carmen", 5), _listing("t1", "Tosca!", 9)], now=later)
    since = (NOW + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    events = client.get(f"/api/v1/events?updated_since={since}").json()
    assert [e["title"] for e in events["events"]] == ["Tosca!"]
    assert "updated_since" not in events["feeds"]["url"]
    everything = client.get("/api/v1/events?updated_since=2026-11-01").json()["events"]
    assert sorted(e["title"] for e in everything) == ["Carmen", "Tosca!"]
    bad = client.get("/api/v1/events?updated_since=gestern")
    assert bad.status_code == 400 and bad.json()["parameter"] == "updated_since"
