"""Hostile input to a probe: schemes, private addresses (also behind a name or a redirect), budget, size, time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from fixed_clock import NOW, clock
from page_host import Page, serving

from aggregator.config import ProbeSettings, Settings
from sources.base import Document, SourceError
from sources.http import HttpClient
from sources.probe import probe
from sources.probe.guard import ProbeFetcher, UnsafeUrl, _GuardedAdapter, check_url, guarded_session

PUBLIC = "93.184.216.34"
PROBES = Path(__file__).resolve().parents[1] / "fixtures" / "probe"


def _resolver(*addresses: str) -> object:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/x.ics",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://127.0.0.1/",
        "http://127.8.9.10:8080/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.7/",
        "http://172.20.1.1/",
        "http://192.168.178.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://localhost:8080/",
        "http://printer.local/",
    ],
)
def test_unsafe_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=False, resolve=_resolver(PUBLIC))  # type: ignore[arg-type]


def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    with pytest.raises(UnsafeUrl, match=r"10\.9\.8\.7"):
        check_url("https://intranet.example.org/", allow_private=False, resolve=_resolver(PUBLIC, "10.9.8.7"))  # type: ignore[arg-type]
    check_url("https://venue.example.org/", allow_private=False, resolve=_resolver(PUBLIC))  # type: ignore[arg-type]


def test_private_addresses_only_with_the_setting() -> None:
    check_url("http://127.0.0.1:8080/", allow_private=True, resolve=None)
    with pytest.raises(UnsafeUrl):
        check_url("ftp://127.0.0.1/", allow_private=True, resolve=None)


def test_the_guarded_session_refuses_before_connecting() -> None:
    session = guarded_session(ProbeSettings())
    with pytest.raises(UnsafeUrl):
        session.get("http://127.0.0.1:9/", timeout=1)  # port 9 would refuse; we never get that far


PAGES: dict[str, Page] = {}
"""What the test server answers; each test sets its own."""


@pytest.fixture
def server() -> Iterator[str]:
    PAGES.clear()
    with serving(PAGES) as url:
        yield url


def _client(settings: Settings, limits: ProbeSettings) -> HttpClient:
    return HttpClient(
        settings.http,
        wall_clock=clock(),
        session=guarded_session(limits),
        max_bytes=limits.max_bytes,
        max_seconds=limits.max_seconds,
        sleep=lambda seconds: None,
    )


def test_a_live_probe_through_the_polite_client(server: str, settings: Settings) -> None:
    ics = (PROBES / "ical_link" / "termine.ics").read_bytes()
    page = (PROBES / "ical_link" / "termine.html").read_bytes()
    PAGES.update(
        {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n"),
            "/termine.html": (200, {"Content-Type": "text/html; charset=utf-8"}, page),
            "/termine.ics": (200, {"Content-Type": "text/calendar"}, ics),
        }
    )
    limits = ProbeSettings(allow_private_networks=True)
    fetcher = ProbeFetcher(_client(settings, limits), limits, resolve=None)
    report = probe(f"{server}/termine.html", fetcher, window_days=(1, 400), pages=10)
    assert report.best is not None and report.best.events == 2
    assert report.suggested()["url"] == f"{server}/termine.ics"


def test_every_hop_of_a_redirect_is_checked(server: str, settings: Settings) -> None:
    PAGES.update(
        {
            "/robots.txt": (404, {}, b""),
            "/go": (302, {"Location": "http://10.0.0.1/secret"}, b""),
        }
    )
    session = (
        requests.Session()
    )  # this test's server is let through; everything else as a probe would check it
    session.mount(
        "http://",
        _GuardedAdapter(lambda url: check_url(url, allow_private=url.startswith(server), resolve=None)),
    )
    client = HttpClient(settings.http, wall_clock=clock(), session=session, sleep=lambda seconds: None)
    with pytest.raises(UnsafeUrl, match=r"10\.0\.0\.1"):
        client.get(f"{server}/go")


def test_a_body_over_the_size_limit_is_not_read(server: str, settings: Settings) -> None:
    PAGES.update({"/robots.txt": (404, {}, b""), "/big": (200, {}, b"x" * 5000)})
    limits = ProbeSettings(allow_private_networks=True, max_bytes=1000)
    with pytest.raises(SourceError, match="larger than 1000 bytes"):
        _client(settings, limits).get(f"{server}/big")


class _Pages:
    def __init__(self, size: int = 10) -> None:
        self.size = size
        self.asked: list[str] = []

    def new_run(self) -> None:
        return

    def now(self) -> datetime:
        return NOW

    def get(self, url: str) -> Document:
        self.asked.append(url)
        return Document(url=url, body=b"<html></html>" + b" " * self.size, fetched_at=NOW)


def test_the_probe_fetcher_keeps_to_its_budget_and_asks_each_url_once() -> None:
    inner = _Pages()
    fetcher = ProbeFetcher(inner, ProbeSettings(max_pages=2), resolve=None)
    fetcher.get("https://a.example/1")
    fetcher.get("https://a.example/1")
    fetcher.get("https://a.example/2")
    with pytest.raises(SourceError, match="page budget"):
        fetcher.get("https://a.example/3")
    assert inner.asked == ["https://a.example/1", "https://a.example/2"]


def test_the_probe_fetcher_refuses_big_documents_and_stops_at_its_deadline() -> None:
    ticks = iter([0.0, 0.0, 500.0])
    fetcher = ProbeFetcher(
        _Pages(size=2000),
        ProbeSettings(max_bytes=1000, max_seconds=60),
        resolve=None,
        clock=lambda: next(ticks),
    )
    with pytest.raises(SourceError, match="max_bytes"):
        fetcher.get("https://a.example/big")
    with pytest.raises(SourceError, match="60 s are up"):
        fetcher.get("https://a.example/late")


def test_the_probe_fetcher_checks_every_url() -> None:
    fetcher = ProbeFetcher(_Pages(), ProbeSettings(), resolve=None)
    with pytest.raises(UnsafeUrl):
        fetcher.get("http://192.168.0.1/")


def test_requests_is_what_the_guard_wraps() -> None:
    assert isinstance(guarded_session(ProbeSettings()), requests.Session)


class _Trickle(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        for _ in range(20):
            self.wfile.write(b"<p>" + b"x" * 70_000 + b"</p>")
            self.wfile.flush()
            time.sleep(0.1)

    def log_message(self, *args: object) -> None:
        return


@pytest.mark.realtime
def test_a_body_trickling_in_past_the_deadline_is_given_up(settings: Settings) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        limits = ProbeSettings(allow_private_networks=True, max_seconds=0.3)
        http = replace(settings.http, respect_robots=False)
        client = HttpClient(http, wall_clock=clock(), session=guarded_session(limits), max_seconds=0.3)
        with pytest.raises(SourceError, match="not complete after"):
            client.get(f"http://127.0.0.1:{httpd.server_address[1]}/slow")
    finally:
        httpd.shutdown()
        httpd.server_close()
