"""Which sources exist: every adapter module in ``sources/`` plus platform sources from settings."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sources
import sources.platforms
from aggregator.config import ConfigError, Settings
from sources.base import Fetcher, Source, registry

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
