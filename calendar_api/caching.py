"""HTTP caching: rendered bodies in a bounded in-memory LRU, ETag/Last-Modified, and 304 answers.

A response body is rendered once per *key*: the path, the normalised query, the data version (see
:func:`calendar_api.queries.data_version`) and, for responses that depend on the clock, a time
bucket. Ingest and push run in other processes, so the version is read from the database on each
request (one cheap statement); when it changes, entries of older versions are dropped. Concurrent
requests for a key that is being rendered wait for that one rendering instead of repeating it.

Each body is kept with a gzip and a brotli copy (when worth compressing), so an answer is a choice and
a write; :mod:`calendar_api.fast_path` answers repeated GETs from the same entries before the middleware.

The ETag is a hash of the body, so a re-render that produces the same bytes (a new day in a feed
that did not change, a change elsewhere in the data) still answers ``304 Not Modified``; such a body
also keeps the Last-Modified it was first served with, so clients that only send
``If-Modified-Since`` get the same answer.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

import brotli
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from calendar_api.queries import DataVersion, consistent_read, current_version

CacheKey = tuple[str, str, str, str, str]
"""(kind, path, normalised query, data version token, time bucket)."""

COMPRESS_MIN_BYTES = 1000
"""Smaller bodies are sent as they are (the app's GZipMiddleware uses the same threshold)."""
_GZIP_LEVEL = 6
_BROTLI_QUALITY = 5  # about gzip -6's speed with smaller output; 11 costs ~40x the time per render


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered body with everything needed to answer (conditional) GETs for it."""

    body: bytes
    media_type: str
    etag: str
    last_modified: datetime
    gzipped: bytes | None = None
    brotli: bytes | None = None

    @property
    def size(self) -> int:
        """Bytes held in memory."""
        return len(self.body) + len(self.gzipped or b"") + len(self.brotli or b"")

    def encoded(self, coding: str) -> bytes:
        """The body in ``coding`` (``br``, ``gzip`` or ``identity``)."""
        if coding == "br" and self.brotli is not None:
            return self.brotli
        if coding == "gzip" and self.gzipped is not None:
            return self.gzipped
        return self.body


def render_body(body: bytes, media_type: str, last_modified: datetime) -> Rendered:
    """Wrap ``body`` with its weak content-hash ETag and gzip and brotli copies when worth it."""
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    gzipped = squeezed = None
    if len(body) >= COMPRESS_MIN_BYTES:
        gzipped = gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0)
        squeezed = _brotli(body)
    second = last_modified.astimezone(UTC).replace(microsecond=0)
    return Rendered(body, media_type, f'W/"{digest}"', second, gzipped, squeezed)


def _brotli(body: bytes) -> bytes:
    compressed = brotli.compress(body, quality=_BROTLI_QUALITY)
    assert isinstance(compressed, bytes)
    return compressed


class RenderCache:
    """A bounded LRU of :class:`Rendered` bodies keyed by :data:`CacheKey`, safe across threads."""

    def __init__(self, max_entries: int, max_bytes: int = 128 * 1024 * 1024) -> None:
        if max_entries < 0:
            raise ValueError(f"cache size must not be negative, got {max_entries}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, Rendered] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._rendering: dict[CacheKey, threading.Lock] = {}
        self._version: str | None = None
        self._validators: OrderedDict[tuple[str, str, str], tuple[str, datetime]] = OrderedDict()
        self._max_validators = max(1024, 4 * max_entries)
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def observe_version(self, token: str) -> None:
        """Note the current data version; entries of any other version are dropped."""
        with self._lock:
            if token == self._version:
                return
            self._version = token
            for key in [k for k in self._entries if k[3] != token]:
                self._bytes -= self._entries.pop(key).size

    def get(self, key: CacheKey) -> Rendered | None:
        """The entry for ``key`` (now the most recently used), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return found

    def get_or_render(
        self, key: CacheKey, render: Callable[[], tuple[CacheKey, Rendered]]
    ) -> tuple[Rendered, bool]:
        """The cached entry for ``key``, or render it once; returns (entry, whether it was a hit).

        ``render`` returns the key the body really belongs to (the data may have moved on since
        ``key`` was computed) with the body; it is stored under that key.
        """
        found = self.get(key)
        if found is not None:
            return found, True
        with self._lock:
            lock = self._rendering.setdefault(key, threading.Lock())
        with lock:
            found = self.get(key)
            if found is not None:
                return found, True
            try:
                actual_key, rendered = render()
                rendered = self._keep_last_modified(actual_key, rendered)
                self._put(actual_key, rendered)
                with self._lock:
                    self.misses += 1
            finally:
                with self._lock:
                    self._rendering.pop(key, None)
        return rendered, False

    def _keep_last_modified(self, key: CacheKey, rendered: Rendered) -> Rendered:
        """An unchanged body of the same resource keeps its earlier Last-Modified.

        The last (ETag, Last-Modified) of each resource outlives the entries themselves (it is small),
        so this holds across data versions too.
        """
        resource = (key[0], key[1], key[2])
        with self._lock:
            previous = self._validators.get(resource)
            if previous is not None and previous[0] == rendered.etag:
                rendered = replace(rendered, last_modified=min(previous[1], rendered.last_modified))
            self._validators[resource] = (rendered.etag, rendered.last_modified)
            self._validators.move_to_end(resource)
            while len(self._validators) > self._max_validators:
                self._validators.popitem(last=False)
        return rendered

    def _put(self, key: CacheKey, rendered: Rendered) -> None:
        if self.max_entries == 0 or rendered.size > self.max_bytes:
            return
        with self._lock:
            if self._version is not None and key[3] != self._version:
                return  # rendered from a state that is no longer current
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = rendered
            self._bytes += rendered.size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _key, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size


def not_modified(headers: Headers, etag: str, last_modified: datetime) -> bool:
    """Whether a GET with ``headers`` may be answered 304 (RFC 9110 §13.2.2: If-None-Match first)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or _opaque(etag) in {_opaque(tag) for tag in tags}
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def _opaque(tag: str) -> str:
    """The opaque part of an entity tag, for weak comparison."""
    return tag[2:] if tag.startswith("W/") else tag


def accepts_gzip(headers: Headers) -> bool:
    """Whether the client accepts a gzip-encoded body (``gzip;q=0`` means it does not)."""
    return _qualities(headers.get("accept-encoding", "")).get("gzip", 0.0) > 0


def choose_coding(accept_encoding: str, rendered: Rendered) -> str:
    """``br``, ``gzip`` or ``identity``: the acceptable copy of ``rendered`` with the highest q-value.

    Ties go to brotli (smaller), then gzip; identity only when no compressed copy is acceptable (or
    there is none): like nginx, a client that accepts gzip at all gets gzip.
    """
    if rendered.gzipped is None and rendered.brotli is None:
        return "identity"
    qualities = _qualities(accept_encoding)
    best, best_q = "identity", 0.0
    for coding, copy in (("br", rendered.brotli), ("gzip", rendered.gzipped)):
        quality = qualities.get(coding, 0.0)
        if copy is not None and quality > best_q:
            best, best_q = coding, quality
    return best


def _qualities(accept_encoding: str) -> dict[str, float]:
    """q-value per coding named in an Accept-Encoding header (``x-gzip`` is gzip, ``*`` the rest)."""
    named: dict[str, float] = {}
    wildcard: float | None = None
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                quality = _quality(value.strip())
        if coding == "*":
            wildcard = quality
        else:
            named.setdefault("gzip" if coding == "x-gzip" else coding, quality)
    if wildcard is not None:
        for coding in ("br", "gzip"):
            named.setdefault(coding, wildcard)
    return named


def _quality(value: str) -> float:
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    return quality if 0 < quality <= 1 else 0.0


def response_headers(rendered: Rendered, cache_control: str, coding: str | None) -> dict[str, str]:
    """The headers :func:`respond` sets: a 200 in ``coding``, or a 304 when ``coding`` is None.

    A plain body is left to the app's GZipMiddleware, which adds ``Vary`` to it itself (and compresses it
    when a client sends ``gzip;q=0``, which Starlette does not tell apart; no real client does).
    """
    headers = {
        "Cache-Control": cache_control,
        "ETag": rendered.etag,
        "Last-Modified": format_datetime(rendered.last_modified, usegmt=True),
    }
    compressed = rendered.gzipped is not None or rendered.brotli is not None
    if compressed and coding != "identity":
        headers["Vary"] = "Accept-Encoding"
    if coding is not None and coding != "identity":
        headers["Content-Encoding"] = coding
    return headers


def respond(
    headers: Headers, rendered: Rendered, cache_control: str, *, extra: Mapping[str, str] | None = None
) -> Response:
    """A 200 with ``rendered`` (brotli or gzip when accepted), or a body-less 304 when the client's copy
    is current."""
    if not_modified(headers, rendered.etag, rendered.last_modified):
        common = response_headers(rendered, cache_control, None)
        return Response(status_code=304, headers={**common, **(extra or {})})
    coding = choose_coding(headers.get("accept-encoding", ""), rendered)
    common = response_headers(rendered, cache_control, coding)
    body = rendered.encoded(coding)
    return Response(body, headers={**common, **(extra or {})}, media_type=rendered.media_type)


ServedHook = Callable[[Scope, str, Rendered, str, "datetime | None", str], None]
"""on_served(scope, kind, rendered, version token, time bucket, cache control)."""

FAST_KINDS = frozenset({"feed", "json"})
"""Kinds whose routes return :meth:`Publisher.serve`'s response untouched (HTML pages add headers)."""


class Publisher:
    """Answers GETs from the render cache: reads the data version, renders on a miss, handles 304.

    The data version is read from the database at most once per ``version_ttl`` seconds (0: on every
    request); under load most requests then cost no query at all, and a commit by ingest is seen
    within that time. On PostgreSQL a :class:`~calendar_api.invalidation.ChangeListener` calls
    :meth:`mark_stale` for every announced commit and :meth:`hearing` while it is connected; the
    version is then kept up to ``notified_ttl`` seconds (a safety net) and idle processes ask nothing.
    ``on_feed_hit`` is called for every feed answered from the cache (metrics);
    ``on_served`` (set by the fast path) is told of every answer of the :data:`FAST_KINDS`.
    """

    on_served: ServedHook | None = None

    def __init__(
        self,
        factory: sessionmaker[Session],
        cache: RenderCache,
        *,
        clock: Callable[[], datetime],
        on_feed_hit: Callable[[], None] | None = None,
        version_ttl: float = 0.0,
        notified_ttl: float = 60.0,
    ) -> None:
        self.factory = factory
        self.cache = cache
        self.clock = clock
        self.on_feed_hit = on_feed_hit
        self.version_ttl = version_ttl
        self.notified_ttl = notified_ttl
        self._version: tuple[float, int, DataVersion] | None = None
        self._generation = 0
        self._notified = False
        self._version_lock = threading.Lock()

    def mark_stale(self) -> None:
        """A commit was announced: the next request reads the data version again."""
        with self._version_lock:
            self._generation += 1

    def hearing(self, active: bool) -> None:
        """Whether commits are announced to this process (long TTL) or not (short TTL); marks stale."""
        with self._version_lock:
            self._notified = active
            self._generation += 1

    def _fresh(self) -> tuple[DataVersion | None, int]:
        """The version last read if it still serves (no commit announced since, TTL not over), and the
        generation of announced commits now."""
        with self._version_lock:
            known, generation = self._version, self._generation
            ttl = self.notified_ttl if self._notified and self.version_ttl > 0 else self.version_ttl
        if ttl > 0 and known is not None and known[1] == generation and time.monotonic() - known[0] < ttl:
            return known[2], generation
        return None, generation

    def version(self) -> DataVersion:
        """The current data version (and drop cache entries of older ones)."""
        fresh, generation = self._fresh()
        if fresh is not None:
            return fresh
        read_at = time.monotonic()
        version = current_version(self.factory)
        with self._version_lock:
            # a version read before an announced commit is not kept as current after it
            self._version = (read_at, generation, version)
        self.cache.observe_version(version.token)
        return version

    def known_version(self) -> DataVersion | None:
        """The data version :meth:`version` would give without asking the database, or None."""
        return self._fresh()[0]

    def serve(
        self,
        request: Request,
        *,
        kind: str,
        query: str,
        bucket: datetime | None,
        render: Callable[[Session, DataVersion], tuple[bytes, str, datetime]],
        cache_control: str,
    ) -> Response:
        """Answer ``request`` with the body ``render`` makes, cached per data version and ``bucket``.

        ``render`` reads through the session it is given (one consistent state) and returns
        (body, media type, last modified). Problems it raises propagate and are not cached.
        """
        bucket_text = bucket.isoformat() if bucket is not None else ""
        version = self.version()
        key: CacheKey = (kind, request.url.path, query, version.token, bucket_text)

        def make() -> tuple[CacheKey, Rendered]:
            read_version, (body, media_type, last_modified) = consistent_read(self.factory, render)
            if read_version.token != version.token:
                with self._version_lock:
                    self._version = None
                self.cache.observe_version(read_version.token)
            if bucket is not None:
                last_modified = max(last_modified, bucket)
            return (kind, key[1], query, read_version.token, bucket_text), render_body(
                body, media_type, last_modified
            )

        rendered, hit = self.cache.get_or_render(key, make)
        if hit and kind == "feed" and self.on_feed_hit is not None:
            self.on_feed_hit()
        if self.on_served is not None and kind in FAST_KINDS:
            self.on_served(request.scope, kind, rendered, version.token, bucket, cache_control)
        return respond(request.headers, rendered, cache_control)
