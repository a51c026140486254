"""The adapter contract, checked once over every registered source replayed from tests/fixtures/<name>/.

Per-source files test what is particular to a publisher; what every adapter owes the pipeline is here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fixed_clock import NOW

import sources
from aggregator.listing import Listing
from sources.base import Source, SourceResult, registry
from sources.catalog import load_adapters
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

load_adapters()
SOURCES: dict[str, type[Source]] = dict(sorted(registry().items()))


def _replay(name: str) -> Source:
    return SOURCES[name](SnapshotFetcher(FIXTURES / name, NOW))


def _adapters() -> dict[str, type[Source]]:
    """The source class each module of ``sources/`` defines (one with a ``name``), by module name."""
    found: dict[str, type[Source]] = {}
    for module in pkgutil.iter_modules(sources.__path__):
        loaded = importlib.import_module(f"sources.{module.name}")
        for value in vars(loaded).values():
            if (
                isinstance(value, type)
                and issubclass(value, Source)
                and value.__module__ == loaded.__name__
                and value.__dict__.get("name")
                and not value.__dict__.get("abstract", False)
            ):
                found[module.name] = value
    return found


ADAPTERS = _adapters()
RESULTS: dict[str, SourceResult] = {name: _replay(name).run() for name in SOURCES}
LISTINGS = [(name, item) for name, result in RESULTS.items() for item in result.listings]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``name`` runs over every registered source, ``name, item`` over every listing of each."""
    if "item" in metafunc.fixturenames:
        metafunc.parametrize(("name", "item"), LISTINGS, ids=[f"{n}:{i.record_id}" for n, i in LISTINGS])
    elif "name" in metafunc.fixturenames:
        metafunc.parametrize("name", list(SOURCES))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _aware(value: datetime | None) -> bool:
    return value is None or value.utcoffset() is not None


def test_every_registered_source_has_fixtures_and_gives_listings(name: str) -> None:
    assert (FIXTURES / name / "urls.json").is_file() and RESULTS[name].listings


@pytest.mark.parametrize("module", sorted(ADAPTERS))
def test_adapter_is_registered_under_its_module_name(module: str) -> None:
    assert registry()[module] is ADAPTERS[module]


def test_every_registered_source_is_an_adapter_module() -> None:
    assert sorted(ADAPTERS) == sorted(SOURCES)


def test_record_ids_unique(name: str) -> None:
    ids = [item.record_id for item in RESULTS[name].listings]
    assert len(set(ids)) == len(ids)


def test_a_run_leaves_no_state_on_the_instance(name: str) -> None:
    source = _replay(name)
    before = repr(vars(source))
    source.run()
    assert repr(vars(source)) == before


def test_two_runs_give_the_same_result(name: str) -> None:
    assert _replay(name).run() == RESULTS[name]


def test_title_present(name: str, item: Listing) -> None:
    assert item.title.strip()


def test_source_name(name: str, item: Listing) -> None:
    assert item.source == name


def test_record_id_is_not_the_title(name: str, item: Listing) -> None:
    assert item.record_id.strip() and item.record_id not in {item.title, _slug(item.title)}


def test_urls_are_absolute_http(name: str, item: Listing) -> None:
    urls = [item.url, item.image, item.venue_url, *(offer.url for offer in item.offers)]
    for url in filter(None, urls):
        parts = urlsplit(url)
        assert parts.scheme in {"http", "https"} and parts.netloc, url


def test_times_are_aware_or_a_date_text(name: str, item: Listing) -> None:
    assert _aware(item.start) and _aware(item.end)
    assert item.start is not None or item.date_text


def test_fetched_at_is_the_aware_time_of_fetching(name: str, item: Listing) -> None:
    assert item.fetched_at is not None and _aware(item.fetched_at)
