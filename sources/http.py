"""The one shared HTTP client for live runs: polite, cached, bounded.

:class:`HttpClient` implements :class:`sources.base.Fetcher` over a ``requests.Session``:

- a User-Agent naming the project and a contact address (``HttpSettings.user_agent``/``contact``);
- robots.txt honoured per host (cached for the fetcher's life; ``Crawl-delay`` slows the host down);
  a disallowed URL raises :class:`RobotsDisallowed`;
- at most ``requests_per_second`` requests per host (:class:`HostRateLimiter`, thread-safe);
- retries with exponential backoff on 408/429/5xx, connection errors and truncated bodies,
  honouring ``Retry-After`` (seconds or HTTP-date); a server that asks for a longer wait than
  ``max_retry_after_seconds`` is not retried early — the fetch fails with :class:`FetchError`;
- conditional requests from an on-disk cache (:class:`ConditionalCache`): a page that answers
  ``304 Not Modified`` is returned with the cached body and ``Document.status == 304``;
  every other successful page has ``status == 200``;
- bodies of at most ``max_bytes``, read in at most ``max_seconds`` when given;
- a page budget per run (:class:`PageBudgetExceeded`), reset by :meth:`HttpClient.new_run`
  (call it at the start of every source run: the client is shared and long-lived).

The cache and the retry loop are written here rather than taken from CacheControl or urllib3's
``Retry``: we want every page revalidated on every run (never served from a heuristic freshness
window), every network exchange — retries included — to pass the per-host rate gate, the caller
to learn that a page was unchanged, and the sleeps to be injectable for tests.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import math
import os
import tempfile
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from aggregator.clock import Clock as WallClock
from aggregator.config import HttpSettings, Settings
from sources.base import Document, SourceError

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""A monotonic clock (seconds) for pacing and retries."""
Sleep = Callable[[float], None]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_ERROR_SOURCE = "http"
_CHUNK = 64 * 1024
DEFAULT_MAX_BYTES = 50_000_000


class FetchError(SourceError):
    """A URL could not be fetched (after retries): carries the URL, HTTP status (if any) and reason."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.status = status
        self.reason = reason
        prefix = f"HTTP {status}: " if status is not None else ""
        super().__init__(_ERROR_SOURCE, f"{prefix}{reason}", url)


class RobotsDisallowed(SourceError):
    """robots.txt of the URL's host forbids our user agent to fetch it."""

    def __init__(self, url: str, agent: str) -> None:
        self.agent = agent
        super().__init__(_ERROR_SOURCE, f"robots.txt disallows {agent!r}", url)


class PageBudgetExceeded(SourceError):
    """More pages were requested in one run than ``HttpSettings.page_budget`` allows."""

    def __init__(self, url: str, budget: int) -> None:
        self.budget = budget
        super().__init__(_ERROR_SOURCE, f"page budget of {budget} requests per run exhausted", url)


class HostRateLimiter:
    """Spaces requests to one host at least ``interval`` seconds apart; safe across threads.

    Each caller reserves the next free slot under a lock and sleeps outside it, so a slow host
    never blocks requests to other hosts.
    """

    def __init__(self, interval: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._intervals: dict[str, float] = {}
        self._lock = threading.Lock()

    def set_interval(self, host: str, interval: float) -> None:
        """Use a longer spacing for ``host`` (robots.txt ``Crawl-delay``); never shorter than default."""
        with self._lock:
            self._intervals[host] = max(self.interval, interval)

    def defer(self, host: str, seconds: float) -> None:
        """Hold every request to ``host`` back for ``seconds`` from now (a server's ``Retry-After``)."""
        with self._lock:
            until = self._clock() + seconds
            self._next[host] = max(self._next.get(host, until), until)

    def wait(self, host: str) -> float:
        """Block until ``host`` may be contacted again; returns the seconds slept."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + self._intervals.get(host, self.interval)
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)


@dataclass(frozen=True, slots=True)
class CachedPage:
    """A stored response body with the validators to revalidate it."""

    url: str
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    stored_at: datetime | None = None


class ConditionalCache:
    """An on-disk store of bodies and validators (ETag, Last-Modified), keyed by sha256 of the URL.

    Each entry is two files, ``<key>.json`` (metadata) and ``<key>.body``, written atomically.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.directory / f"{key}.json", self.directory / f"{key}.body"

    def load(self, url: str) -> CachedPage | None:
        """The stored page for ``url``, or None if there is none (or it is unreadable)."""
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("url") != url:
            return None
        return CachedPage(
            url, body, meta.get("content_type", ""), meta.get("etag"), meta.get("last_modified")
        )

    def store(self, page: CachedPage) -> None:
        """Save ``page`` (body first, so a half-written entry is never read as complete)."""
        meta_path, body_path = self._paths(page.url)
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "url": page.url,
            "content_type": page.content_type,
            "etag": page.etag,
            "last_modified": page.last_modified,
            "stored_at": page.stored_at.isoformat() if page.stored_at else None,
        }
        _write_atomic(body_path, page.body)
        _write_atomic(meta_path, json.dumps(meta, indent=1).encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from ``now`` to wait by a ``Retry-After`` header (seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(slots=True)
class _Response:
    status: int
    reason: str
    url: str
    headers: Mapping[str, str]
    body: bytes


class _Retryable(Exception):
    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class HttpClient:
    """The shared live :class:`~sources.base.Fetcher`.

    ``cache_root`` is the folder ``http.cache_dir`` is resolved against (an absolute
    ``cache_dir`` stays as it is); without it there is no on-disk cache.

    ``get(url)`` returns a :class:`Document` whose ``url`` is the final URL after redirects and
    whose ``status`` is 200, or 304 when the server confirmed the cached copy is unchanged.
    Raises :class:`RobotsDisallowed`, :class:`PageBudgetExceeded` or :class:`FetchError`.
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        wall_clock: WallClock,
        cache_root: Path | None = None,
        session: requests.Session | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        max_seconds: float | None = None,
    ) -> None:
        self.settings = settings
        self.wall_clock = wall_clock
        self.user_agent = f"{settings.user_agent} contact: {settings.contact}"
        self.robots_agent = settings.user_agent.split("/", 1)[0].split()[0] if settings.user_agent else "*"
        self.cache = ConditionalCache(cache_root / settings.cache_dir) if cache_root is not None else None
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self._monotonic = clock
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = self.user_agent
        self._sleep = sleep
        interval = 1.0 / settings.requests_per_second if settings.requests_per_second > 0 else 0.0
        self.limiter = HostRateLimiter(interval, clock=clock, sleep=sleep)
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._robots_lock = threading.Lock()
        self._run = threading.local()  # each run stays on one thread; parallel runs count apart

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> HttpClient:
        """A client configured from ``settings.http``, caching under the project's ``http.cache_dir``."""
        kwargs.setdefault("max_bytes", settings.ingest.max_file_bytes)
        kwargs.setdefault("cache_root", settings.project_path(""))
        return cls(settings.http, **kwargs)

    @property
    def pages_fetched(self) -> int:
        """Pages requested in the current run (of the calling thread)."""
        return int(getattr(self._run, "pages", 0))

    def new_run(self) -> None:
        """Start a new run on this thread: the page budget counts from zero again."""
        self._run.pages = 0

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._session.close()

    def now(self) -> datetime:
        """The wall clock this client stamps its documents with."""
        return self.wall_clock()

    def get(self, url: str) -> Document:
        """Fetch ``url`` politely; see the class docstring for what comes back and what is raised."""
        self._spend_budget(url)
        if self.settings.respect_robots:
            self._check_robots(url)
        cached = self.cache.load(url) if self.cache is not None else None
        headers: dict[str, str] = {}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        response = self._request(url, headers)
        if response.status == 304 and cached is not None:
            self._remember(url, response, cached.body, cached.content_type)
            return Document(
                url=response.url,
                body=cached.body,
                content_type=cached.content_type,
                status=304,
                fetched_at=self.wall_clock(),
            )
        if response.status != 200:
            raise FetchError(url, response.reason or "unexpected response", response.status)
        content_type = response.headers.get("Content-Type", "")
        self._remember(url, response, response.body, content_type)
        return Document(
            url=response.url,
            body=response.body,
            content_type=content_type,
            status=200,
            fetched_at=self.wall_clock(),
        )

    def _spend_budget(self, url: str) -> None:
        pages = self.pages_fetched
        if pages >= self.settings.page_budget:
            raise PageBudgetExceeded(url, self.settings.page_budget)
        self._run.pages = pages + 1

    def _remember(self, url: str, response: _Response, body: bytes, content_type: str) -> None:
        if self.cache is None or "no-store" in response.headers.get("Cache-Control", "").lower():
            return
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if etag or last_modified:
            self.cache.store(CachedPage(url, body, content_type, etag, last_modified, self.wall_clock()))

    def _check_robots(self, url: str) -> None:
        host = _host(url)
        with self._robots_lock:
            parser = self._robots.get(host)
        if parser is None:
            parser = self._load_robots(host)
            with self._robots_lock:
                self._robots[host] = parser
        if not parser.can_fetch(self.robots_agent, url):
            raise RobotsDisallowed(url, self.robots_agent)

    def _load_robots(self, host: str) -> urllib.robotparser.RobotFileParser:
        """Fetch and parse ``host``'s robots.txt: 404 → all allowed, 401/403 → all disallowed.

        A robots.txt that cannot be read (5xx, connection failure) raises :class:`FetchError`, so the
        run fails rather than crawling a host whose rules we could not see.
        """
        robots_url = urlunsplit((*urlsplit(host)[:2], "/robots.txt", "", ""))
        parser = urllib.robotparser.RobotFileParser(robots_url)
        response = self._request(robots_url, {})
        if response.status in (401, 403):
            parser.parse(["User-agent: *", "Disallow: /"])
        elif 400 <= response.status < 500:
            parser.parse([])
        elif response.status == 200:
            parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
            delay = parser.crawl_delay(self.robots_agent)
            if delay:
                self.limiter.set_interval(host, float(delay))
        else:
            raise FetchError(robots_url, f"robots.txt unreadable ({response.reason})", response.status)
        return parser

    def _request(self, url: str, headers: Mapping[str, str]) -> _Response:
        """One GET with retries; returns the final non-retryable response or raises FetchError."""
        attempts = self.settings.retries + 1
        host = _host(url)
        for attempt in range(attempts):
            self.limiter.wait(host)
            try:
                return self._attempt(url, headers)
            except _Retryable as failure:
                if attempt + 1 >= attempts:
                    raise FetchError(
                        url, f"{failure.reason} (after {attempts} attempts)", failure.status
                    ) from None
                delay = self.settings.backoff_seconds * (2**attempt)
                if failure.retry_after is not None:
                    if failure.retry_after > self.settings.max_retry_after_seconds:
                        raise FetchError(
                            url,
                            f"{failure.reason}; server asks to retry after {failure.retry_after:.0f} s, "
                            f"more than max_retry_after_seconds={self.settings.max_retry_after_seconds:.0f}",
                            failure.status,
                        ) from None
                    delay = failure.retry_after
                    self.limiter.defer(host, delay)
                log.info("retrying %s in %.1f s: %s", url, delay, failure.reason)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, url: str, headers: Mapping[str, str]) -> _Response:
        timeout = self.settings.timeout_seconds
        try:
            with self._session.get(url, headers=dict(headers), timeout=timeout, stream=True) as response:
                if response.status_code in RETRY_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"), self.wall_clock())
                    raise _Retryable(response.reason or "server error", response.status_code, retry_after)
                body = self._read_body(url, response)
                return _Response(
                    response.status_code, response.reason or "", response.url, response.headers, body
                )
        except requests.exceptions.ChunkedEncodingError as exc:
            raise _Retryable(f"truncated body: {exc}") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        except requests.exceptions.RequestException as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc

    def _read_body(self, url: str, response: requests.Response) -> bytes:
        limit = self.max_bytes if self.max_bytes is not None else math.inf
        deadline = self._monotonic() + self.max_seconds if self.max_seconds is not None else math.inf
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise FetchError(url, f"body larger than {self.max_bytes} bytes", response.status_code)
            if self._monotonic() > deadline:  # a server trickling bytes keeps every read within the timeout
                raise FetchError(
                    url, f"body not complete after {self.max_seconds:.0f} s", response.status_code
                )
            chunks.append(chunk)
        body = b"".join(chunks)
        declared = response.headers.get("Content-Length")
        unencoded = not response.headers.get("Content-Encoding")
        if unencoded and declared and declared.isdigit() and len(body) != int(declared):
            raise _Retryable(f"truncated body: {len(body)} of {declared} bytes")
        return body
