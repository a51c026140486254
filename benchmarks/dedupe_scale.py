"""Normalisation + deduplication at scale: synthetic listings, 30 % cross-source duplicates.

The number of venues grows with the size (about 1,000 listings per venue and year), so that blocking by
venue and day sees the density of a real city. For each size (default 10k, 100k, 300k listings) a fresh subprocess builds the listings, normalises them
and assigns them to events and occurrences with the real :class:`aggregator.dedupe.DedupeIndex`, source by
source, and prints wall time, listings per second and peak memory (max RSS). Goal: 100k in under 30 s,
growth close to linear.

    .venv/bin/python benchmarks/dedupe_scale.py [--sizes 10000 100000 300000]
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from scale_runs import Row, main, normalise_and_assign, peak_mib

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


def run_size(total: int) -> Row:
    """Build, normalise and deduplicate ``total`` listings in this process; return the figures."""
    by_source = synthesise(total)
    done = normalise_and_assign(by_source, datetime(2026, 11, 21, tzinfo=UTC))
    return {
        "listings": total,
        "assigned": len(done.assignments),
        "events": len(done.index.events),
        "occurrences": len(done.index.occurrences),
        "seconds": done.seconds,
        "peak_mib": peak_mib(),
    }


def _line(row: Row) -> str:
    return (
        f"{row['listings']:>9} {row['events']:>8} {row['occurrences']:>8} {row['seconds']:>8.2f} "
        f"{row['listings'] / row['seconds']:>9.0f} {1e6 * row['seconds'] / row['listings']:>10.1f} "
        f"{row['peak_mib']:>9.0f}"
    )


if __name__ == "__main__":
    raise SystemExit(
        main(
            __file__,
            __doc__ or "",
            run_size,
            sizes=[10_000, 100_000, 300_000],
            header=(
                f"{'listings':>9} {'events':>8} {'occurr.':>8} {'seconds':>8} {'per s':>9} {'µs/listing':>10} "
                f"{'peak MiB':>9}"
            ),
            line=_line,
            growth=[("seconds", "")],
            goal=(100_000, 30),
        )
    )
