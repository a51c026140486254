"""What the scale benchmarks share: the normalise-and-assign path, one size a subprocess, the growth lines."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from aggregator.dedupe import Assignment, DedupeIndex

Row = dict[str, Any]
"""One size's figures, as the subprocess prints them in JSON."""


@dataclass
class Assigned:
    """Every source's listings normalised and assigned: the index, the assignments, the time it took."""

    index: DedupeIndex
    assignments: list[Assignment]
    seconds: float
    cpu_seconds: float


def normalise_and_assign(by_source: Mapping[str, list[object]], now: datetime) -> Assigned:
    """Normalise and assign each source's listings in turn with the real pipeline and DedupeIndex, timed."""
    from aggregator.dedupe import DedupeIndex
    from aggregator.normalise.categories import load_categories
    from aggregator.normalise.pipeline import normalise
    from aggregator.normalise.venues import load_venues

    venues, categories = load_venues(), load_categories()
    started, cpu = time.perf_counter(), time.process_time()
    index = DedupeIndex()
    assignments: list[Assignment] = []
    for listings in by_source.values():
        result = normalise(listings, venues=venues, categories=categories, now=now)  # type: ignore[arg-type]
        assignments += index.assign(result.listings, now=now).assignments
    return Assigned(index, assignments, time.perf_counter() - started, time.process_time() - cpu)


def peak_mib() -> float:
    """This process's peak memory (max RSS) in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(
    script: str,
    description: str,
    run_size: Callable[[int], Row],
    *,
    sizes: list[int],
    header: str,
    line: Callable[[Row], str],
    growth: Sequence[tuple[str, str]],
    goal: tuple[int, float],
) -> int:
    """Run ``script`` once per size in a fresh subprocess (``--one``) and print a line a size.

    ``growth`` names the time columns whose growth against linear is printed (with a label each);
    ``goal`` is the size and the seconds it must take less than.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", type=int, nargs="+", default=sizes)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_size(args.one)))
        return 0
    print(header)
    rows = []
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, script, "--one", str(size)], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(line(row))
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        for column, label in growth:
            ratio = (last[column] / first[column]) / (last["listings"] / first["listings"])
            print(
                f"{label}time growth vs linear from {first['listings']} to {last['listings']}: ×{ratio:.2f} "
                "(1.00 = exactly linear)"
            )
    size, limit = goal
    reached = next((row for row in rows if row["listings"] == size), None)
    if reached:
        print(f"goal {size // 1000}k < {limit:g} s:", "met" if reached["seconds"] < limit else "NOT met")
    return 0
