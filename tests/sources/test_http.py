"""The shared HTTP client against a scripted server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fixed_clock import NOW, clock

from aggregator.config import HttpSettings
from sources.base import SourceError
from sources.http import (
    FetchError,
    HostRateLimiter,
    HttpClient,
    PageBudgetExceeded,
    RobotsDisallowed,
    parse_retry_after,
)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    truncate_to: int | None = None


@dataclass
class Script:
    """Replies per path, served in order (the last one repeats); requests are recorded."""

    routes: dict[str, list[Reply]] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def reply_for(self, path: str) -> Reply:
        replies = self.routes.get(path)
        if not replies:
            return Reply(404, b"not found")
        return replies.pop(0) if len(replies) > 1 else replies[0]


class _Handler(BaseHTTPRequestHandler):
    script: Script

    def do_GET(self) -> None:
        self.script.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        reply = self.script.reply_for(self.path)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        body = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
        if reply.status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Server:
    base: str
    script: Script


@pytest.fixture
def server() -> Iterator[Server]:
    script = Script()
    handler = type("Handler", (_Handler,), {"script": script})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", script)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class FakeTime:
    """A clock that only moves when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


SETTINGS = HttpSettings(
    cache_dir="cache",
    user_agent="stadtkalender/0.1 (+https://example.org/stadtkalender)",
    contact="ops@example.org",
    requests_per_second=0,
    timeout_seconds=5,
    retries=2,
    backoff_seconds=1.0,
    max_retry_after_seconds=60,
    page_budget=50,
    respect_robots=False,
)


def make(tmp_path: Path, fake: FakeTime, **overrides: object) -> HttpClient:
    settings = replace(SETTINGS, **overrides)  # type: ignore[arg-type]
    return HttpClient(settings, wall_clock=clock(), cache_root=tmp_path, clock=fake.clock, sleep=fake.sleep)


def test_user_agent_names_project_and_contact(server: Server, tmp_path: Path) -> None:
    server.script.routes["/page"] = [Reply(body=b"<html></html>", headers={"Content-Type": "text/html"})]
    document = make(tmp_path, FakeTime()).get(server.base + "/page")
    assert server.script.seen[0][1]["user-agent"] == (
        "stadtkalender/0.1 (+https://example.org/stadtkalender) contact: ops@example.org"
    )
    assert (document.status, document.body, document.content_type) == (200, b"<html></html>", "text/html")


def test_robots_disallow_is_respected(server: Server, tmp_path: Path) -> None:
    server.script.routes["/robots.txt"] = [Reply(body=b"User-agent: stadtkalender\nDisallow: /private/\n")]
    server.script.routes["/public"] = [Reply()]
    fetcher = make(tmp_path, FakeTime(), respect_robots=True)
    assert fetcher.get(server.base + "/public").body == b"ok"
    with pytest.raises(RobotsDisallowed) as info:
        fetcher.get(server.base + "/private/page")
    assert info.value.url == server.base + "/private/page"
    assert [path for path, _ in server.script.seen] == ["/robots.txt", "/public"]


def test_robots_is_fetched_once_per_host_and_missing_means_allowed(server: Server, tmp_path: Path) -> None:
    server.script.routes["/a"] = [Reply()]
    fetcher = make(tmp_path, FakeTime(), respect_robots=True)
    fetcher.get(server.base + "/a")
    fetcher.get(server.base + "/a")
    assert [path for path, _ in server.script.seen] == ["/robots.txt", "/a", "/a"]


def test_robots_crawl_delay_slows_the_host(server: Server, tmp_path: Path) -> None:
    server.script.routes["/robots.txt"] = [Reply(body=b"User-agent: *\nCrawl-delay: 5\n")]
    server.script.routes["/a"] = [Reply()]
    fake = FakeTime()
    fetcher = make(tmp_path, fake, respect_robots=True, requests_per_second=1)
    fetcher.get(server.base + "/a")
    fetcher.get(server.base + "/a")
    assert fake.sleeps == [1.0, 5.0]


def test_429_with_retry_after_is_retried_once_after_that_wait(server: Server, tmp_path: Path) -> None:
    server.script.routes["/busy"] = [Reply(429, b"slow down", {"Retry-After": "7"}), Reply(body=b"done")]
    fake = FakeTime()
    document = make(tmp_path, fake).get(server.base + "/busy")
    assert document.body == b"done"
    assert fake.sleeps == [7.0]
    assert len(server.script.seen) == 2


def test_retry_after_longer_than_the_cap_fails_without_retrying(server: Server, tmp_path: Path) -> None:
    server.script.routes["/busy"] = [Reply(503, b"", {"Retry-After": "3600"}), Reply()]
    fake = FakeTime()
    with pytest.raises(FetchError) as info:
        make(tmp_path, fake).get(server.base + "/busy")
    assert info.value.status == 503
    assert "3600" in str(info.value)
    assert fake.sleeps == []


def test_server_errors_back_off_exponentially_then_fail(server: Server, tmp_path: Path) -> None:
    server.script.routes["/broken"] = [Reply(500, b"oops")]
    fake = FakeTime()
    with pytest.raises(FetchError) as info:
        make(tmp_path, fake, retries=3).get(server.base + "/broken")
    assert (info.value.status, info.value.url) == (500, server.base + "/broken")
    assert fake.sleeps == [1.0, 2.0, 4.0]
    assert len(server.script.seen) == 4


def test_not_found_is_not_retried(server: Server, tmp_path: Path) -> None:
    fake = FakeTime()
    with pytest.raises(FetchError) as info:
        make(tmp_path, fake).get(server.base + "/nothing")
    assert info.value.status == 404
    assert len(server.script.seen) == 1


def test_connection_refused_is_a_fetch_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake = FakeTime()
    with pytest.raises(FetchError) as info:
        make(tmp_path, fake, retries=1).get(f"http://127.0.0.1:{port}/x")
    assert info.value.status is None
    assert isinstance(info.value, SourceError)
    assert fake.sleeps == [1.0]


def test_truncated_body_is_a_fetch_error(server: Server, tmp_path: Path) -> None:
    server.script.routes["/cut"] = [Reply(body=b"x" * 1000, truncate_to=100)]
    with pytest.raises(FetchError) as info:
        make(tmp_path, FakeTime(), retries=1).get(server.base + "/cut")
    assert "truncated" in str(info.value)


def test_body_over_the_size_limit_is_a_fetch_error(server: Server, tmp_path: Path) -> None:
    server.script.routes["/big"] = [Reply(body=b"x" * 5000)]
    fetcher = HttpClient(SETTINGS, wall_clock=clock(), max_bytes=1000, sleep=FakeTime().sleep)
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetcher.get(server.base + "/big")


def test_etag_round_trip_returns_304_with_the_cached_body(server: Server, tmp_path: Path) -> None:
    headers = {"ETag": '"v1"', "Content-Type": "application/json"}
    server.script.routes["/feed"] = [Reply(body=b'{"events": []}', headers=headers), Reply(304, b"", headers)]
    fake = FakeTime()
    first = make(tmp_path, fake).get(server.base + "/feed")
    second = make(tmp_path, fake).get(server.base + "/feed")  # a new fetcher: the cache is on disk
    assert first.status == 200
    assert (second.status, second.body, second.content_type) == (304, b'{"events": []}', "application/json")
    assert "if-none-match" not in server.script.seen[0][1]
    assert server.script.seen[1][1]["if-none-match"] == '"v1"'


def test_last_modified_is_sent_as_if_modified_since(server: Server, tmp_path: Path) -> None:
    stamp = "Wed, 01 May 2024 10:00:00 GMT"
    server.script.routes["/feed"] = [Reply(headers={"Last-Modified": stamp}), Reply(body=b"new")]
    fetcher = make(tmp_path, FakeTime())
    fetcher.get(server.base + "/feed")
    assert fetcher.get(server.base + "/feed").body == b"new"
    assert server.script.seen[1][1]["if-modified-since"] == stamp


def test_response_without_validators_is_not_cached(server: Server, tmp_path: Path) -> None:
    server.script.routes["/plain"] = [Reply(body=b"a"), Reply(body=b"b")]
    fetcher = make(tmp_path, FakeTime())
    fetcher.get(server.base + "/plain")
    fetcher.get(server.base + "/plain")
    assert "if-none-match" not in server.script.seen[1][1]
    assert not (tmp_path / "cache").exists()


def test_page_budget_is_enforced_and_reset_per_run(server: Server, tmp_path: Path) -> None:
    server.script.routes["/p"] = [Reply()]
    fetcher = make(tmp_path, FakeTime(), page_budget=2)
    fetcher.get(server.base + "/p")
    fetcher.get(server.base + "/p")
    with pytest.raises(PageBudgetExceeded) as info:
        fetcher.get(server.base + "/p")
    assert info.value.budget == 2
    assert len(server.script.seen) == 2
    fetcher.new_run()
    assert fetcher.get(server.base + "/p").body == b"ok"


def test_requests_to_one_host_are_spaced_by_the_rate(server: Server, tmp_path: Path) -> None:
    server.script.routes["/p"] = [Reply()]
    fake = FakeTime()
    fetcher = make(tmp_path, fake, requests_per_second=2)
    for _ in range(3):
        fetcher.get(server.base + "/p")
    assert fake.sleeps == [0.5, 0.5]


def test_rate_limiter_keeps_hosts_apart() -> None:
    fake = FakeTime()
    limiter = HostRateLimiter(1.0, clock=fake.clock, sleep=fake.sleep)
    limiter.wait("https://a.example")
    limiter.wait("https://b.example")
    assert fake.sleeps == []
    fake.now += 0.25
    assert limiter.wait("https://a.example") == 0.75
    limiter.defer("https://b.example", 10)
    assert limiter.wait("https://b.example") == 10


def test_rate_limiter_serialises_threads() -> None:
    fake = FakeTime()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            fake.sleeps.append(seconds)

    limiter = HostRateLimiter(1.0, clock=fake.clock, sleep=sleep)
    threads = [threading.Thread(target=limiter.wait, args=("https://a.example",)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fake.sleeps) == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("0", 0.0), (None, None), ("soon", None)],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(header, now=now) == 90.0


def test_robots_forbidden_means_everything_disallowed(server: Server, tmp_path: Path) -> None:
    server.script.routes["/robots.txt"] = [Reply(403, b"")]
    with pytest.raises(RobotsDisallowed):
        make(tmp_path, FakeTime(), respect_robots=True).get(server.base + "/a")


def test_unreadable_robots_fails_the_fetch(server: Server, tmp_path: Path) -> None:
    server.script.routes["/robots.txt"] = [Reply(500, b"")]
    server.script.routes["/a"] = [Reply()]
    with pytest.raises(FetchError) as info:
        make(tmp_path, FakeTime(), respect_robots=True, retries=0).get(server.base + "/a")
    assert info.value.url == server.base + "/robots.txt"
    assert [path for path, _ in server.script.seen] == ["/robots.txt"]
