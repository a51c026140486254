"""The serving fast path: repeated GETs of feeds and JSON answered from rendered bytes before the middleware.

:class:`FastPath` is the outermost ASGI layer. :meth:`calendar_api.caching.Publisher.serve` tells it of
every feed and JSON answer (:data:`~calendar_api.caching.FAST_KINDS`); it keeps the last
:class:`~calendar_api.caching.Rendered` per (path, raw query string) with the data version and time
bucket it belongs to. A later GET or HEAD of the same URL is answered here — conditional check, content
coding, one write — while :meth:`~calendar_api.caching.Publisher.version` still gives that version and
the bucket is still current by the app's clock. Everything else (a miss, another method, a preflight,
an answer the middleware would change) goes to the app unchanged.

The headers are the ones the normal path gives, byte for byte: :func:`~calendar_api.caching.respond`'s,
then what GZipMiddleware adds to a plain body (``Vary``) and CORSMiddleware to every answer (``Vary:
Origin``; with an ``Origin`` header ``access-control-allow-origin: *`` and the exposed headers).
``tests/api/test_fast_path.py`` compares the two paths.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from aggregator.clock import Clock
from aggregator.types import BERLIN
from calendar_api.caching import (
    COMPRESS_MIN_BYTES,
    Publisher,
    Rendered,
    choose_coding,
    not_modified,
    response_headers,
)
from calendar_api.filters import berlin_midnight
from calendar_api.queries import DataVersion

RawHeaders = list[tuple[bytes, bytes]]
_MINUTE = timedelta(minutes=1)


@dataclass(slots=True)
class _Entry:
    """The last answer for one URL: what it is valid for, and its header lists as they are built."""

    kind: str
    rendered: Rendered
    token: str
    bucket: datetime | None
    until: datetime | None
    cache_control: str
    endpoint: object
    headers: dict[tuple[str | None, bool], RawHeaders] = field(default_factory=dict)


def bucket_end(bucket: datetime | None, now: datetime) -> datetime | None:
    """When ``bucket`` (recorded at ``now``) stops being current; ``now`` itself when that is unsure.

    The API's buckets are the current minute (JSON lists) and the start of the Berlin day (feeds and
    highlights). A bucket equal to this minute is a minute's; one equal to today's start a day's — but in
    the first two minutes of a day a minute's bucket of just before could look like that, so such an
    answer is not kept (``now``: never valid).
    """
    if bucket is None:
        return None
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    if bucket == minute:
        return minute + _MINUTE
    today = now.astimezone(BERLIN).date()
    if bucket == berlin_midnight(today) and now - bucket >= 2 * _MINUTE:
        return berlin_midnight(today + timedelta(days=1))
    return now


class FastIndex:
    """The last answer per (path, raw query) that :class:`Publisher` gave, while it is still current.

    Built once per app (it sets the publisher's ``on_served``); :class:`FastPath` answers from it.
    """

    def __init__(self, publisher: Publisher, *, clock: Clock, max_entries: int) -> None:
        self.publisher = publisher
        self.clock = clock
        self.max_entries = max_entries
        self._index: dict[tuple[str, bytes], _Entry] = {}
        self._lock = threading.Lock()
        self._reading: anyio.Event | None = None
        self.hits = 0
        publisher.on_served = self.remember

    def __len__(self) -> int:
        return len(self._index)

    def clear(self) -> None:
        """Forget every answer (the next request of each URL takes the normal path)."""
        with self._lock:
            self._index.clear()

    def remember(
        self,
        scope: Scope,
        kind: str,
        rendered: Rendered,
        token: str,
        bucket: datetime | None,
        cache_control: str,
    ) -> None:
        """Keep ``rendered`` as the answer to the URL of ``scope`` (called from the publisher's threads)."""
        if self.max_entries <= 0:
            return
        now = self.clock()
        until = bucket_end(bucket, now)
        if until is not None and until <= now:
            return
        key = (scope["path"], scope.get("query_string", b""))
        entry = _Entry(kind, rendered, token, bucket, until, cache_control, scope.get("endpoint"))
        with self._lock:
            self._index.pop(key, None)
            self._index[key] = entry
            while len(self._index) > self.max_entries:
                del self._index[next(iter(self._index))]

    async def current(self, scope: Scope) -> _Entry | None:
        """The entry for the URL of ``scope`` if it still belongs to the data version and bucket of now."""
        key = (scope["path"], scope.get("query_string", b""))
        entry = self._index.get(key)
        if entry is None:
            return None
        version = self.publisher.known_version()
        if version is None:
            version = await self._read_version()
            if version is None:
                return None
        now = self.clock()
        if version.token == entry.token and (
            entry.until is None or (entry.bucket is not None and entry.bucket <= now < entry.until)
        ):
            return entry
        with self._lock:
            if self._index.get(key) is entry:
                del self._index[key]
        return None

    async def _read_version(self) -> DataVersion | None:
        """Read the data version once for all requests that find it expired at the same time."""
        reading = self._reading
        if reading is not None:  # another request is reading it: wait for that read
            await reading.wait()
            return self.publisher.known_version()
        self._reading = reading = anyio.Event()
        try:
            return await anyio.to_thread.run_sync(self.publisher.version)
        finally:
            self._reading = None
            reading.set()


class FastPath:
    """ASGI middleware, outermost: answers from a :class:`FastIndex`, else passes the request on.

    ``observe`` and ``templates`` are the metrics hook and the route templates by endpoint (as for the
    app's own request metrics): fast answers are counted under the same route template. Each feed
    answered here is a cache hit for the publisher's ``on_feed_hit`` too.
    """

    def __init__(
        self,
        app: ASGIApp,
        index: FastIndex,
        *,
        expose_headers: str,
        observe: Callable[[str, str, int, float], None] | None = None,
        templates: Mapping[Any, str] | None = None,
    ) -> None:
        self.app = app
        self.index = index
        self.expose_headers = expose_headers.encode("latin-1")
        self.observe = observe
        self.templates = templates or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        entry = await self.index.current(scope)
        if entry is None:
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        rendered = entry.rendered
        status, coding = 304, None
        if not not_modified(request, rendered.etag, rendered.last_modified):
            accept = request.get("accept-encoding", "")
            status, coding = 200, choose_coding(accept, rendered)
            if coding == "identity" and len(rendered.body) >= COMPRESS_MIN_BYTES and "gzip" in accept:
                await self.app(scope, receive, send)  # GZipMiddleware would compress it after all
                return
        origin = "origin" in request
        headers = entry.headers.get((coding, origin))
        if headers is None:
            headers = entry.headers[(coding, origin)] = self._headers(entry, coding, origin)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        body = b"" if coding is None else rendered.encoded(coding)
        await send({"type": "http.response.body", "body": body})
        self.index.hits += 1
        on_feed_hit = self.index.publisher.on_feed_hit
        if entry.kind == "feed" and on_feed_hit is not None:
            on_feed_hit()
        if self.observe is not None:
            route = self.templates.get(entry.endpoint, "unmatched")
            self.observe(route, scope["method"], status, time.perf_counter() - started)

    def _headers(self, entry: _Entry, coding: str | None, origin: bool) -> RawHeaders:
        """The headers the app and its middleware give this answer (see the module docstring)."""
        rendered = entry.rendered
        raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in response_headers(rendered, entry.cache_control, coding).items()
        ]
        if coding is not None:
            raw.append((b"content-length", str(len(rendered.encoded(coding))).encode("latin-1")))
            media_type = rendered.media_type
            if media_type.startswith("text/") and "charset=" not in media_type.lower():
                media_type += "; charset=utf-8"
            raw.append((b"content-type", media_type.encode("latin-1")))
        if coding == "identity" and len(rendered.body) >= COMPRESS_MIN_BYTES:
            _add_vary(raw, b"Accept-Encoding")  # GZipMiddleware, on a body it saw and left plain
        if origin:
            raw.append((b"access-control-allow-origin", b"*"))
            raw.append((b"access-control-expose-headers", self.expose_headers))
        _add_vary(raw, b"Origin")  # CORSMiddleware, on every answer when any origin is allowed
        return raw


def _add_vary(raw: RawHeaders, value: bytes) -> None:
    """Append ``value`` to the ``vary`` header in place, as Starlette's MutableHeaders does."""
    for index, (name, existing) in enumerate(raw):
        if name == b"vary":
            raw[index] = (b"vary", existing + b", " + value)
            return
    raw.append((b"vary", value))
