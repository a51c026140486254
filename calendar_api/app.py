"""The Starlette application: JSON API under ``/api/v1``, iCalendar feeds, OpenAPI, health checks.

:func:`create_app` wires everything; other parts plug in through the hooks declared in
:mod:`calendar_api.extension_points` (HTML pages, the venues' push API, ``/metrics`` — see
:data:`stadtkalender.extensions.EXTENSIONS`). The API's own routes come first, so
``/events/{id}.ics`` is the feed even when the web pages add ``/events/{id}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, Protocol
from urllib.parse import urlencode

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator import metrics
from aggregator.clock import Clock
from aggregator.config import Settings
from aggregator.db import SchemaOutdated, check_schema, head_revision
from aggregator.health import SourceInfo, source_health
from aggregator.licences import Licences
from aggregator.types import BERLIN
from calendar_api import queries
from calendar_api.caching import COMPRESS_MIN_BYTES, Publisher, RenderCache, render_body, respond
from calendar_api.catalog import Catalogue
from calendar_api.changes import ChangeFeed
from calendar_api.dumps import OpenDataFiles
from calendar_api.extension_points import Extension, ExtensionRuntime
from calendar_api.fast_path import FastIndex, FastPath
from calendar_api.feeds import Feeds, Moved, public_view
from calendar_api.filters import (
    FILTER_NAMES,
    LIST_NAMES,
    PAGE_NAMES,
    berlin_midnight,
    list_window,
    no_parameters,
    parse_filters,
    path_value,
)
from calendar_api.invalidation import listener_for
from calendar_api.json_shapes import (
    CategoryCatalog,
    berlin,
    category_json,
    event_json,
    listing_json,
    page_json,
    source_json,
    venue_json,
)
from calendar_api.openapi import openapi_document
from calendar_api.problems import Problem, exception_handlers, not_found

API = "/api/v1"
JSON_MEDIA_TYPE = "application/json"
JSON_CACHE_CONTROL = "public, max-age=60"
EXPOSE_HEADERS = ["ETag", "Last-Modified", "Location"]
"""Response headers a cross-origin script may read (CORS), on the normal and the fast path alike."""
VERSION_TTL = 1.0
"""Seconds one read of the data version serves; an ingest commit shows within this time."""
_P = ParamSpec("_P")


class RuntimeLike(Protocol):
    """What the app needs of :class:`stadtkalender.runtime.Runtime`."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]

    @property
    def specs(self) -> Mapping[str, SourceInfo]: ...


def _json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class JsonApi:
    """The ``/api/v1`` endpoints."""

    def __init__(
        self, runtime: RuntimeLike, publisher: Publisher, feeds: Feeds, categories: CategoryCatalog
    ) -> None:
        self.runtime = runtime
        self.publisher = publisher
        self.feeds = feeds
        self.categories = categories
        self.base_url = runtime.settings.server.base_url.rstrip("/")
        self.licences = Licences.from_settings(runtime.settings)

    def routes(self) -> list[Route]:
        """The JSON routes (GET and HEAD)."""
        return [
            Route(f"{API}/events", self.events, methods=["GET"], name="api_events"),
            Route(f"{API}/events/{{id}}", self.event, methods=["GET"], name="api_event"),
            Route(f"{API}/venues", self.venues, methods=["GET"], name="api_venues"),
            Route(f"{API}/venues/{{slug}}", self.venue, methods=["GET"], name="api_venue"),
            Route(f"{API}/categories", self.category_list, methods=["GET"], name="api_categories"),
            Route(f"{API}/sources", self.sources, methods=["GET"], name="api_sources"),
        ]

    def _serve(
        self,
        request: Request,
        render: Callable[[Session, queries.DataVersion], Any],
        *,
        query: str = "",
        bucket: datetime | None = None,
    ) -> Response:
        def body(session: Session, version: queries.DataVersion) -> tuple[bytes, str, datetime]:
            return _json(render(session, version)), JSON_MEDIA_TYPE, version.time

        return self.publisher.serve(
            request, kind="json", query=query, bucket=bucket, render=body, cache_control=JSON_CACHE_CONTROL
        )

    def events(self, request: Request) -> Response:
        """Events with an occurrence matching the filters, by next occurrence, a page at a time."""
        filters = parse_filters(request.query_params.multi_items(), FILTER_NAMES + PAGE_NAMES + LIST_NAMES)
        window = list_window(filters, self.publisher.clock())
        feed_url = self.feeds.feed_url(
            "/feeds/events.ics", filters.query_string(without=PAGE_NAMES + LIST_NAMES)
        )

        def render(session: Session, _version: queries.DataVersion) -> Any:
            page = queries.event_page(session, filters, window)
            next_url = None
            if page.next_cursor is not None:
                params = [(k, v) for k, v in filters.normalised if k not in ("cursor", "from")]
                params += [("from", berlin(window.start) or ""), ("cursor", page.next_cursor.encode())]
                next_url = f"{self.base_url}{API}/events?{urlencode(sorted(params))}"
            events = [self._event_json(view) for view in page.events]
            return page_json(events, next_url=next_url, feed_url=feed_url)

        return self._serve(request, render, query=filters.query_string(), bucket=window.bucket)

    def _event_json(self, view: queries.EventView) -> Any:
        event_id = view.event.id
        return event_json(
            view,
            api_url=f"{self.base_url}{API}/events/{event_id}",
            feed_url=self.feeds.feed_url(f"/events/{event_id}.ics"),
            licences=self.licences,
        )

    def event(self, request: Request) -> Response:
        """One event with all its occurrences; a merged-away id redirects to the surviving event."""
        no_parameters(request.query_params.multi_items())
        event_id = path_value(request.path_params, "id")

        today = berlin_midnight(self.publisher.clock().astimezone(BERLIN).date())

        def render(session: Session, _version: queries.DataVersion) -> Any:
            return self._event_json(public_view(session, event_id, today))

        try:
            # No day bucket: "highlight" may show a highlight that ended until the data next changes
            # (any run or edit); lists, which filter and sort by it, are bucketed by day or minute.
            return self._serve(request, render)
        except Moved as moved:
            return RedirectResponse(
                f"{API}/events/{moved.target}", status_code=308, headers={"Cache-Control": JSON_CACHE_CONTROL}
            )

    def venues(self, request: Request) -> Response:
        """Every venue."""
        no_parameters(request.query_params.multi_items())

        def render(session: Session, _version: queries.DataVersion) -> Any:
            return listing_json(
                "venues",
                (
                    venue_json(v, self.feeds.feed_url(f"/feeds/venues/{v.slug}.ics"))
                    for v in queries.venues(session)
                ),
            )

        return self._serve(request, render)

    def venue(self, request: Request) -> Response:
        """One venue."""
        no_parameters(request.query_params.multi_items())
        slug = path_value(request.path_params, "slug")

        def render(session: Session, _version: queries.DataVersion) -> Any:
            found = queries.venue(session, slug)
            if found is None:
                raise not_found(f"There is no venue {slug!r}.")
            return venue_json(found, self.feeds.feed_url(f"/feeds/venues/{found.slug}.ics"))

        return self._serve(request, render)

    def category_list(self, request: Request) -> Response:
        """Every category with its labels."""
        no_parameters(request.query_params.multi_items())

        def render(session: Session, _version: queries.DataVersion) -> Any:
            used = () if self.categories.has_vocabulary else queries.used_categories(session)
            return listing_json(
                "categories",
                (
                    category_json(c, self.feeds.feed_url(f"/feeds/categories/{c.slug}.ics"))
                    for c in self.categories.all(used)
                ),
            )

        return self._serve(request, render)

    def sources(self, request: Request) -> Response:
        """Every source: schedule, health, last run with its counts, next run."""
        no_parameters(request.query_params.multi_items())
        rows = source_health(self.runtime.factory, self.runtime.specs)
        # Health also changes with the scheduler's state, which has no cheap version: the ETag
        # (a hash of the body) is what makes this conditional, Last-Modified is simply now.
        now = self.publisher.clock()
        rendered = render_body(
            _json(listing_json("sources", (source_json(row, now) for row in rows))), JSON_MEDIA_TYPE, now
        )
        return respond(request.headers, rendered, "public, max-age=30")


class _Observe:
    """ASGI middleware reporting each request's route template, method, status and duration."""

    def __init__(
        self, app: ASGIApp, observe: Callable[[str, str, int, float], None], templates: Mapping[Any, str]
    ) -> None:
        self.app = app
        self.observe = observe
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = self.templates.get(scope.get("endpoint"), "unmatched")
            self.observe(route, scope["method"], status, time.perf_counter() - started)


def _each(hooks: Sequence[Callable[_P, None]]) -> Callable[_P, None] | None:
    """One hook calling every one of ``hooks`` in turn; None when there is none to call."""
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def call(*args: _P.args, **kwargs: _P.kwargs) -> None:
        for hook in hooks:
            hook(*args, **kwargs)

    return call


class _AsgiEndpoint:
    """Lets a plain ASGI function serve a :class:`Route` (Starlette would call a function as a handler)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def metrics_routes(runtime: ExtensionRuntime, clock: Clock) -> list[BaseRoute]:
    """``/metrics``: Prometheus figures of this process and, from the database, of every source."""
    return [Route("/metrics", _AsgiEndpoint(metrics.metrics_app(runtime.factory)), methods=["GET"])]


def _service_routes(runtime: RuntimeLike, extensions: Sequence[Extension], started: datetime) -> list[Route]:
    document = _json(openapi_document(runtime.settings.server.base_url.rstrip("/"), extensions))
    docs_page = (Path(__file__).parent / "docs.html").read_bytes()
    static = {
        "openapi": render_body(document, "application/json", started),
        "docs": render_body(docs_page, "text/html", started),
    }

    def openapi_json(request: Request) -> Response:
        no_parameters(request.query_params.multi_items())
        return respond(request.headers, static["openapi"], "public, max-age=300")

    def docs(request: Request) -> Response:
        no_parameters(request.query_params.multi_items())
        return respond(request.headers, static["docs"], "public, max-age=300")

    def healthz(request: Request) -> Response:
        no_parameters(request.query_params.multi_items())
        body = render_body(_json({"status": "ok"}), JSON_MEDIA_TYPE, started)
        return respond(request.headers, body, "no-store")

    def readyz(request: Request) -> Response:
        no_parameters(request.query_params.multi_items())
        try:
            check_schema(runtime.engine)
        except SchemaOutdated as exc:
            raise Problem(503, "not-ready", str(exc)) from exc
        except SQLAlchemyError as exc:
            raise Problem(503, "not-ready", f"The database is not reachable: {type(exc).__name__}.") from exc
        body = _json({"status": "ready", "schema": head_revision()})
        return respond(request.headers, render_body(body, JSON_MEDIA_TYPE, started), "no-store")

    return [
        Route("/openapi.json", openapi_json, methods=["GET"], name="openapi"),
        Route("/api/docs", docs, methods=["GET"], name="docs"),
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/readyz", readyz, methods=["GET"], name="readyz"),
    ]


def create_app(
    runtime: RuntimeLike, *, clock: Clock, extensions: Sequence[Extension], version_ttl: float = VERSION_TTL
) -> Starlette:
    """The whole HTTP application for ``runtime``; refuses to start on an outdated schema.

    ``extensions`` are the parts whose hooks are added, in their order (the CLI passes
    :data:`stadtkalender.extensions.EXTENSIONS`); ``clock`` is what "now" means for time windows,
    tokens, logs and writes, in every extension; ``version_ttl`` is how long (seconds) one read of
    the data version serves requests before the database is asked again. On PostgreSQL (and
    ``version_ttl > 0``) the app listens for announced commits while it runs (:mod:`.invalidation`).
    """
    settings = runtime.settings
    base_url = settings.server.base_url.rstrip("/")
    docs_url = f"{base_url}/api/docs"
    feed_hits = [e.feed_cache_hit for e in extensions if e.feed_cache_hit is not None]
    publisher = Publisher(
        runtime.factory,
        RenderCache(settings.feeds.cache_entries),
        clock=clock,
        on_feed_hit=_each(feed_hits),
        version_ttl=version_ttl,
    )
    categories = CategoryCatalog.load()
    feeds = Feeds(publisher, settings, categories)
    api = JsonApi(runtime, publisher, feeds, categories)
    started = clock().replace(microsecond=0)

    changes = ChangeFeed(publisher, base_url)
    routes: list[BaseRoute] = [
        *api.routes(),
        *changes.routes(),
        *Catalogue(publisher, settings).routes(),
        *OpenDataFiles(settings).routes(),
        *feeds.routes(),
        *_service_routes(runtime, extensions, started),
    ]
    for extension in extensions:
        if extension.routes is not None:
            routes.extend(extension.routes(runtime, clock))

    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=EXPOSE_HEADERS,
            max_age=86400,
        ),
        Middleware(GZipMiddleware, minimum_size=COMPRESS_MIN_BYTES, compresslevel=6),
    ]
    observe = _each([e.observe_request for e in extensions if e.observe_request is not None])
    templates = {route.endpoint: route.path for route in routes if isinstance(route, Route)}
    if observe is not None:
        middleware.insert(0, Middleware(_Observe, observe=observe, templates=templates))
    fast_index = FastIndex(publisher, clock=clock, max_entries=settings.feeds.cache_entries)
    middleware.insert(
        0,
        Middleware(
            FastPath,
            index=fast_index,
            expose_headers=", ".join(EXPOSE_HEADERS),
            observe=observe,
            templates=templates,
        ),
    )

    listener = listener_for(runtime.engine, publisher) if version_ttl > 0 else None

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(check_schema, runtime.engine)
        if listener is not None:
            listener.start()
        try:
            yield
        finally:
            if listener is not None:
                await anyio.to_thread.run_sync(listener.stop)

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=exception_handlers(docs_url),
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # "/api/v1/events/" is not an event id; answer 404, not 307
    app.state.publisher = publisher
    app.state.cache = publisher.cache
    app.state.listener = listener
    app.state.fast_path = fast_index
    return app
