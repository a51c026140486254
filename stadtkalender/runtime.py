"""The process's wiring: settings, database, ingest context and source catalog in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aggregator.clock import Clock, FixedClock, system_clock
from aggregator.config import ConfigError, Settings, load_settings
from aggregator.db import check_schema, make_engine, session_factory
from aggregator.ingest import IngestContext
from aggregator.types import BERLIN
from sources.base import Fetcher
from sources.catalog import SourceCatalog, SourceSpec, catalog, registered_specs

NOW_VARIABLE = "STADTKALENDER_NOW"
"""An ISO instant with a zone: the whole process stands still at that moment (replays, tests, demos)."""


def process_clock(env: Mapping[str, str] | None = None) -> Clock:
    """The process's clock: the wall clock, or a clock standing at ``$STADTKALENDER_NOW`` when it is set."""
    value = (os.environ if env is None else env).get(NOW_VARIABLE)
    if not value:
        return system_clock
    try:
        return FixedClock(datetime.fromisoformat(value))
    except ValueError as exc:
        raise ConfigError(
            NOW_VARIABLE, f"expected an ISO instant with a zone, got {value!r}", "environment"
        ) from exc


@dataclass
class Runtime:
    """Everything a command needs; build it with :meth:`open`."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    specs: Mapping[str, SourceSpec]
    """Every source by name; :meth:`open` makes it a :class:`SourceCatalog` that reads the venues' feeds."""
    clock: Clock = system_clock
    """The one clock of the process: created here, at the edge, and passed down."""
    ingest_context: IngestContext = field(init=False)

    def __post_init__(self) -> None:
        kinds = {name: spec.kind for name, spec in self.specs.items()}
        self.ingest_context = IngestContext(
            self.factory,
            self.settings,
            kinds=kinds,
            clock=self.clock,
            shift_weeks=self.settings.demo.shift_weeks,
        )

    @classmethod
    def open(
        cls, settings: Settings | None = None, *, require_schema: bool = True, clock: Clock | None = None
    ) -> Runtime:
        """Load settings, connect, and (unless told not to) insist the schema is current.

        ``clock`` defaults to :func:`process_clock`.
        """
        clock = clock or process_clock()
        settings = settings or load_settings()
        engine = make_engine(settings.database.url, echo=settings.database.echo)
        if require_schema:
            check_schema(engine)
        factory = session_factory(engine)
        specs = SourceCatalog(catalog(settings), lambda: registered_specs(factory, settings))
        return cls(settings, engine, factory, specs, clock)

    def refresh_sources(self) -> None:
        """Read the venues' registered feeds again (a new one runs without a restart)."""
        if isinstance(self.specs, SourceCatalog):
            self.specs.refresh()

    def snapshots_recorded_at(self) -> datetime:
        """When the bundled snapshots were current (noon in Dortmund of ``current_on`` in their
        ``snapshots.toml``): what "today" is when they are replayed. Without that file, now."""
        from stadtkalender.demo import snapshot_dates

        dates = snapshot_dates(self.settings)
        if dates is None:
            return self.clock()
        return datetime.combine(dates.current_on, time(12), tzinfo=BERLIN).astimezone(UTC)

    def fetcher(self, source: str, *, offline: bool) -> Fetcher:
        """The bundled snapshots of ``source`` when offline, else the shared HTTP client.

        A venue's registered feed has no snapshots and is hostile input: it is always read live, through
        the probe's guard (public addresses only, size and time limits).
        """
        spec = self.specs.get(source)
        if spec is not None and spec.venues:
            return self.guarded_client()
        if offline:
            from sources.snapshots import SnapshotFetcher, snapshot_dir

            return SnapshotFetcher(snapshot_dir(self.settings, source), self.snapshots_recorded_at())
        return self.http_client()

    def http_client(self) -> Fetcher:
        """The one shared HTTP client (created on first use)."""
        if not hasattr(self, "_http"):
            from sources.http import HttpClient

            self._http = HttpClient(
                self.settings.http, wall_clock=self.clock, cache_root=self.settings.project_path("")
            )
        return self._http

    def guarded_client(self) -> Fetcher:
        """The HTTP client for URLs venues gave: checked by the probe's guard on every request."""
        if not hasattr(self, "_guarded"):
            from sources.probe.guard import guarded_client

            self._guarded = guarded_client(self.settings, self.clock)
        return self._guarded
