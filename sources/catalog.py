"""Which sources exist: every adapter module in ``sources/``, platform sources from settings, and the
feeds venues registered in the portal (stored in the database, see :mod:`aggregator.venue_feeds`)."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import sources
import sources.platforms
from aggregator.config import ConfigError, Settings
from aggregator.models import VenueFeed
from aggregator.venue_feeds import active_feeds
from sources.base import Fetcher, Source, registry

log = logging.getLogger(__name__)

_PLATFORM_MODULES = ("ical", "jsonld", "tribe", "eventim_xml")


def load_adapters() -> None:
    """Import every adapter module so their classes register themselves."""
    for package in (sources, sources.platforms):
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_") and module.name not in {"base", "catalog"}:
                importlib.import_module(f"{package.__name__}.{module.name}")


def platforms() -> dict[str, type[Source]]:
    """Platform classes by their ``platform`` name (``ical``, ``tribe``, ...)."""
    load_adapters()
    found: dict[str, type[Source]] = {}
    stack: list[type[Source]] = [Source]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        platform = cls.__dict__.get("platform")
        if isinstance(platform, str):
            found[platform] = cls
    return found


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A source as configured: its class, options, schedule and kind."""

    name: str
    cls: type[Source]
    options: Mapping[str, Any]
    schedule: str
    kind: str
    enabled: bool
    venues: tuple[str, ...] = ()
    """A venue's registered feed: the venues it is bound to (its listings elsewhere are rejected)."""

    def build(self, fetcher: Fetcher | None) -> Source:
        """An instance ready to run with ``fetcher``."""
        return self.cls(fetcher, {**self.options, "name": self.name})


def _renamed(options: Mapping[str, Any]) -> dict[str, Any]:
    """A source table with the old option name ``horizon_days`` read as ``future_days``."""
    if "horizon_days" not in options or "future_days" in options:
        return dict(options)
    return {("future_days" if key == "horizon_days" else key): value for key, value in options.items()}


def catalog(settings: Settings) -> dict[str, SourceSpec]:
    """Every source, by name: code adapters (with settings overrides) and configured platform sources."""
    load_adapters()
    specs: dict[str, SourceSpec] = {}
    table = settings.sources
    window = {"past_days": settings.ingest.past_days, "future_days": settings.ingest.future_days}
    for name, cls in sorted(registry().items()):
        options = {**window, **_renamed(table.get(name, {}))}
        specs[name] = SourceSpec(
            name=name,
            cls=cls,
            options=options,
            schedule=str(options.get("schedule") or cls.schedule or settings.scheduler.default_schedule),
            kind=str(options.get("kind") or cls.kind),
            enabled=bool(options.get("enabled", True)),
        )
    known_platforms = platforms()
    for name, options in table.items():
        if name in specs:
            continue
        kind_of = options.get("type")
        origin = settings.path or "settings"
        if kind_of not in known_platforms:
            expected = f"one of {sorted(known_platforms)} (or a source adapter named {name!r})"
            raise ConfigError(f"sources.{name}.type", f"expected {expected}, got {kind_of!r}", origin)
        if not (options.get("url") or options.get("urls")):
            raise ConfigError(f"sources.{name}.url", "a platform source needs a url", origin)
        specs[name] = SourceSpec(
            name=name,
            cls=known_platforms[kind_of],
            options={**window, **_renamed(options)},
            schedule=str(options.get("schedule") or settings.scheduler.default_schedule),
            kind=str(options.get("kind") or "venue"),
            enabled=bool(options.get("enabled", True)),
        )
    return specs


def feed_spec(feed: VenueFeed, settings: Settings) -> SourceSpec | None:
    """The source a venue's registered feed runs as (None when its platform no longer exists)."""
    cls = platforms().get(str(feed.config.get("type")))
    if cls is None:
        log.warning("feed %s names no known platform %r", feed.source, feed.config.get("type"))
        return None
    window = {"past_days": settings.ingest.past_days, "future_days": settings.ingest.future_days}
    return SourceSpec(
        name=feed.source,
        cls=cls,
        options={**window, **feed.config},
        schedule=feed.schedule,
        kind="venue",
        enabled=True,
        venues=(feed.venue_slug,),
    )


def registered_specs(factory: sessionmaker[Session], settings: Settings) -> dict[str, SourceSpec]:
    """Every feed venues registered and did not remove, as sources by name."""
    with factory() as session:
        feeds = active_feeds(session)
    specs = (feed_spec(feed, settings) for feed in feeds)
    return {spec.name: spec for spec in specs if spec is not None}


class SourceCatalog(Mapping[str, SourceSpec]):
    """The sources by name: the configured ones, and the registered feeds re-read from the database.

    The feeds are read again by :meth:`refresh` (the scheduler's request poll and the portal call it)
    and at the latest ``max_age`` seconds after the last read, so every process sees a new feed without
    a restart. A configured source keeps its name: a feed can never shadow it. When the database cannot
    be read, the last known feeds stay.
    """

    def __init__(
        self,
        configured: Mapping[str, SourceSpec],
        registered: Callable[[], Mapping[str, SourceSpec]] | None = None,
        *,
        max_age: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.configured = dict(configured)
        self._registered = registered
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._specs = dict(self.configured)
        self._read_at: float | None = None

    def refresh(self) -> None:
        """Read the registered feeds now."""
        if self._registered is None:
            return
        try:
            found = self._registered()
        except SQLAlchemyError:
            log.exception("could not read the registered feeds; keeping the last known ones")
            self._read_at = self._monotonic()
            return
        merged = {**{n: s for n, s in found.items() if n not in self.configured}, **self.configured}
        with self._lock:
            self._specs = merged
            self._read_at = self._monotonic()

    def _current(self) -> dict[str, SourceSpec]:
        if self._registered is not None:
            read_at = self._read_at
            if read_at is None or self._monotonic() - read_at >= self._max_age:
                self.refresh()
        return self._specs

    def __getitem__(self, name: str) -> SourceSpec:
        return self._current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())
