"""Normalisation + deduplication at scale: synthetic listings, 30 % cross-source duplicates.

The number of venues grows with the size (about 1,000 listings per venue and year), so that blocking by
venue and day sees the density of a real city. For each size (default 10k, 100k, 300k listings) a fresh subprocess builds the listings, normalises them
and assigns them to events and occurrences with the real :class:`aggregator.dedupe.DedupeIndex`, source by
source, and prints wall time, listings per second and peak memory (max RSS). Goal: 100k in under 30 s,
growth close to linear.

    .venv/bin/python benchmarks/dedupe_scale.py [--sizes 10000 100000 300000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = [
    "Sinfonie",
    "Nacht",
    "Konzert",
    "Jazz",
    "Oper",
    "Traum",
    "Sommer",
    "Winter",
    "Klang",
    "Licht",
    "Stadt",
    "Hafen",
    "Wald",
    "Stern",
    "Liebe",
    "Reise",
    "Tanz",
    "Gala",
    "Festival",
    "Lieder",
    "Abend",
    "Morgen",
    "Kinder",
    "Familie",
    "Rock",
    "Pop",
    "Soul",
    "Blues",
    "Zauber",
    "Märchen",
    "Bühne",
    "Welt",
    "Ballett",
    "Quartett",
    "Trio",
    "Solo",
    "Orgel",
    "Chor",
    "Klavier",
    "Geige",
    "Revue",
    "Show",
    "Comedy",
    "Lesung",
    "Vortrag",
    "Führung",
    "Markt",
]
VENUES = (
    "Konzerthaus Dortmund",
    "Opernhaus Dortmund",
    "Schauspielhaus Dortmund",
    "Westfalenhallen",
    "Dortmunder U",
    "domicil",
    "FZW",
    "Junkyard",
    "Kokerei Hansa",
    "Zoo Dortmund",
    "Westfalenpark",
    "Deutsches Fußballmuseum",
    "MKK",
    "Brauerei-Museum",
    "Phoenix des Lumières",
    "Reinoldikirche",
    "Signal Iduna Park",
    "Stadt- und Landesbibliothek",
    "Baukunstarchiv NRW",
    "Naturmuseum",
)
SOURCES = ("venue_site", "city_portal", "ticket_shop", "platform_feed")
BASE = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def synthesise(total: int, seed: int = 7) -> dict[str, list[object]]:
    """``total`` listings over four sources; 30 % of them repeat a performance another source lists."""
    from aggregator.listing import Listing, OfferListing

    rng = random.Random(seed)
    # A bigger programme means more venues, not more shows per venue and night: keep the density of a real
    # city (about one to three performances per venue and day) by adding venues as the size grows.
    venues = list(VENUES) + [f"Spielstätte {n}" for n in range(max(0, total // 1000 - len(VENUES)))]
    fetched = datetime(2026, 11, 21, tzinfo=UTC)
    unique = int(total / 1.3)
    by_source: dict[str, list[object]] = {s: [] for s in SOURCES}
    performances: list[tuple[int, str, str, datetime]] = []
    production = 0
    while len(performances) < unique:
        production += 1
        title = f"{' '.join(rng.sample(WORDS, 3))} {production}"
        venue = rng.choice(venues)
        first = BASE + timedelta(days=rng.randrange(0, 360), minutes=30 * rng.randrange(0, 8))
        for n in range(rng.choice((1, 1, 1, 2, 3, 5, 8))):
            performances.append((production, title, venue, first + timedelta(days=7 * n)))
    performances = performances[:unique]
    for index, (production, title, venue, start) in enumerate(performances):
        owner = SOURCES[index % len(SOURCES)]
        by_source[owner].append(
            Listing(
                source=owner,
                record_id=f"{owner}-{index}",
                series_key=f"p{production}",
                title=title,
                fetched_at=fetched,
                start=start,
                venue_name=venue,
                offers=[OfferListing(price_text="Tickets 12 € – 30 €")],
            )
        )
    duplicates = total - unique
    for n in range(duplicates):
        index = rng.randrange(unique)
        production, title, venue, start = performances[index]
        owner = SOURCES[(index + 1 + n % 3) % len(SOURCES)]
        shown = title.upper() if owner == "ticket_shop" else title
        by_source[owner].append(
            Listing(
                source=owner,
                record_id=f"{owner}-dup-{n}",
                title=shown,
                fetched_at=fetched,
                start=start,
                venue_name=venue,
                offers=[OfferListing(price_text="ab 12 €")],
            )
        )
    return by_source


def run_size(total: int) -> dict[str, float]:
    """Build, normalise and deduplicate ``total`` listings in this process; return the figures."""
    from aggregator.dedupe import DedupeIndex
    from aggregator.normalise.categories import load_categories
    from aggregator.normalise.pipeline import normalise
    from aggregator.normalise.venues import load_venues

    by_source = synthesise(total)
    venues, categories = load_venues(), load_categories()
    now = datetime(2026, 11, 21, tzinfo=UTC)
    started = time.perf_counter()
    index = DedupeIndex()
    assigned = 0
    for _source, listings in by_source.items():
        result = normalise(listings, venues=venues, categories=categories, now=now)  # type: ignore[arg-type]
        normalised = time.perf_counter()
        assigned += len(index.assign(result.listings, now=now).assignments)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del normalised
    return {
        "listings": total,
        "assigned": assigned,
        "events": len(index.events),
        "occurrences": len(index.occurrences),
        "seconds": elapsed,
        "peak_mib": peak_kib / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_size(args.one)))
        return 0
    print(
        f"{'listings':>9} {'events':>8} {'occurr.':>8} {'seconds':>8} {'per s':>9} {'µs/listing':>10} {'peak MiB':>9}"
    )
    rows = []
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{row['listings']:>9} {row['events']:>8} {row['occurrences']:>8} {row['seconds']:>8.2f} "
            f"{row['listings'] / row['seconds']:>9.0f} {1e6 * row['seconds'] / row['listings']:>10.1f} "
            f"{row['peak_mib']:>9.0f}"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        ratio = (last["seconds"] / first["seconds"]) / (last["listings"] / first["listings"])
        print(
            f"time growth vs linear from {first['listings']} to {last['listings']}: ×{ratio:.2f} "
            "(1.00 = exactly linear)"
        )
    hundred = next((r for r in rows if r["listings"] == 100_000), None)
    if hundred:
        print("goal 100k < 30 s:", "met" if hundred["seconds"] < 30 else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
