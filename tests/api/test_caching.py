"""HTTP caching: validators on every GET, 304s without rendering, the bounded feed cache and invalidation."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from _data import NOW, open_client
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers
from starlette.testclient import TestClient

import calendar_api.feeds
import calendar_api.ical_feed
from aggregator.config import Settings
from aggregator.models import Occurrence
from calendar_api.caching import CacheKey, RenderCache, Rendered, accepts_gzip, not_modified, render_body

GET_PATHS = [
    "/api/v1/events",
    "/api/v1/events?category=konzert&limit=2",
    "/api/v1/events/evmahler",
    "/api/v1/venues",
    "/api/v1/venues/fzw",
    "/api/v1/categories",
    "/api/v1/sources",
    "/feeds/events.ics",
    "/feeds/venues/fzw.ics",
    "/feeds/categories/konzert.ics",
    "/events/evjazz.ics",
    "/openapi.json",
    "/api/docs",
    "/healthz",
    "/readyz",
]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Spy on the feed renderer: the calendar source URL of every rendering."""
    calls: list[str] = []
    real = calendar_api.ical_feed.render_calendar

    def spy(calendar: Any, items: Any) -> bytes:
        calls.append(calendar.source_url)
        return real(calendar, items)

    monkeypatch.setattr(calendar_api.feeds, "render_calendar", spy)
    return calls


def _touch(factory: sessionmaker[Session], occurrence_id: str, at: datetime) -> None:
    """What ingest does when a subscriber-visible field changes: SEQUENCE up, updated now."""
    with factory() as session, session.begin():
        session.execute(
            update(Occurrence)
            .where(Occurrence.id == occurrence_id)
            .values(sequence=Occurrence.sequence + 1, updated_at=at, room="Kammermusiksaal")
        )


@pytest.mark.parametrize("path", GET_PATHS)
def test_every_get_has_validators(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["etag"].startswith('W/"')
    assert response.headers["cache-control"]
    assert datetime.strptime(response.headers["last-modified"], "%a, %d %b %Y %H:%M:%S GMT")


@pytest.mark.parametrize("path", [p for p in GET_PATHS if p != "/api/v1/sources"])
def test_if_none_match_answers_304_without_a_body(client: TestClient, path: str) -> None:
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"]


@pytest.mark.parametrize("path", ["/api/v1/events/evmahler", "/feeds/events.ics"])
def test_if_modified_since(client: TestClient, path: str) -> None:
    last_modified = client.get(path).headers["last-modified"]
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
    earlier = format_datetime(datetime(2026, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: TestClient) -> None:
    last_modified = client.get("/feeds/events.ics").headers["last-modified"]
    response = client.get(
        "/feeds/events.ics", headers={"If-None-Match": 'W/"stale"', "If-Modified-Since": last_modified}
    )
    assert response.status_code == 200


def test_json_last_modified_is_the_newest_change(client: TestClient) -> None:
    assert client.get("/api/v1/events/evmahler").headers["last-modified"] == "Wed, 18 Mar 2026 09:00:00 GMT"


def test_feed_is_rendered_once_for_repeated_requests(client: TestClient, renders: list[str]) -> None:
    first = client.get("/feeds/venues/konzerthaus-dortmund.ics")
    second = client.get("/feeds/venues/konzerthaus-dortmund.ics")
    conditional = client.get(
        "/feeds/venues/konzerthaus-dortmund.ics", headers={"If-None-Match": first.headers["etag"]}
    )
    assert (second.content, conditional.status_code) == (first.content, 304)
    assert len(renders) == 1
    client.get("/feeds/venues/konzerthaus-dortmund.ics?category=konzert")
    assert len(renders) == 2


def test_equivalent_queries_share_one_rendering(client: TestClient, renders: list[str]) -> None:
    client.get("/feeds/events.ics?venue=fzw&venue=depot&free=false")
    client.get("/feeds/events.ics?venue=depot&venue=fzw")
    assert len(renders) == 1


def test_cache_hits_are_counted(client: TestClient) -> None:
    publisher = client.app.state.publisher  # type: ignore[attr-defined]
    hits: list[int] = []
    publisher.on_feed_hit = lambda: hits.append(1)
    client.get("/feeds/events.ics")
    client.get("/feeds/events.ics")
    client.get("/feeds/events.ics")
    fast_hits = client.app.state.fast_path.hits  # type: ignore[attr-defined]
    assert (len(hits), publisher.cache.hits + fast_hits) == (2, 2)  # the fast path answers before the cache


def test_a_change_invalidates_and_bumps_the_etag(
    client: TestClient, factory: sessionmaker[Session], renders: list[str]
) -> None:
    before = client.get("/feeds/events.ics")
    _touch(factory, "ocmahler2", NOW)
    after = client.get("/feeds/events.ics", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert b"UID:ocmahler2@stadtkalender.dortmund\r\nSEQUENCE:3\r\n" in after.content
    assert "Kammermusiksaal" in client.get("/api/v1/events/evmahler").text
    assert len(renders) == 2
    assert after.headers["last-modified"] == "Fri, 20 Mar 2026 09:00:00 GMT"


def test_a_change_elsewhere_leaves_a_feed_current(
    client: TestClient, factory: sessionmaker[Session], renders: list[str]
) -> None:
    path = "/feeds/venues/konzerthaus-dortmund.ics"
    before = client.get(path)
    _touch(factory, "ocpunk3", NOW)  # at another venue
    assert client.get(path, headers={"If-None-Match": before.headers["etag"]}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": before.headers["last-modified"]}).status_code == 304
    assert len(renders) == 2  # re-rendered once for the new data version, same bytes


def test_unchanged_reimport_answers_304(client: TestClient, factory: sessionmaker[Session]) -> None:
    before = client.get("/feeds/events.ics")
    with factory() as session, session.begin():  # a re-import that finds nothing new writes nothing visible
        session.execute(update(Occurrence).where(Occurrence.id == "ocmahler2").values(room=None))
    again = client.get("/feeds/events.ics", headers={"If-None-Match": before.headers["etag"]})
    assert again.status_code == 304


def test_data_version_comes_from_the_database(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    """Another process's commit (here: another app on the same database) is seen at once."""
    with open_client(settings, engine, factory) as reader:
        before = reader.get("/api/v1/events/evmahler").json()["occurrences"][2]["sequence"]
        _touch(factory, "ocmahler2", NOW)
        assert reader.get("/api/v1/events/evmahler").json()["occurrences"][2]["sequence"] == before + 1


@pytest.mark.realtime
def test_version_is_reread_after_its_ttl(
    settings: Settings, engine: Any, factory: sessionmaker[Session], renders: list[str]
) -> None:
    from _data import SPECS, populate
    from calendar_rows import Runtime

    from calendar_api.app import create_app

    if engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL announces each commit at once (tests/api/test_invalidation.py)")
    populate(factory)
    app = create_app(
        Runtime(settings, engine, factory, SPECS), clock=lambda: NOW, extensions=(), version_ttl=0.3
    )
    with TestClient(app) as client:
        before = client.get("/feeds/events.ics").headers["etag"]
        _touch(factory, "ocmahler2", NOW)
        assert client.get("/feeds/events.ics").headers["etag"] == before  # within the TTL: no query
        time.sleep(0.35)
        assert client.get("/feeds/events.ics").headers["etag"] != before
    assert len(renders) == 2


def test_day_change_rerenders_but_unchanged_content_stays_304(
    settings: Settings, engine: Any, factory: sessionmaker[Session], renders: list[str]
) -> None:
    now = [NOW]
    with open_client(settings, engine, factory, clock=lambda: now[0]) as client:
        path = "/feeds/events.ics?from=2026-03-25&to=2026-04-30"
        before = client.get(path)
        now[0] = NOW + timedelta(days=1)
        again = client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert (again.status_code, len(renders)) == (304, 2)


def test_gzip_when_accepted(client: TestClient) -> None:
    plain = client.get("/feeds/events.ics", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/feeds/events.ics", headers={"Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == zipped.headers["vary"] == "Accept-Encoding, Origin"
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # the client decoded it
    assert zipped.headers["etag"] == plain.headers["etag"]
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3


def test_json_is_gzipped_too(client: TestClient) -> None:
    response = client.get("/api/v1/events", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"


def test_problems_are_not_cached(client: TestClient) -> None:
    assert client.get("/api/v1/events?limit=0").headers["cache-control"] == "no-store"


# --- the pieces on their own ---------------------------------------------------------------------

STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _key(name: str, version: str = "v1") -> CacheKey:
    return ("feed", f"/{name}", "", version, "")


def _rendered(text: str) -> Callable[[], tuple[CacheKey, Rendered]]:
    def make() -> tuple[CacheKey, Rendered]:
        return _key(text), render_body(text.encode() * 10, "text/calendar", STAMP)

    return make


def test_cache_is_bounded_and_evicts_least_recently_used() -> None:
    cache = RenderCache(max_entries=2)
    cache.observe_version("v1")
    for name in ("a", "b"):
        cache.get_or_render(_key(name), _rendered(name))
    assert cache.get(_key("a")) is not None  # a is now the most recent
    cache.get_or_render(_key("c"), _rendered("c"))
    assert (len(cache), cache.get(_key("b")), cache.get(_key("a")) is not None) == (2, None, True)


def test_cache_bounds_bytes() -> None:
    cache = RenderCache(max_entries=10, max_bytes=50)
    cache.observe_version("v1")
    cache.get_or_render(_key("a"), _rendered("abc"))  # 30 bytes, no gzip copy below 1000
    cache.get_or_render(_key("abc"), _rendered("abc"))
    assert len(cache) == 1


def test_new_version_drops_older_entries() -> None:
    cache = RenderCache(max_entries=10)
    cache.observe_version("v1")
    cache.get_or_render(_key("a"), _rendered("a"))
    cache.observe_version("v2")
    assert (len(cache), cache.get(_key("a"))) == (0, None)


@pytest.mark.realtime
def test_concurrent_misses_render_once() -> None:
    cache = RenderCache(max_entries=10)
    cache.observe_version("v1")
    calls: list[int] = []

    def slow() -> tuple[CacheKey, Rendered]:
        calls.append(1)
        time.sleep(0.1)
        return _key("a"), render_body(b"body", "text/calendar", STAMP)

    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_render(_key("a"), slow)[1]))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(calls), sorted(results)) == (1, [False, True, True, True])


def test_a_failed_render_is_not_cached_and_can_be_retried() -> None:
    cache = RenderCache(max_entries=10)

    def broken() -> tuple[CacheKey, Rendered]:
        raise LookupError("gone")

    with pytest.raises(LookupError):
        cache.get_or_render(_key("a"), broken)
    assert cache.get_or_render(_key("a"), _rendered("a"))[1] is False


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"If-None-Match": 'W/"abc"'}, True),
        ({"If-None-Match": '"abc"'}, True),
        ({"If-None-Match": 'W/"x", W/"abc"'}, True),
        ({"If-None-Match": "*"}, True),
        ({"If-None-Match": 'W/"abcd"'}, False),
        ({"If-Modified-Since": "Sun, 01 Mar 2026 12:00:00 GMT"}, True),
        ({"If-Modified-Since": "Sun, 01 Mar 2026 11:59:59 GMT"}, False),
        ({"If-Modified-Since": "yesterday"}, False),
        ({"If-Modified-Since": ""}, False),
        ({}, False),
    ],
)
def test_not_modified(headers: dict[str, str], expected: bool) -> None:
    assert not_modified(Headers(headers), 'W/"abc"', STAMP) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=1.0, *;q=0.5", True),
        ("GZIP", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("br, deflate", False),
        ("", False),
    ],
)
def test_accepts_gzip(value: str, expected: bool) -> None:
    assert accepts_gzip(Headers({"Accept-Encoding": value})) is expected


def test_gzip_copy_is_deterministic() -> None:
    one, two = (
        render_body(b"x" * 5000, "text/calendar", STAMP),
        render_body(b"x" * 5000, "text/calendar", STAMP),
    )
    assert one.gzipped == two.gzipped and gzip.decompress(one.gzipped or b"") == b"x" * 5000
