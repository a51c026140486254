"""What every reader of the dortmund.de city calendar gives, checked over each one's replayed pages.

dortmund_de reads the whole calendar; brauerei_museum, mkk and zoo_westfalenpark are the same adapter
on an institution's view of it. Per-source files test what is particular to each.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import registry
from sources.catalog import load_adapters
from sources.dortmund_de import DortmundDeSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DETAIL = "https://www.dortmund.de/veranstaltungskalender/veranstaltung.html?eid="

load_adapters()
FAMILY = sorted(name for name, cls in registry().items() if issubclass(cls, DortmundDeSource))
RESULTS = {name: registry()[name](SnapshotFetcher(FIXTURES / name, NOW)).run().listings for name in FAMILY}
LISTINGS = [(name, item) for name in FAMILY for item in RESULTS[name]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``name, item`` runs over every listing of every member of the family."""
    if "item" in metafunc.fixturenames:
        metafunc.parametrize(("name", "item"), LISTINGS, ids=[f"{n}:{i.record_id}" for n, i in LISTINGS])


def test_the_family_is_the_four_readers() -> None:
    assert FAMILY == ["brauerei_museum", "dortmund_de", "mkk", "zoo_westfalenpark"]


def test_record_id_is_eid_and_date(name: str, item: Listing) -> None:
    # "#2", "#3", ... only where one entry has two dates on one day (see test_dortmund_de.py)
    base, _, number = item.record_id.partition("#")
    assert re.fullmatch(r"\d+/\d{1,2}-[a-zä]+-\d{4}", base)
    same_day = Counter(other.record_id.partition("#")[0] for other in RESULTS[name])
    assert not number or (number.isdigit() and same_day[base] > 1)


def test_url_absolute(name: str, item: Listing) -> None:
    assert (item.url or "").startswith(DETAIL)


def test_date_text_present(name: str, item: Listing) -> None:
    assert re.fullmatch(r"(Mo|Di|Mi|Do|Fr|Sa|So) \d{1,2}\. \w+ \d{4}", item.date_text or "")


def test_series_key_is_the_eid(name: str, item: Listing) -> None:
    assert item.record_id.startswith(f"{item.series_key}/")
