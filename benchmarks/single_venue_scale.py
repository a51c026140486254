"""Normalisation + deduplication at one venue: every listing at the Dortmunder U, titles sharing few words.

The unlucky case for blocking: a museum's weekly tours ("Öffentliche Führung", "Kuratorenführung: Licht
und Raum"), numbered series ("Kunstpause Nr. 412": one common word and a number) and a theatre's repertoire
whose titles are drawn from a few dozen words ("Nacht Sommer Traum"), all at one venue, about three years
of dates. The venue's own iCal file
gives every performance its own UID (``series_key``), so each listing is a group of its own; a city
portal lists a quarter of the performances again, with the title in capitals and no key. For each size
(default 5k, 10k, 20k, 50k listings) a fresh subprocess builds the listings, normalises and assigns them
with the real :class:`aggregator.dedupe.DedupeIndex` (the path of ``benchmarks/dedupe_scale.py``), and
prints wall and CPU time (the machine may be shared: CPU time is the steadier figure), µs per listing,
how many of the portal's duplicates found their performance, and the most candidate events and
occurrences one listing was compared with. Goal: 50k in under 60 s, growth
close to linear.

    .venv/bin/python benchmarks/single_venue_scale.py [--sizes 5000 10000 20000 50000]
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from scale_runs import Row, main, normalise_and_assign, peak_mib

VENUE = "Dortmunder U"
TOUR_KINDS = ("Öffentliche Führung", "Kuratorenführung", "Familienführung", "Kunstpause", "Dialogführung")
THEMES = (
    "Licht",
    "Raum",
    "Farbe",
    "Klang",
    "Stadt",
    "Zeit",
    "Bild",
    "Körper",
    "Natur",
    "Maschine",
    "Spiel",
    "Archiv",
    "Zukunft",
    "Erinnerung",
    "Bewegung",
    "Stille",
)
WORDS = (
    "Die",
    "Der",
    "Das",
    "Nacht",
    "Traum",
    "Sommer",
    "Winter",
    "Liebe",
    "Reise",
    "Stadt",
    "Hafen",
    "Wald",
    "Stern",
    "Zauber",
    "Welt",
    "Spiel",
    "Licht",
    "Schatten",
    "König",
    "Königin",
    "Mond",
    "Sonne",
    "Meer",
    "Haus",
    "Garten",
    "Lied",
    "Tanz",
    "Wort",
    "Bühne",
    "Fest",
)
NUMBERED = ("Kunstpause", "Lesebühne", "Filmclub", "Jazz im U")
SOURCES = ("venue_ical", "city_portal")
BASE = datetime(2026, 12, 1, tzinfo=UTC)
DAYS = 3 * 365
FETCHED = datetime(2026, 11, 21, tzinfo=UTC)


def _productions(total: int, rng: random.Random) -> list[tuple[str, list[datetime]]]:
    """Titles with their performance starts: tours recurring weekly, plays with a run of dates."""
    productions: list[tuple[str, list[datetime]]] = []
    count, episodes = 0, dict.fromkeys(NUMBERED, 0)
    while count < total:
        draw = rng.random()
        if draw < 0.3:
            series = rng.choice(NUMBERED)
            episodes[series] += 1
            title = f"{series} Nr. {episodes[series]}"
            first = BASE + timedelta(days=rng.randrange(DAYS), hours=rng.choice((12, 17, 19)))
            starts = [first + timedelta(days=n) for n in range(rng.randrange(1, 3))]
        elif draw < 0.6:
            kind, theme = rng.choice(TOUR_KINDS), " und ".join(rng.sample(THEMES, rng.choice((1, 2, 3))))
            title = kind if kind == "Öffentliche Führung" and rng.random() < 0.3 else f"{kind}: {theme}"
            first = BASE + timedelta(days=rng.randrange(DAYS), hours=rng.choice((11, 14, 15, 16)))
            starts = [first + timedelta(days=7 * n) for n in range(rng.randrange(1, 12))]
        else:
            title = " ".join(rng.sample(WORDS, 3))
            first = BASE + timedelta(days=rng.randrange(DAYS), hours=18, minutes=rng.choice((0, 30, 60, 90)))
            starts = [first + timedelta(days=rng.randrange(1, 4) * n) for n in range(rng.randrange(1, 8))]
        starts = [start for start in starts if start < BASE + timedelta(days=DAYS)]
        productions.append((title, starts))
        count += len(starts)
    return productions


def synthesise(total: int, seed: int = 12) -> tuple[dict[str, list[object]], dict[str, str]]:
    """``total`` listings at one venue; a fifth of them repeat a performance of the venue's own file.

    Returns the listings by source and, for each portal record, the venue record it duplicates.
    """
    from aggregator.listing import Listing

    rng = random.Random(seed)
    unique = int(total / 1.25)
    performances = [(title, start) for title, starts in _productions(unique, rng) for start in starts][
        :unique
    ]
    by_source: dict[str, list[object]] = {source: [] for source in SOURCES}
    for index, (title, start) in enumerate(performances):
        by_source["venue_ical"].append(
            Listing(
                source="venue_ical",
                record_id=f"uid-{index}",
                series_key=f"uid-{index}",
                title=title,
                fetched_at=FETCHED,
                start=start,
                venue_name=VENUE,
            )
        )
    truth: dict[str, str] = {}
    for n, index in enumerate(rng.sample(range(unique), total - unique)):
        title, start = performances[index]
        by_source["city_portal"].append(
            Listing(
                source="city_portal",
                record_id=f"portal-{n}",
                title=title.upper(),
                fetched_at=FETCHED,
                start=start,
                venue_name=VENUE,
            )
        )
        truth[f"portal-{n}"] = f"uid-{index}"
    return by_source, truth


def run_size(total: int) -> Row:
    """Build, normalise and deduplicate ``total`` listings in this process; return the figures."""
    by_source, truth = synthesise(total)
    done = normalise_and_assign(by_source, FETCHED)
    occurrence_of = {
        assignment.listing.record_id: assignment.occurrence_id for assignment in done.assignments
    }
    found = sum(occurrence_of.get(portal) == occurrence_of.get(own) for portal, own in truth.items())
    return {
        "listings": total,
        "events": len(done.index.events),
        "occurrences": len(done.index.occurrences),
        "duplicates": len(truth),
        "found": found,
        "widest_events": done.index.widest_event_lookup,
        "widest_occurrences": done.index.widest_occurrence_lookup,
        "seconds": done.seconds,
        "cpu_seconds": done.cpu_seconds,
        "peak_mib": peak_mib(),
    }


def _line(row: Row) -> str:
    return (
        f"{row['listings']:>9} {row['events']:>7} {row['occurrences']:>8} "
        f"{row['found']:>6}/{row['duplicates']:<6} {row['widest_events']:>6}/{row['widest_occurrences']:<5} "
        f"{row['seconds']:>8.2f} {row['cpu_seconds']:>7.2f} {1e6 * row['seconds'] / row['listings']:>10.1f} "
        f"{1e6 * row['cpu_seconds'] / row['listings']:>9.1f} {row['peak_mib']:>9.0f}"
    )


if __name__ == "__main__":
    raise SystemExit(
        main(
            __file__,
            __doc__ or "",
            run_size,
            sizes=[5_000, 10_000, 20_000, 50_000],
            header=(
                f"{'listings':>9} {'events':>7} {'occurr.':>8} {'dups found':>13} {'cand. ev/occ':>12} "
                f"{'seconds':>8} {'cpu s':>7} {'µs/listing':>10} {'cpu µs/l.':>9} {'peak MiB':>9}"
            ),
            line=_line,
            growth=[("seconds", "wall "), ("cpu_seconds", "cpu ")],
            goal=(50_000, 60),
        )
    )
