"""Imports stay linear: long titles, huge JSON-LD documents and one venue with thousands of similar titles.

Each case once took quadratic time (issue 12). Where the work can be counted, the tests count it;
where it cannot (a regular expression, a list membership test), the input is so large that the
quadratic version would run for many minutes, and an alarm far above the linear time ends the test.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import Any

import pytest
from rapidfuzz import process

from aggregator.dedupe import MAX_CANDIDATE_EVENTS, SMALL_BLOCK, DedupeIndex
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from aggregator.listing import Listing, OfferListing
from aggregator.matching.rules import occurrence_match_score
from aggregator.normalise.categories import CategoryDataError, load_categories
from aggregator.normalise.limits import TEXT_LIMITS, truncate
from aggregator.normalise.pipeline import normalise
from aggregator.normalise.venues import load_venues

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
FIRST = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ALARM_SECONDS = 120  # the linear code needs a few seconds at most; the quadratic one needed many minutes
CATEGORIES = load_categories()
VENUES = load_venues()


class TookTooLong(Exception):
    """The work did not end within the alarm."""


@pytest.fixture
def alarm() -> Iterator[None]:
    """Interrupt the test after :data:`ALARM_SECONDS` of wall time."""

    def ring(signum: int, frame: FrameType | None) -> None:
        raise TookTooLong(f"still running after {ALARM_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(ALARM_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- category hints ----------------------------------------------------------------------------------


def test_a_hint_that_may_start_anywhere_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "categories.toml"
    path.write_text(
        '[[category]]\nslug = "konzert"\nde = "Konzert"\nen = "Concert"\n'
        "[[hint]]\npattern = '\\bmusik\\b|\\w*konzert\\b'\nslugs = [\"konzert\"]\n",
        encoding="utf-8",
    )
    with pytest.raises(CategoryDataError, match=r"\\w\*konzert.*must start with"):
        load_categories(path)


@pytest.mark.usefixtures("alarm")
def test_a_million_character_title_is_categorised() -> None:
    # The leading "\w*" was retried at every character: 27 s for 100,000 characters, hours for a million.
    assert CATEGORIES.map([], "a" * 1_000_000) == []
    assert CATEGORIES.map([], "x" * 1_000_000 + "konzert") == ["konzert"]
    assert CATEGORIES.map([], "a " * 500_000 + "Poetryslam") == ["lesung"]


# -- JSON-LD subEvents -------------------------------------------------------------------------------


def _series(subs: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "Event",
            "@id": "https://u.example/fuehrungen",
            "name": "Öffentliche Führung",
            "location": {"@type": "Place", "name": "Dortmunder U"},
            "subEvent": subs,
        }
    )


@pytest.mark.usefixtures("alarm")
def test_a_hundred_thousand_sub_events_are_read() -> None:
    subs: list[dict[str, Any]] = [
        {"@type": "Event", "startDate": (FIRST + timedelta(minutes=30 * n)).isoformat()}
        for n in range(100_000)
    ]
    subs[7] = {"@type": "Event", "name": "Ohne Datum"}
    result = parse_jsonld(_series(subs), source="u", fetched_at=NOW)
    assert len(result.listings) == 99_999
    assert [rejection.reason for rejection in result.rejections] == ["subEvent without startDate"]


@pytest.mark.usefixtures("alarm")
def test_a_hundred_thousand_equal_sub_events_get_distinct_record_ids() -> None:
    same = {"@type": "Event", "startDate": FIRST.isoformat()}
    result = parse_jsonld(_series([same] * 100_000), source="u", fetched_at=NOW)
    ids = [listing.record_id for listing in result.listings]
    assert len(set(ids)) == 100_000
    assert ids[2].endswith("~2") and ids[-1].endswith("~99999")


# -- dedupe at one venue -----------------------------------------------------------------------------


def _listing(source: str, record_id: str, title: str, start: datetime, **extra: Any) -> Listing:
    return Listing(
        source=source,
        record_id=record_id,
        title=title,
        fetched_at=NOW,
        start=start,
        venue_name="Dortmunder U",
        **extra,
    )


def _assign(index: DedupeIndex, listings: list[Listing]) -> dict[str, str]:
    result = normalise(listings, venues=VENUES, categories=CATEGORIES, now=NOW)
    assert not result.rejected
    return {a.listing.record_id: a.occurrence_id for a in index.assign(result.listings, now=NOW).assignments}


class _Counting:
    """Wraps a function and records a measure of each call."""

    def __init__(self, function: Callable[..., Any], measure: Callable[..., int]) -> None:
        self.function, self.measure, self.seen = function, measure, Counter[int]()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.seen[self.measure(*args, **kwargs)] += 1
        return self.function(*args, **kwargs)


def test_title_lookups_compare_a_bounded_number_of_events(monkeypatch: pytest.MonkeyPatch) -> None:
    # 3,000 tours whose titles share the word "Führung": blocking by the three rarest words took every
    # event of the venue into each lookup, so the comparisons grew with the square of the programme.
    extract = _Counting(process.extract, lambda query, choices, **_: len(choices))
    monkeypatch.setattr("aggregator.dedupe.process", SimpleNamespace(extract=extract))
    themes = ("Licht", "Raum", "Farbe", "Klang", "Zeit", "Bild")
    tours = [
        _listing(
            "museum",
            f"t{n}",
            f"Führung {themes[n % 6]} {3_000 + n}",
            FIRST + timedelta(days=n // 8, hours=n % 8),
            series_key=f"uid-{n}",
        )
        for n in range(3_000)
    ]
    index = DedupeIndex()
    placed = _assign(index, tours)
    assert len(set(placed.values())) == 3_000
    assert (
        len(index.events) == 3_000
    )  # a number keeps each tour its own (no year: 1900-2099 are compared apart)
    assert max(extract.seen) <= MAX_CANDIDATE_EVENTS
    assert index.widest_event_lookup <= MAX_CANDIDATE_EVENTS


THEMES = (
    "Licht",
    "Raum",
    "Farbe",
    "Klang",
    "Zeit",
    "Bild",
    "Körper",
    "Natur",
    "Maschine",
    "Archiv",
    "Zukunft",
    "Erinnerung",
    "Bewegung",
    "Stille",
    "Wasser",
    "Feuer",
    "Erde",
    "Luft",
    "Stadt",
    "Wald",
    "Stein",
    "Glas",
    "Holz",
    "Papier",
    "Linie",
    "Fläche",
    "Form",
    "Schatten",
    "Spiegel",
    "Fenster",
    "Grenze",
    "Reise",
    "Vulkan",
    "Sprache",
    "Schrift",
    "Stimme",
    "Geste",
    "Ozean",
    "Spur",
    "Ordnung",
)


def test_a_portal_still_finds_productions_whose_words_all_are_common() -> None:
    # 2,340 tours and talks named from 40 words: every word is in over a hundred titles, more than a lookup
    # compares. A portal that lists a further date, in capitals and with the words reordered, must still
    # find the production (by its words, in any order).
    titles = [
        f"{kind}: {a} und {b}"
        for kind in ("Kunstpause", "Atelierbesuch", "Werkgespräch")
        for i, a in enumerate(THEMES)
        for b in THEMES[i + 1 :]
    ]
    own = [
        _listing("venue", f"v{n}", title, FIRST + timedelta(days=n // 8, hours=n % 8), series_key=f"uid-{n}")
        for n, title in enumerate(titles)
    ]
    index = DedupeIndex()
    placed = _assign(index, own)
    assert len(index.events) > 1_500  # the fuzzy rules join a few ("Raum und Form" / "Form und Schatten")
    sample = own[::23]
    portal = []
    for item in sample:
        kind, words = item.title.split(": ")
        first, _und, second = words.split(" ")
        later = (item.start or FIRST) + timedelta(days=1, minutes=30)
        portal.append(
            _listing("portal", f"p-{item.record_id}", f"{kind} – {second} und {first}".upper(), later)
        )
    found = _assign(index, portal)
    event_of = {occurrence.id: occurrence.event_id for occurrence in index.occurrences.values()}
    assert [event_of[found[f"p-{item.record_id}"]] for item in sample] == [
        event_of[placed[item.record_id]] for item in sample
    ]
    assert index.widest_event_lookup <= MAX_CANDIDATE_EVENTS


def test_a_listing_is_compared_only_with_performances_near_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # 480 tours on one day, one every three minutes: blocking by day alone compared each portal listing
    # with all 480; only those within the tolerance can be the same performance.
    calls = _Counting(occurrence_match_score, lambda a, b, **_: 1)
    monkeypatch.setattr("aggregator.dedupe.occurrence_match_score", calls)
    day = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    own = [
        _listing("venue", f"v{n}", f"Kunstpause {n}", day + timedelta(minutes=3 * n), series_key=f"uid-{n}")
        for n in range(480)
    ]
    index = DedupeIndex(tolerance_minutes=20)
    placed = _assign(index, own)
    portal = [_listing("portal", f"p{n}", item.title, item.start or day) for n, item in enumerate(own[::10])]
    calls.seen.clear()
    found = _assign(index, portal)
    assert [found[f"p{n}"] for n in range(len(portal))] == [placed[item.record_id] for item in own[::10]]
    assert sum(calls.seen.values()) <= len(portal) * (3 * 20 // 3 + 3)  # three slots of twenty minutes
    assert index.widest_occurrence_lookup <= 3 * 20 // 3 + 3


@pytest.mark.parametrize(
    ("own", "portal", "same"),
    [
        (
            {"start": datetime(2026, 12, 5, 18, 15, tzinfo=UTC)},
            {"start": datetime(2026, 12, 5, 18, 34, tzinfo=UTC)},
            True,
        ),  # neighbouring slots
        (
            {"start": datetime(2026, 12, 5, 18, 34, tzinfo=UTC)},
            {"start": datetime(2026, 12, 5, 18, 15, tzinfo=UTC)},
            True,
        ),
        (
            {"start": datetime(2026, 12, 5, 18, 15, tzinfo=UTC)},
            {"start": datetime(2026, 12, 5, 18, 36, tzinfo=UTC)},
            False,
        ),
        (
            {"start": datetime(2026, 12, 5, 18, 0, tzinfo=UTC)},
            {"start": datetime(2026, 12, 5, 0, 0, tzinfo=UTC), "all_day": True},
            True,
        ),
        (
            {"start": datetime(2026, 12, 4, 23, 0, tzinfo=UTC)},
            {"start": datetime(2026, 12, 5, 14, 0, tzinfo=UTC), "all_day": True},
            True,
        ),
        (
            {"start": datetime(2026, 12, 5, 0, 0, tzinfo=UTC), "all_day": True},
            {"start": datetime(2026, 12, 5, 18, 0, tzinfo=UTC)},
            True,
        ),
        (
            {"start": datetime(2026, 12, 4, 22, 55, tzinfo=UTC)},
            {"start": datetime(2026, 12, 4, 23, 5, tzinfo=UTC)},
            False,
        ),  # 23:55 and 00:05 in Berlin: another day, as before
    ],
)
@pytest.mark.parametrize("busy", [False, True], ids=["quiet-day", "busy-day"])
def test_start_slots_keep_what_same_time_accepts(
    own: dict[str, Any], portal: dict[str, Any], same: bool, busy: bool
) -> None:
    index = DedupeIndex(tolerance_minutes=20)
    if busy:  # more than SMALL_BLOCK performances that day: candidates come from start slots
        morning = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
        _assign(
            index,
            [
                _listing(
                    "venue",
                    f"k{n}",
                    f"Kunstpause {n}",
                    morning + timedelta(minutes=6 * n),
                    series_key=f"k{n}",
                )
                for n in range(SMALL_BLOCK + 4)
            ],
        )
    first = _assign(index, [_listing("venue", "v", "Die Zauberflöte", **own)])
    second = _assign(index, [_listing("portal", "p", "DIE ZAUBERFLÖTE", **portal)])
    assert (second["p"] == first["v"]) is same


def test_merging_moves_only_the_losers_occurrences() -> None:
    index = DedupeIndex()
    _assign(index, [_listing("a", "a1", "Die Zauberflöte", FIRST, series_key="a")])
    _assign(index, [_listing("b", "b1", "Der Freischütz", FIRST + timedelta(days=1), series_key="b")])
    a_event = index.occurrences[index.records[("a", "a1")]].event_id
    b_event = index.occurrences[index.records[("b", "b1")]].event_id
    survivor, merges, kept_apart = index._merge([a_event, b_event])
    assert (survivor, merges, kept_apart) == (a_event, [(b_event, a_event)], set())
    assert {ref.event_id for ref in index.occurrences.values()} == {a_event}
    assert index.series[("b", "b")] == a_event
    assert _assign(index, [_listing("b", "b2", "Der Freischütz", FIRST + timedelta(days=9), series_key="b")])
    assert index.occurrences[index.records[("b", "b2")]].event_id == a_event


# -- length caps -------------------------------------------------------------------------------------


def test_every_text_is_capped_on_the_way_in() -> None:
    long = _listing(
        "feed",
        "x",
        "Konzert " * 20_000,
        FIRST,
        description="Text. " * 20_000,
        organiser="O" * 400,
        url="https://u.example/" + "a" * 2_000,
        offers=[OfferListing(price_text="12 € " * 100)],
        categories=["Konzert" * 100],
    )
    (capped,) = normalise([long], venues=VENUES, categories=CATEGORIES, now=NOW).listings
    assert len(capped.title) <= TEXT_LIMITS["title"] and capped.title.endswith("Konzert…")
    assert capped.description is not None and len(capped.description) <= TEXT_LIMITS["description"]
    assert capped.organiser is not None and len(capped.organiser) == TEXT_LIMITS["organiser"]
    assert capped.url is None
    assert capped.offers[0].price_text is not None and len(capped.offers[0].price_text) <= 300
    assert capped.category_slugs == ["konzert"]
    assert any(w.startswith("title cut from 159999 to 500") for w in capped.warnings)
    assert any(w.startswith("url of 2018 characters dropped") for w in capped.warnings)


def test_text_within_the_limits_is_left_alone() -> None:
    plain = _listing("feed", "x", "Die Zauberflöte", FIRST, description="Oper von Mozart")
    (kept,) = normalise([plain], venues=VENUES, categories=CATEGORIES, now=NOW).listings
    assert (kept.title, kept.description) == ("Die Zauberflöte", "Oper von Mozart")
    assert not [w for w in kept.warnings if "cut" in w or "dropped" in w]


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abcdef", 6, "abcdef"),
        ("abcdefg", 6, "abcde…"),
        ("Die Zauberflöte", 14, "Die Zauberflö…"),
        ("eins zwei drei vier", 16, "eins zwei drei…"),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
