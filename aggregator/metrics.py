"""Prometheus metrics: what this process observed, plus source figures read from the database.

Two kinds of figures, on purpose:

- **From the database at scrape time** (:class:`DatabaseCollector`): runs by source and status,
  listings and occurrences by source, consecutive failures, last success. A handful of grouped
  ``COUNT`` queries per scrape, so every process shows the same numbers — the API process reports
  runs that a separate ``stadtkalender scheduler`` process made.
- **In this process** (module-level instruments in :data:`REGISTRY`): run durations (the scheduler
  calls :func:`record_run`), HTTP requests by route, method and status (the API calls
  :func:`observe_request`) and feed cache hits (:func:`feed_cache_hit`).

:func:`metrics_app` serves both as an ASGI app for ``/metrics``; :func:`serve_metrics` serves them on
a port of their own for a scheduler that runs without the API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anyio.to_thread
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import SourceRecord, SourceRun, SourceState
from aggregator.types import RunStatus

log = logging.getLogger(__name__)
_Family = CounterMetricFamily | GaugeMetricFamily

REGISTRY = CollectorRegistry()
"""What this process observed (plus process, platform and GC figures)."""

ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

RUN_DURATION = Histogram(
    "stadtkalender_source_run_duration_seconds",
    "Wall time of one source run, fetch to commit.",
    ["source"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "stadtkalender_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "stadtkalender_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and method.",
    ["route", "method"],
    registry=REGISTRY,
)
FEED_CACHE_HITS = Counter(
    "stadtkalender_feed_cache_hits",
    "Feed requests answered from the rendered-feed cache.",
    registry=REGISTRY,
)


def record_run(source: str, seconds: float) -> None:
    """Record the duration of one finished run of ``source`` (the count comes from the database)."""
    RUN_DURATION.labels(source=source).observe(seconds)


def observe_request(route: str, method: str, status: int | str, seconds: float) -> None:
    """Count one answered HTTP request; ``route`` is the route template, not the raw path."""
    HTTP_REQUESTS.labels(route=route, method=method.upper(), status=str(status)).inc()
    HTTP_DURATION.labels(route=route, method=method.upper()).observe(seconds)


def feed_cache_hit() -> None:
    """Count one feed served from the cache."""
    FEED_CACHE_HITS.inc()


def _families() -> dict[str, _Family]:
    return {
        "runs": CounterMetricFamily(
            "stadtkalender_source_runs",
            "Finished source runs by source and status (from the database).",
            labels=["source", "status"],
        ),
        "running": GaugeMetricFamily(
            "stadtkalender_source_runs_running",
            "Source runs currently marked running.",
            labels=["source"],
        ),
        "listings": GaugeMetricFamily(
            "stadtkalender_source_listings",
            "Active listings (source records) per source.",
            labels=["source"],
        ),
        "occurrences": GaugeMetricFamily(
            "stadtkalender_source_occurrences",
            "Occurrences with an active listing from the source.",
            labels=["source"],
        ),
        "failures": GaugeMetricFamily(
            "stadtkalender_source_consecutive_failures",
            "Failed runs in a row (0 after a success).",
            labels=["source"],
        ),
        "last_success": GaugeMetricFamily(
            "stadtkalender_source_last_success_timestamp_seconds",
            "When the last successful run finished.",
            labels=["source"],
        ),
        "degraded": GaugeMetricFamily(
            "stadtkalender_source_degraded",
            "1 while the source's last finished run was degraded (read from the pages' structured data).",
            labels=["source"],
        ),
        "up": GaugeMetricFamily(
            "stadtkalender_database_up",
            "1 if the database answered the metrics queries, else 0.",
        ),
    }


class DatabaseCollector(Collector):
    """Source figures computed from the database on every scrape (works across processes)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def describe(self) -> Iterable[Metric]:
        """The metric names without values (so registering never queries the database)."""
        return list(_families().values())

    def collect(self) -> Iterable[Metric]:
        """Query the database and yield the families; a failing database yields ``up 0`` only."""
        families = _families()
        try:
            self._fill(families)
        except Exception:
            log.warning("metrics: database query failed", exc_info=True)
            families["up"].add_metric([], 0)
            return [families["up"]]
        families["up"].add_metric([], 1)
        return list(families.values())

    def _fill(self, families: dict[str, _Family]) -> None:
        with self.factory() as session:
            runs = session.execute(
                select(SourceRun.source, SourceRun.status, func.count()).group_by(
                    SourceRun.source, SourceRun.status
                )
            ).all()
            active = SourceRecord.active.is_(True)
            listings = session.execute(
                select(SourceRecord.source, func.count()).where(active).group_by(SourceRecord.source)
            ).all()
            occurrences = session.execute(
                select(SourceRecord.source, func.count(func.distinct(SourceRecord.occurrence_id)))
                .where(active)
                .group_by(SourceRecord.source)
            ).all()
            failures = session.execute(select(SourceState.source, SourceState.consecutive_failures)).all()
            last_status = session.execute(
                select(SourceRun.source, SourceRun.status).where(
                    SourceRun.id.in_(
                        select(func.max(SourceRun.id))
                        .where(SourceRun.status != RunStatus.RUNNING.value)
                        .group_by(SourceRun.source)
                    )
                )
            ).all()
            successes = session.execute(
                select(SourceRun.source, func.max(SourceRun.finished_at))
                .where(SourceRun.status.in_([RunStatus.SUCCESS.value, RunStatus.CONFIRMED.value]))
                .group_by(SourceRun.source)
            ).all()
        for source, status, count in runs:
            if status == RunStatus.RUNNING.value:
                families["running"].add_metric([source], count)
            else:
                families["runs"].add_metric([source, status], count)
        _add_all(families["listings"], listings)
        _add_all(families["occurrences"], occurrences)
        _add_all(families["failures"], failures)
        for source, status in last_status:
            families["degraded"].add_metric([source], 1 if status == RunStatus.DEGRADED.value else 0)
        for source, finished in successes:
            if finished is not None:
                families["last_success"].add_metric([source], finished.timestamp())


def _add_all(family: _Family, rows: Iterable[Any]) -> None:
    for source, value in rows:
        family.add_metric([source], value)


class _Forward(Collector):
    """Exposes another registry's metrics inside a registry built per app."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def build_registry(factory: sessionmaker[Session] | None = None) -> CollectorRegistry:
    """A registry with this process's metrics and, given a session factory, the database figures."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_Forward(REGISTRY))
    if factory is not None:
        registry.register(DatabaseCollector(factory))
    return registry


def render(factory: sessionmaker[Session] | None = None) -> bytes:
    """The metrics in Prometheus text format (what ``/metrics`` answers)."""
    return generate_latest(build_registry(factory))


def metrics_app(factory: sessionmaker[Session] | None = None) -> Callable[..., Any]:
    """An ASGI app answering Prometheus scrapes; pass the runtime's factory for the source figures.

    It answers without reading the request body: a scrape has none, and waiting for one that a
    ``Transfer-Encoding: chunked`` request announces but never sends would hold the connection forever
    (prometheus_client's ``make_asgi_app`` awaits it).
    """
    registry = build_registry(factory)

    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        accept = b",".join(value for name, value in scope.get("headers", []) if name.lower() == b"accept")
        encoder, content_type = choose_encoder(accept.decode("latin-1"))
        output = await anyio.to_thread.run_sync(encoder, registry)  # the collectors query the database
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode("latin-1")),
                    (b"content-length", str(len(output)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else output})

    return app


def serve_metrics(
    port: int, factory: sessionmaker[Session] | None = None, *, host: str = "127.0.0.1"
) -> Callable[[], None]:
    """Serve the metrics on ``host:port`` in a daemon thread; returns a function that stops it."""
    server, thread = start_http_server(port, addr=host, registry=build_registry(factory))

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
