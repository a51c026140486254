"""The source catalog: every adapter registered, platform venues added by settings alone."""

from __future__ import annotations

import pkgutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import NOW, clock

import sources
from aggregator.config import ConfigError, Settings
from sources.catalog import catalog, platforms
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_every_adapter_module_registers_a_source_of_its_own_name(settings: Settings) -> None:
    specs = catalog(settings)
    modules = [
        m.name
        for m in pkgutil.iter_modules(sources.__path__)
        if not m.name.startswith("_")
        and m.name not in {"base", "catalog", "fallback", "http", "snapshots", "record"}
        and not m.ispkg
    ]
    assert modules, "no adapter modules found"
    for module in modules:
        assert module in specs, f"sources/{module}.py registers no source named {module!r}"
        assert specs[module].cls.__module__ == f"sources.{module}"


def test_every_adapter_declares_schedule_and_venue(settings: Settings) -> None:
    for spec in catalog(settings).values():
        assert spec.schedule.startswith(("interval:", "cron:")), spec.name
        if spec.cls.venue or spec.kind == "city":
            continue
        # a multi-venue adapter (theater_dortmund, zoo_westfalenpark) names the venue on every listing
        listings = spec.build(SnapshotFetcher(FIXTURES / spec.name, NOW)).run().listings
        assert listings and all(item.venue_name for item in listings), f"{spec.name} declares no venue"


def test_platforms_are_known_by_name() -> None:
    assert {"ical", "jsonld", "tribe", "eventim_xml"} <= set(platforms())


def test_a_tribe_venue_needs_only_settings(settings: Settings) -> None:
    configured = replace(
        settings,
        sources={
            "naturfreunde": {
                "type": "tribe",
                "url": "https://club.example/",
                "venue": "Naturfreundehaus",
                "schedule": "interval:12h",
            }
        },
    )
    spec = catalog(configured)["naturfreunde"]
    assert (spec.cls, spec.schedule, spec.kind) == (platforms()["tribe"], "interval:12h", "venue")
    source = spec.build(None)
    assert source.source_name == "naturfreunde"


def test_an_ical_venue_needs_only_settings_and_parses(settings: Settings) -> None:
    configured = replace(
        settings,
        sources={"domicil": {"type": "ical", "url": "https://domicil.example/feed.ics", "venue": "domicil"}},
    )
    spec = catalog(configured)["domicil"]
    body = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
        b"DTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20270115T200000\r\nSUMMARY:Jazz\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    from sources.base import Document

    class _One:
        def new_run(self) -> None:
            pass

        def get(self, url: str) -> Document:
            return Document(url=url, body=body, content_type="text/calendar", fetched_at=NOW)

        def now(self) -> datetime:
            return NOW

    listings = spec.build(_One()).run().listings
    assert listings and all(listing.source == "domicil" for listing in listings)


def test_an_unknown_platform_type_names_the_key(settings: Settings) -> None:
    configured = replace(settings, sources={"x": {"type": "myspace", "url": "https://x.example/"}})
    with pytest.raises(ConfigError, match=r"sources\.x\.type"):
        catalog(configured)


def test_a_platform_source_without_url_names_the_key(settings: Settings) -> None:
    configured = replace(settings, sources={"x": {"type": "ical"}})
    with pytest.raises(ConfigError, match=r"sources\.x\.url"):
        catalog(configured)


def test_every_adapter_has_bundled_snapshots_for_the_offline_demo(settings: Settings) -> None:
    for name, spec in catalog(settings).items():
        folder = FIXTURES / name
        assert (folder / "urls.json").is_file(), f"no snapshots for {name}"
        source = spec.build(SnapshotFetcher(folder, NOW))
        assert source.run().listings, f"the snapshots of {name} give no listings"


def test_a_changed_layout_fails_that_run_loudly_and_others_still_succeed(
    settings: Settings, factory: Any
) -> None:
    from aggregator.ingest import IngestContext
    from aggregator.types import RunStatus
    from scheduler.runner import run_source
    from sources.base import Document

    specs = catalog(settings)
    ctx = IngestContext(factory, settings, kinds={n: s.kind for n, s in specs.items()}, clock=clock())
    good = run_source(ctx, specs["konzerthaus"], SnapshotFetcher(FIXTURES / "konzerthaus", NOW))
    assert good.status == RunStatus.SUCCESS and good.added > 0

    changed = (FIXTURES / "konzerthaus" / "changed_layout.html").read_bytes()

    class _Changed:
        def new_run(self) -> None:
            pass

        def get(self, url: str) -> Document:
            return Document(url=url, body=changed, content_type="text/html; charset=utf-8", fetched_at=NOW)

        def now(self) -> datetime:
            return NOW

    broken = run_source(ctx, specs["konzerthaus"], _Changed())
    assert broken.status == RunStatus.FAILED
    assert "konzerthaus" in (broken.error or "") and "cal-list" in (broken.error or "")
    other = run_source(ctx, specs["theater_dortmund"], SnapshotFetcher(FIXTURES / "theater_dortmund", NOW))
    assert other.status == RunStatus.SUCCESS
    again = run_source(ctx, specs["konzerthaus"], SnapshotFetcher(FIXTURES / "konzerthaus", NOW))
    assert (again.status, again.added, again.updated) == (RunStatus.SUCCESS, 0, 0)
