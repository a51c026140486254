"""The serving fast path: the same bytes and headers as the normal path, and only while they are current."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import anyio
import brotli
import pytest
from _data import NOW, open_client
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

import calendar_api.caching
from aggregator.config import Settings
from aggregator.models import Occurrence
from calendar_api.caching import Publisher, RenderCache, Rendered, choose_coding, render_body
from calendar_api.extension_points import Extension
from calendar_api.fast_path import FastIndex, bucket_end
from calendar_api.filters import berlin_midnight
from calendar_api.queries import DataVersion

FEED = "/feeds/events.ics"
LIST = "/api/v1/events?category=konzert&limit=2"
VENUES = "/api/v1/venues"
ENCODINGS = ["identity", "gzip", "br", "gzip, deflate, br", "br;q=0.5, gzip", "*", ""]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class MovableClock:
    """The app's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Observed:
    """A metrics part recording what the app reports."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []
        self.feed_hits = 0

    def observe(self, route: str, method: str, status: int, _seconds: float) -> None:
        self.requests.append((route, method, status))

    def feed_hit(self) -> None:
        self.feed_hits += 1


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def observed() -> Observed:
    return Observed()


@pytest.fixture
def client(
    settings: Settings, engine: Any, factory: sessionmaker[Session], clock: MovableClock, observed: Observed
) -> Iterator[TestClient]:
    spy = Extension("spy", observe_request=observed.observe, feed_cache_hit=observed.feed_hit)
    with open_client(settings, engine, factory, clock=clock, extensions=(spy,)) as client:
        yield client


def _index(client: TestClient) -> FastIndex:
    index = client.app.state.fast_path  # type: ignore[attr-defined]
    assert isinstance(index, FastIndex)
    return index


def _raw(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Answer:
    """Status, the header list as sent (order included) and the body bytes as sent (not decoded)."""
    with client.stream(method, path, headers=headers) as response:
        body = b"".join(response.iter_raw())
        return response.status_code, list(response.headers.raw), body


def _normal_then_fast(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> tuple[Answer, Answer]:
    """The answer of the normal path (index emptied first), then the same request's fast answer."""
    index = _index(client)
    index.clear()
    normal = _raw(client, method, path, headers)
    hits = index.hits
    fast = _raw(client, method, path, headers)
    assert index.hits == hits + 1, "the second request was not answered by the fast path"
    return normal, fast


@pytest.mark.parametrize("path", [FEED, LIST, VENUES, "/events/evjazz.ics"])
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("origin", [False, True])
def test_fast_answer_is_byte_identical_to_the_normal_one(
    client: TestClient, path: str, encoding: str, origin: bool
) -> None:
    headers = {"Accept-Encoding": encoding, **({"Origin": "https://example.org"} if origin else {})}
    normal, fast = _normal_then_fast(client, "GET", path, headers)
    assert fast == normal
    assert normal[0] == 200


@pytest.mark.parametrize(("encoding", "decode"), [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_compressed_answers_decode_to_the_plain_body(client: TestClient, encoding: str, decode: Any) -> None:
    plain = _raw(client, "GET", FEED, {"Accept-Encoding": "identity"})
    status, headers, body = _raw(client, "GET", FEED, {"Accept-Encoding": encoding})
    assert (status, dict(headers)[b"content-encoding"]) == (200, encoding.encode())
    assert decode(body) == plain[2]
    assert dict(headers)[b"vary"] == b"Accept-Encoding, Origin"


def test_refused_codings_are_left_to_the_normal_path(client: TestClient) -> None:
    # Starlette's GZipMiddleware compresses whenever "gzip" occurs in the header, even at q=0.
    headers = {"Accept-Encoding": "gzip;q=0, br;q=0"}
    first = _raw(client, "GET", FEED, headers)
    hits = _index(client).hits
    assert _raw(client, "GET", FEED, headers) == first
    assert _index(client).hits == hits


def test_head_is_answered_like_get(client: TestClient) -> None:
    normal, fast = _normal_then_fast(
        client, "HEAD", FEED, {"Accept-Encoding": "br", "Origin": "https://x.org"}
    )
    assert fast[:2] == normal[:2]
    assert dict(fast[1])[b"access-control-allow-origin"] == b"*"


@pytest.mark.parametrize("path", [FEED, LIST])
def test_304_by_if_none_match(client: TestClient, path: str) -> None:
    etag = client.get(path).headers["etag"]
    headers = {"If-None-Match": etag, "Accept-Encoding": "gzip", "Origin": "https://example.org"}
    normal, fast = _normal_then_fast(client, "GET", path, headers)
    assert fast == normal
    assert (fast[0], fast[2]) == (304, b"")


def test_304_by_if_modified_since(client: TestClient) -> None:
    last_modified = client.get(FEED).headers["last-modified"]
    normal, fast = _normal_then_fast(client, "GET", FEED, {"If-Modified-Since": last_modified})
    assert fast == normal
    assert fast[0] == 304
    earlier = format_datetime(datetime(2026, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(FEED, headers={"If-Modified-Since": earlier}).status_code == 200


def test_a_write_is_a_new_body_at_once(client: TestClient, factory: sessionmaker[Session]) -> None:
    first = client.get(FEED)
    assert client.get(FEED).content == first.content
    hits = _index(client).hits
    with factory() as session, session.begin():
        session.execute(
            update(Occurrence)
            .where(Occurrence.id == "ocmahler1")
            .values(sequence=Occurrence.sequence + 1, updated_at=NOW, room="Kammermusiksaal")
        )
    after = client.get(FEED)
    assert _index(client).hits == hits
    assert after.headers["etag"] != first.headers["etag"]
    assert b"Kammermusiksaal" in after.content


def test_a_new_day_is_not_answered_from_yesterday(client: TestClient, clock: MovableClock) -> None:
    client.get(FEED)
    client.get(FEED)
    hits = _index(client).hits
    clock.now = NOW + timedelta(days=1)
    client.get(FEED)
    assert _index(client).hits == hits
    client.get(FEED)
    assert _index(client).hits == hits + 1


def test_a_list_bucketed_by_the_minute_expires_with_it(client: TestClient, clock: MovableClock) -> None:
    client.get("/api/v1/events")
    client.get("/api/v1/events")
    hits = _index(client).hits
    assert hits == 1
    clock.now = NOW + timedelta(seconds=59)
    client.get("/api/v1/events")
    clock.now = NOW + timedelta(minutes=1)
    client.get("/api/v1/events")
    assert _index(client).hits == hits + 1


def test_cors_preflight_is_left_to_the_middleware(client: TestClient) -> None:
    client.get(FEED)
    hits = _index(client).hits
    response = client.options(
        FEED, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 200
    assert "GET" in response.headers["access-control-allow-methods"]
    assert _index(client).hits == hits


def test_other_methods_fall_through(client: TestClient) -> None:
    client.get(FEED)
    hits = _index(client).hits
    assert client.post(FEED).status_code == 405
    assert _index(client).hits == hits


def test_errors_and_unknown_urls_are_not_kept(client: TestClient) -> None:
    assert client.get("/feeds/venues/nowhere.ics").status_code == 404
    assert client.get("/api/v1/venues?bogus=1").status_code == 400
    assert len(_index(client)) == 0


def test_fast_answers_are_counted_like_others(client: TestClient, observed: Observed) -> None:
    client.get(FEED)
    client.get(FEED)
    etag = client.get(FEED).headers["etag"]
    client.get(FEED, headers={"If-None-Match": etag})
    assert observed.requests == [("/feeds/events.ics", "GET", 200)] * 3 + [("/feeds/events.ics", "GET", 304)]
    assert observed.feed_hits == 3
    assert _index(client).hits == 3


def _rendered() -> Rendered:
    return render_body(b"BEGIN:VCALENDAR\r\n" * 200, "text/calendar", NOW)


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("", "identity"),
        ("gzip", "gzip"),
        ("gzip, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", "identity"),
        ("*", "br"),
        ("*;q=0.1, gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("BR;Q=1", "br"),
        ("identity", "identity"),
    ],
)
def test_coding_by_q_values(accept: str, coding: str) -> None:
    assert choose_coding(accept, _rendered()) == coding


def test_small_bodies_have_no_compressed_copies() -> None:
    small = render_body(b"{}", "application/json", NOW)
    assert (small.gzipped, small.brotli, choose_coding("br, gzip", small)) == (None, None, "identity")


def test_bucket_end() -> None:
    minute = NOW.replace(second=0)
    assert bucket_end(None, NOW) is None
    assert bucket_end(minute, NOW + timedelta(seconds=30)) == minute + timedelta(minutes=1)
    midnight = berlin_midnight(NOW.date())
    assert bucket_end(midnight, NOW) == berlin_midnight(NOW.date() + timedelta(days=1))
    # In a day's first minutes a day's start may be the minute bucket of a moment ago: not kept.
    assert bucket_end(midnight, midnight + timedelta(seconds=70)) == midnight + timedelta(seconds=70)


def test_requests_finding_the_version_expired_together_read_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    gate = threading.Event()

    def read_version(_factory: Any) -> DataVersion:
        reads.append(1)
        gate.wait(5)  # held until every request has arrived
        return DataVersion("v1", NOW)

    monkeypatch.setattr(calendar_api.caching, "current_version", read_version)
    publisher = Publisher(sessionmaker(), RenderCache(8), clock=lambda: NOW, version_ttl=60)
    index = FastIndex(publisher, clock=lambda: NOW, max_entries=8)
    scope = {"type": "http", "method": "GET", "path": FEED, "query_string": b""}
    index.remember(scope, "feed", _rendered(), "v1", None, "public, max-age=60")
    found: list[object] = []

    async def ask() -> None:
        found.append(await index.current(scope))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(ask)
            await anyio.sleep(0.05)
            gate.set()

    anyio.run(main)
    assert reads == [1]
    assert len(found) == 10 and all(entry is not None for entry in found)
