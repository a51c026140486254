"""Time is an input: no module below the program's edges reads the wall clock."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.clock import FixedClock, system_clock

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("aggregator", "sources", "calendar_api", "scheduler", "stadtkalender")
EDGE_MODULES = {"aggregator/clock.py"}
"""The only module that may read the wall clock; the edges (CLI, app factory, scheduler) call it."""

_FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
}
_FORBIDDEN_NAMES = {"utcnow"}


def _wall_clock_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    where = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = func.value
                owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
                if (owner_name, func.attr) in _FORBIDDEN_CALLS:
                    found.append(f"{where}:{node.lineno} {owner_name}.{func.attr}()")
            elif isinstance(func, ast.Name) and func.id in _FORBIDDEN_NAMES:
                found.append(f"{where}:{node.lineno} {func.id}()")
        elif isinstance(node, ast.keyword) and isinstance(node.value, ast.Attribute | ast.Name):
            target = node.value
            name = target.attr if isinstance(target, ast.Attribute) else target.id
            if node.arg in ("default", "default_factory", "onupdate") and name in {"now", "utcnow", "today"}:
                found.append(f"{where}:{node.lineno} {node.arg}={name}")
    return found


def _modules() -> list[Path]:
    return sorted(
        p for package in PACKAGES for p in (REPO / package).rglob("*.py") if "migrations" not in p.parts
    )


def test_the_scan_sees_the_packages() -> None:
    assert len(_modules()) > 50


def test_no_wall_clock_read_below_the_edges() -> None:
    reads = [
        read
        for path in _modules()
        if str(path.relative_to(REPO)) not in EDGE_MODULES
        for read in _wall_clock_reads(path)
    ]
    assert reads == []


def test_the_scan_finds_a_wall_clock_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from datetime import datetime, date\nimport time\n"
        "a = datetime.now()\nb = date.today()\nc = time.time()\n",
        encoding="utf-8",
    )
    assert len(_wall_clock_reads(sample)) == 3


def test_system_clock_is_aware_utc() -> None:
    assert system_clock().tzinfo is UTC


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(hours=2))
    assert clock() == datetime(2026, 1, 1, 2, tzinfo=UTC)


def test_fixed_clock_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        FixedClock(datetime(2026, 1, 1))
