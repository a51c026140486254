"""Tests for aggregator.matching: title rules, time rules, occurrence score, production key.

The last part runs the rules over tests/fixtures/dedupe/labelled.json (see the README there):
every pair of listings at one venue on one local date must agree with the hand labels.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.listing import Listing
from aggregator.matching.rules import (
    Evidence,
    compare_titles,
    occurrence_match_score,
    production_key,
    same_minute,
    same_production,
    same_time,
    time_known,
    title_similarity,
)
from aggregator.matching.title_analysis import analyse, read_across
from aggregator.types import BERLIN

LABELLED = Path(__file__).parent / "fixtures" / "dedupe" / "labelled.json"
FETCHED = datetime(2025, 1, 1, tzinfo=BERLIN)

# (a_title, a_subtitle, b_title, b_subtitle): the same production, worded by different sources.
SAME_PRODUCTION = {
    "case": ("Die Zauberflöte", None, "DIE ZAUBERFLÖTE", None),
    "genre-descriptor": ("Die Zauberflöte", None, "Die Zauberflöte – Oper von W. A. Mozart", None),
    "composer-prefix": ("Die Zauberflöte", None, "Mozart: Die Zauberflöte", None),
    "descriptor-vs-composer": (
        "Die Zauberflöte – Oper von W. A. Mozart",
        None,
        "Mozart: Die Zauberflöte",
        None,
    ),
    "shop-tickets-vs-descriptor": (
        "DIE ZAUBERFLÖTE - TICKETS",
        None,
        "Die Zauberflöte – Oper von W. A. Mozart",
        None,
    ),
    "jsonld-name-with-date-and-venue": (
        "5. Philharmonisches Konzert: Faszination Stadion 16.01.2024 Konzerthaus Dortmund",
        None,
        "5. Philharmonisches Konzert",
        None,
    ),
    "jsonld-name-vs-subtitle": (
        "5. Philharmonisches Konzert: Faszination Stadion 16.01.2024 Konzerthaus Dortmund",
        None,
        "5. Philharmonisches Konzert",
        "Faszination Stadion",
    ),
    "city-teaser-reordered": (
        "Faszination Stadion – 5. Philharmonisches Konzert mit Nobby Dickel",
        None,
        "5. Philharmonisches Konzert: Faszination Stadion 16.01.2024 Konzerthaus Dortmund",
        None,
    ),
    "tour-name-and-year": ("Helene Fischer – Live 2026", None, "Helene Fischer", None),
    "shop-caps-tickets": ("HELENE FISCHER - LIVE 2026 - TICKETS", None, "Helene Fischer – Live 2026", None),
    "premiere": ("Premiere: Madama Butterfly", None, "Madama Butterfly", None),
    "both-for-children": (
        "Die Zauberflöte für Kinder",
        None,
        "Zauberflöte für Kinder – Familienvorstellung",
        None,
    ),
    "both-tours": (
        "Sonntagsführung: Kunst – Leben – Kunst",
        None,
        "Öffentliche Führung „Kunst -> Leben -> Kunst“",
        None,
    ),
    "both-introductions": (
        "Einführungsmatinee Madama Butterfly",
        None,
        "Madama Butterfly – Einführungsmatinee",
        None,
    ),
    "both-rehearsals": (
        "Öffentliche Probe Madama Butterfly",
        None,
        "Öffentliche Probe: Madama Butterfly",
        None,
    ),
    "entfuehrung-is-no-tour": (
        "Die Entführung aus dem Serail",
        None,
        "DIE ENTFÜHRUNG AUS DEM SERAIL - OPER VON W. A. MOZART",
        None,
    ),
    "ordinal-word": ("Zweites Kammerkonzert der Dortmunder Philharmoniker", None, "2. Kammerkonzert", None),
    "roman-vs-arabic": ("Heimat – Teil II", None, "Heimat – Teil 2", None),
    "part-two": ("Eventkino: Dune – Teil 2", None, "Dune: Part Two", None),
    "konzertant-in-parentheses": (
        "Donizetti: La Favorite (konzertant)",
        None,
        "Gaetano Donizetti: La favorite",
        None,
    ),
    "performers-reordered": ("Lucas Jussen & Arthur Jussen", None, "LUCAS & ARTHUR JUSSEN", None),
    "umlaut-transliterated": ("Voodoo Jürgens", None, "VOODOO JUERGENS - LIVE 2023", None),
    "series-without-episode": ("Kleiner Freitag", None, "Kleiner Freitag: Queerslam", None),
    "trailing-venue-phrase": ("Queerslam im Dortmunder U", None, "Kleiner Freitag: Queerslam", None),
    "episode-in-subtitle": (
        "Kopfnoten: Impressionismus und Expressionismus – die frühe Moderne",
        None,
        "Kopfnoten – Eine kleine Geschichte der Epochen und Stile",
        "Impressionismus und Expressionismus – die frühe Moderne",
    ),
    "teaser-bridged-by-subtitle": (
        "Anne-Sophie Mutter spielt Mozart und Previn",
        None,
        "Anne-Sophie Mutter & Berliner Barock Solisten",
        "Violinkonzerte von Mozart und Previn",
    ),
    "same-prefix-longer-suffix": (
        "Paul Panzer - Apaulkalypse",
        None,
        "Paul Panzer: Apaulkalypse – Jede Reise geht einmal zu Ende",
        None,
    ),
    "day-ticket-and-city": (
        "GERMAN FILM & COMIC CON - WINTER EDITION - TAGESTICKET",
        None,
        "German Film & Comic Con Dortmund – Winter Edition 2023",
        None,
    ),
    "sponsor-name-with-digits": ("25. DEW21 Museumsnacht", None, "DEW21 Museumsnacht 2025", None),
    "typo-in-teaser": (
        "Ausstellung Expressionismus Hier uns jetzt",
        None,
        "Expressionismus hier und jetzt!",
        None,
    ),
    "age-hint": (
        "Name: Sophie Scholl – Stück von Rike Reiniger (ab 14 Jahren)",
        None,
        "NAME: SOPHIE SCHOLL",
        None,
    ),
    "both-sing-along": (
        "Eventkino: Wicked (Sing Along Version)",
        None,
        "Wicked – Sing-Along im Kino im U",
        None,
    ),
    "urauffuehrung-and-wiederaufnahme": ("ECHTE LIEBE (UA) - WIEDERAUFNAHME", None, "Echte Liebe", None),
}

# Different productions that a naive fuzzy match would merge (same venue, same day in practice).
TRAPS = {
    "young-fuer-kinder": ("Die Zauberflöte", "Die Zauberflöte für Kinder"),
    "young-kinderkonzert": ("Die Zauberflöte", "Kinderkonzert: Die Zauberflöte"),
    "young-junior": ("Die Zauberflöte", "Die Zauberflöte junior"),
    "young-familienvorstellung": ("Die Zauberflöte", "Die Zauberflöte – Familienvorstellung"),
    "intro-einfuehrung": ("Die Zauberflöte", "Einführung: Die Zauberflöte"),
    "intro-matinee": ("Madama Butterfly", "Einführungsmatinee Madama Butterfly"),
    "rehearsal-oeffentliche-probe": (
        "8. Philharmonisches Konzert",
        "Öffentliche Probe 8. Philharmonisches Konzert",
    ),
    "rehearsal-generalprobe": ("Madama Butterfly", "Generalprobe Madama Butterfly"),
    "tour-of-the-exhibition": ("Ozean-Schau", "Führung: Ozean-Schau"),
    "tour-of-the-special-exhibition": (
        "Nam June Paik: I Expose the Music",
        "Führung durch die Sonderausstellung „Nam June Paik: I Expose the Music“",
    ),
    "tour-of-an-opera-title": ("Die Entführung aus dem Serail", "Führung: Die Entführung aus dem Serail"),
    "two-different-tours": (
        "Führung „Dortmunder U – Vom Brauturm zur Kreativquelle“",
        "Öffentliche Führung „Kunst -> Leben -> Kunst“",
    ),
    "workshop": (
        "Am Tisch. Essen und Trinken in der zeitgenössischen Kunst",
        "Workshop zur Ausstellung „Am Tisch“",
    ),
    "talk-nachgespraech": ("Rent", "Nachgespräch: Rent"),
    "talk-publikumsgespraech": ("Madama Butterfly", "Publikumsgespräch zu Madama Butterfly"),
    "numbered-ordinal": ("2. Philharmonisches Konzert", "3. Philharmonisches Konzert"),
    "numbered-ordinal-real": ("7. Philharmonisches Konzert", "8. Philharmonisches Konzert"),
    "numbered-ordinal-word": ("Zweites Kammerkonzert", "3. Kammerkonzert"),
    "numbered-teil": ("Eventkino: Dune – Teil 1", "Eventkino: Dune – Teil 2"),
    "numbered-roman": ("Beethoven NOW I", "Beethoven NOW II"),
    "numbered-roman-vs-arabic": ("Beethoven NOW I", "Beethoven-NOW-Festival: Konzert 2"),
    "numbered-vol": ("Poetry Slam Vol. 1", "Poetry Slam Vol. 2"),
    "numbered-year": ("DEW21 Museumsnacht 2024", "DEW21 Museumsnacht 2025"),
    "festival-evenings": ("Klangvokal Festival: Eröffnungskonzert", "Klangvokal Festival: Abschlusskonzert"),
    "festival-evenings-jazz": ("Jazz im Konzerthaus: Trio X", "Jazz im Konzerthaus: Quartett Y"),
    "series-evenings": ("Kleiner Freitag: Queerslam", "Kleiner Freitag: Bier – die Graphic Novel"),
    "series-evenings-cityring": ("Cityring-Konzerte: Operngala", "Cityring-Konzerte: Musicalgala"),
    "series-evenings-sommer-am-u": ("Sommer am U: DJ Eike Galle", "Sommer am U: Poetry Slam"),
    "same-composer-other-opera": ("Gaetano Donizetti: La favorite", "Gaetano Donizetti: Don Pasquale"),
    "addon-parkticket": ("Helene Fischer", "PARKTICKET HELENE FISCHER"),
    "addon-vip": ("Helene Fischer – Live 2026", "VIP-Paket Helene Fischer – Live 2026"),
    "sing-along-screening": ("Eventkino: Wicked", "Eventkino: Wicked (Sing Along Version)"),
    "opening-of-the-day": (
        "Tag des offenen Denkmals im Dortmunder U",
        "Tag des offenen Denkmals 2024: Eröffnungsveranstaltung",
    ),
    "vernissage": ("Am Tisch", "Vernissage: Am Tisch"),
    "only-a-generic-word-shared": ("8. Philharmonisches Konzert", "Konzert"),
    "only-stopwords-shared": ("Die Zauberflöte", "Die Fledermaus"),
}


@pytest.mark.parametrize(("a", "a_sub", "b", "b_sub"), SAME_PRODUCTION.values(), ids=SAME_PRODUCTION.keys())
def test_same_production_across_wordings(a: str, a_sub: str | None, b: str, b_sub: str | None) -> None:
    assert same_production(a, b, a_subtitle=a_sub, b_subtitle=b_sub)


@pytest.mark.parametrize(("a", "a_sub", "b", "b_sub"), SAME_PRODUCTION.values(), ids=SAME_PRODUCTION.keys())
def test_same_production_is_symmetric(a: str, a_sub: str | None, b: str, b_sub: str | None) -> None:
    assert same_production(b, a, a_subtitle=b_sub, b_subtitle=a_sub)


@pytest.mark.parametrize(("a", "b"), TRAPS.values(), ids=TRAPS.keys())
def test_trap_is_a_different_production(a: str, b: str) -> None:
    assert not same_production(a, b)


@pytest.mark.parametrize(("a", "b"), TRAPS.values(), ids=TRAPS.keys())
def test_trap_is_a_different_production_either_way_round(a: str, b: str) -> None:
    assert not same_production(b, a)


def test_subtitle_does_not_split_equal_titles() -> None:
    assert same_production(
        "8. Philharmonisches Konzert",
        "8. Philharmonisches Konzert",
        a_subtitle="Mit Werken von Ravel, Yoshimatsu und Mozart",
        b_subtitle="Okisawa dirigiert",
    )


def test_threshold_is_applied() -> None:
    a, b = "Voodoo Jürgens", "VOODOO JURGENS"
    assert same_production(a, b) and not same_production(a, b, threshold=99.0)


@pytest.mark.parametrize(
    ("a", "b", "rule"),
    [
        ("Die Zauberflöte", "Die Zauberflöte für Kinder", "qualifiers"),
        ("2. Philharmonisches Konzert", "3. Philharmonisches Konzert", "numbers"),
        ("Kleiner Freitag: Queerslam", "Kleiner Freitag: Bier – die Graphic Novel", "prefix"),
        ("Igor Levit spielt Beethoven", "Igor Levit: Beethoven-Sonaten", None),
    ],
)
def test_compare_titles_names_the_rule_that_said_no_and_agrees_with_same_production(
    a: str, b: str, rule: str | None
) -> None:
    verdict = compare_titles(a, b)
    assert (verdict.same, verdict.rule) == (False, rule)
    assert verdict.same == same_production(a, b)


def test_compare_titles_scores_a_near_miss_below_the_threshold_and_a_match_above() -> None:
    near, match = (
        compare_titles("Igor Levit spielt Beethoven", "Igor Levit: Beethoven-Sonaten"),
        compare_titles("Schwanensee", "Schwanensee – Ballett"),
    )
    assert 68.0 <= near.score < 88.0 and not near.same
    assert (match.score, match.same, match.rule) == (100.0, True, None)


def test_title_similarity_ignores_case_diacritics_and_punctuation() -> None:
    assert (
        title_similarity("Die Zauberflöte!", "die zauberfloete")
        == title_similarity("Lumières!", "lumieres")
        == 100.0
    )


def test_title_similarity_is_perfect_for_a_transliteration() -> None:
    assert title_similarity("Die Zauberflöte", "DIE ZAUBERFLOETE") == 100.0


def test_title_similarity_is_high_but_not_perfect_for_a_dropped_umlaut() -> None:
    assert 88.0 <= title_similarity("Die Zauberflöte", "DIE ZAUBERFLOTE") < 100.0


def test_title_similarity_is_low_for_unrelated_titles() -> None:
    assert title_similarity("Schwanensee", "Ein Mittsommernachtstraum") < 50.0


def test_title_similarity_does_not_reward_a_shared_generic_word() -> None:
    assert title_similarity("Konzert", "8. Philharmonisches Konzert") < 60.0


# ---------------------------------------------------------------- evidence in one slot

# (a_title, a_subtitle, b_title, b_subtitle, evidence): the same performance, told apart by title likeness
# alone, merged on the evidence the slot allows (same venue and hall, day and start minute).
SAME_SLOT = {
    "performer-teaser": ("Igor Levit spielt Beethoven", None, "Igor Levit: Beethoven-Sonaten", None, "names"),
    "performer-teaser-two-names-covered": (
        "Peter und der Wolf – Axel Milberg liest",
        None,
        "Peter und der Wolf – für Erwachsene erzählt von Axel Milberg",
        None,
        "work",
    ),
    "performer-and-partner": (
        "Anne-Sophie Mutter spielt Mozart und Previn",
        None,
        "ANNE-SOPHIE MUTTER & BERLINER BAROCK SOLISTEN - TICKETS",
        None,
        "names",
    ),
    "english-work-and-konzertant": (
        "The Magic Flute (concert performance)",
        None,
        "Die Zauberflöte (konzertant)",
        None,
        "translation",
    ),
    "english-numbered-motto": (
        "6th Philharmonic Concert: Powers of Fate",
        None,
        "6. Philharmonisches Konzert: Schicksalsmächte",
        None,
        "number",
    ),
    "ordinal-word-and-orchestra-first": (
        "Sechstes Philharmonisches Konzert: Schicksalsmächte",
        None,
        "DORTMUNDER PHILHARMONIKER - 6. PHILHARMONISCHES KONZERT - TICKETS",
        None,
        "number",
    ),
    "transliteration": ("Tchaikovsky: Swan Lake", None, "Tschaikowsky: Schwanensee", None, "translation"),
    "transliterated-composer-english-work": (
        "Stravinsky: The Rite of Spring",
        None,
        "Strawinsky: Le Sacre du printemps",
        None,
        "translation",
    ),
    "known-work-as-prefix": (
        "Verklärte Nacht – Ein Abend für sechs Streicher",
        None,
        "Verklärte Nacht – Sextett-Abend mit Werken von Brahms, Schönberg und Grädener",
        None,
        "work",
    ),
    "english-family-concert": (
        "Peter and the Wolf – Family Concert",
        None,
        "Peter und der Wolf – Familienkonzert",
        None,
        "translation",
    ),
    "english-piano-recital": (
        "Igor Levit – Piano Recital: Beethoven's Last Three Sonatas",
        None,
        "Klavierabend Igor Levit: Beethoven, Die letzten drei Sonaten",
        None,
        "names",
    ),
    "names-in-the-subtitle": (
        "Tschaikowsky: Pathétique – WDR Sinfonieorchester",
        None,
        "Tschaikowsky: Sinfonie Nr. 6 „Pathétique“",
        "WDR Sinfonieorchester · Cristian Măcelaru",
        "names",
    ),
}

# (a_title, b_title): different events even in one slot. Each is what one of the rules above must NOT merge.
SLOT_TRAPS = {
    "names-two-halls-one-complex": ("Tribute to Hans Zimmer", "THE MUSIC OF HANS ZIMMER & OTHERS - TICKETS"),
    "names-only-in-the-series-prefix": (
        "Kleiner Freitag: Queerslam",
        "Kleiner Freitag: Bier – die Graphic Novel",
    ),
    "names-series-prefix-sommer": ("Sommer am U: DJ Eike Galle", "Sommer am U: Poetry Slam"),
    "names-one-festival-two-artists": (
        "Jazzfestival Dortmund: Nils Wogram",
        "Jazzfestival Dortmund: Michael Wollny",
    ),
    "names-same-composer-other-opera": ("Gaetano Donizetti: La favorite", "Gaetano Donizetti: Don Pasquale"),
    "names-talk-with-the-performer": ("Igor Levit im Gespräch", "Klavierabend Igor Levit"),
    "translation-children-version": ("The Magic Flute for Children", "Die Zauberflöte"),
    "translation-introduction": ("Introduction: The Magic Flute", "Die Zauberflöte"),
    "translation-guided-tour": (
        "Guided Tour: Nam June Paik – I Expose the Music",
        "Nam June Paik: I Expose the Music",
    ),
    "work-family-and-evening": (
        "Peter and the Wolf – Family Concert",
        "Peter und der Wolf – Axel Milberg liest",
    ),
    "work-rehearsal": ("Open Rehearsal: Swan Lake", "Schwanensee"),
    "number-other-number": (
        "6th Philharmonic Concert: Powers of Fate",
        "5. Philharmonisches Konzert: Schicksalsmächte",
    ),
    "number-roman-ordinal": ("V. Philharmonisches Konzert", "6. Philharmonisches Konzert"),
    "number-english-ordinal-word": ("Fourth Chamber Concert", "3. Kammerkonzert"),
    "number-without-a-series-word": ("Eventkino: Dune – Teil 2", "Eventkino: Wicked – Teil 2"),
    "number-other-year": ("DEW21 Museum Night 2024", "DEW21 Museumsnacht 2025"),
    "nothing-but-the-slot": (
        "„Das ‚U’ als Zeitzeuge“",
        "Tag des offenen Denkmals 2024: Eröffnungsveranstaltung",
    ),
    "two-tours-at-one-time": (
        "Führung „Dortmunder U – Vom Brauturm zur Kreativquelle“",
        "Öffentliche Führung „Kunst -> Leben -> Kunst“",
    ),
}


@pytest.mark.parametrize(("a", "a_sub", "b", "b_sub", "evidence"), SAME_SLOT.values(), ids=SAME_SLOT.keys())
def test_one_slot_merges_on_the_evidence_named(
    a: str, a_sub: str | None, b: str, b_sub: str | None, evidence: str
) -> None:
    verdict = compare_titles(a, b, a_subtitle=a_sub, b_subtitle=b_sub, same_slot=True)
    kinds = [item.kind for item in verdict.evidence_for]
    assert verdict.same and kinds[0] == "slot" and evidence in kinds


@pytest.mark.parametrize(("a", "a_sub", "b", "b_sub", "evidence"), SAME_SLOT.values(), ids=SAME_SLOT.keys())
def test_one_slot_evidence_is_symmetric(
    a: str, a_sub: str | None, b: str, b_sub: str | None, evidence: str
) -> None:
    assert compare_titles(b, a, a_subtitle=b_sub, b_subtitle=a_sub, same_slot=True).same


@pytest.mark.parametrize(("a", "a_sub", "b", "b_sub", "evidence"), SAME_SLOT.values(), ids=SAME_SLOT.keys())
def test_slot_evidence_needs_the_slot(
    a: str, a_sub: str | None, b: str, b_sub: str | None, evidence: str
) -> None:
    verdict = compare_titles(a, b, a_subtitle=a_sub, b_subtitle=b_sub)
    assert not verdict.same and not verdict.evidence_for


@pytest.mark.parametrize(("a", "b"), SLOT_TRAPS.values(), ids=SLOT_TRAPS.keys())
def test_one_slot_keeps_the_trap_apart(a: str, b: str) -> None:
    assert not compare_titles(a, b, same_slot=True).same
    assert not compare_titles(b, a, same_slot=True).same


def test_a_near_miss_in_one_slot_says_what_spoke_for_and_against() -> None:
    verdict = compare_titles(
        "Tribute to Hans Zimmer", "THE MUSIC OF HANS ZIMMER & OTHERS - TICKETS", same_slot=True
    )
    assert (verdict.same, verdict.evidence_for, verdict.evidence_against) == (
        False,
        (Evidence("slot"), Evidence("names", "hans zimmer")),
        (Evidence("low_score", "73"), Evidence("other_names", "tribute / others")),
    )


def test_a_hard_rule_in_one_slot_names_the_rule_and_its_sides() -> None:
    verdict = compare_titles(
        "Peter and the Wolf – Family Concert", "Peter und der Wolf – Axel Milberg liest", same_slot=True
    )
    assert (verdict.rule, verdict.evidence_against) == ("qualifiers", (Evidence("qualifiers", "young / –"),))


@pytest.mark.parametrize(
    ("title", "numbers"),
    [
        ("5th Philharmonic Concert", {5}),
        ("Fifth Chamber Concert", {5}),
        ("V. Philharmonisches Konzert", {5}),
        ("XII. Sinfoniekonzert", {12}),
        ("Die Zauberflöte – Oper von W. A. Mozart", set()),
        ("Beethoven NOW I", {1}),
        ("DEW21 Museumsnacht", set()),
    ],
)
def test_ordinals_are_read_as_numbers(title: str, numbers: set[int]) -> None:
    assert analyse(title).numbers == numbers


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Peter and the Wolf – Family Concert", "Peter and the Wolf"),
        ("The Magic Flute for Children", "The Magic Flute"),
        ("Guided Tour: Nam June Paik", "Nam June Paik"),
        ("Introduction: The Magic Flute", "The Magic Flute"),
        ("Swan Lake – Open Rehearsal", "Swan Lake"),
    ],
)
def test_english_qualifiers_keep_titles_apart_in_any_slot(a: str, b: str) -> None:
    assert not same_production(a, b) and not same_production(b, a)


@pytest.mark.parametrize(
    ("title", "tokens", "works"),
    [
        ("The Magic Flute (concert performance)", ("zauberfloete",), {"zauberfloete"}),
        ("Tchaikovsky: Swan Lake at Dortmund Concert Hall", ("tschaikowsky", "schwanensee"), {"schwanensee"}),
        ("6th Philharmonic Concert", ("6", "philharmonisches", "konzert"), set()),
        (
            "Children's Concert: Carnival of the Animals",
            ("kinderkonzert", "karneval", "tiere"),
            {"karneval tiere"},
        ),
    ],
)
def test_read_across_gives_the_german_reading(title: str, tokens: tuple[str, ...], works: set[str]) -> None:
    read = read_across(title)
    assert (read.tokens, set(read.works)) == (tokens, works)


def test_names_are_words_no_list_knows() -> None:
    assert read_across("Igor Levit spielt Beethoven: Die letzten drei Sonaten im Konzert").names == {
        "igor",
        "levit",
        "beethoven",
        "letzten",
    }


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2023-12-02T19:30+01:00", "2023-12-02T19:30:40+01:00", True),
        ("2023-12-02T19:30+01:00", "2023-12-02T18:30+00:00", True),
        ("2023-12-02T19:30+01:00", "2023-12-02T19:31+01:00", False),
    ],
)
def test_same_minute_of_two_timed_starts(a: str, b: str, expected: bool) -> None:
    assert same_minute(_at(a), _at(b)) is expected


def test_same_minute_of_untimed_starts_is_the_day_and_never_a_timed_start() -> None:
    day, evening = _at("2023-12-02T00:00+01:00"), _at("2023-12-02T19:30+01:00")
    assert [
        same_minute(day, _at("2023-12-02T10:00+01:00"), a_timed=False, b_timed=False),
        same_minute(day, evening, a_timed=False),
        same_minute(day, _at("2023-12-03T00:00+01:00"), a_timed=False, b_timed=False),
    ] == [True, False, False]


# ---------------------------------------------------------------- same_time


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "expected"),
    [
        ("2023-12-02T19:30+01:00", "2023-12-02T19:30+01:00", {}, True),
        ("2023-12-02T19:30+01:00", "2023-12-02T18:30+00:00", {}, True),
        ("2023-12-02T19:30+01:00", "2023-12-02T19:50+01:00", {}, True),
        ("2023-12-02T19:30+01:00", "2023-12-02T19:51+01:00", {}, False),
        ("2023-12-02T19:30+01:00", "2023-12-02T20:00+01:00", {"tolerance_minutes": 30}, True),
        ("2023-12-02T18:45+01:00", "2023-12-02T19:30+01:00", {}, False),
        ("2023-12-02T00:00+01:00", "2023-12-02T19:30+01:00", {"a_all_day": True}, True),
        ("2023-12-02T19:30+01:00", "2023-12-03T00:00+01:00", {"b_all_day": True}, False),
        ("2023-12-02T00:00+01:00", "2023-12-02T23:30+01:00", {"a_all_day": True}, True),
        ("2023-12-02T00:00+01:00", "2023-12-02T22:30+00:00", {"a_all_day": True}, True),
        ("2023-12-02T00:00+01:00", "2023-12-02T23:30+00:00", {"a_all_day": True}, False),
        ("2023-12-16T00:00+01:00", "2023-12-16T19:30+01:00", {"a_time_known": False}, True),
        ("2023-12-16T00:00+01:00", "2023-12-17T19:30+01:00", {"a_time_known": False}, False),
        ("2023-12-16T00:00+01:00", "2023-12-16T19:30+01:00", {}, False),
        ("2023-12-02T19:30", "2023-12-02T19:30+01:00", {}, True),
        ("2024-03-31T03:00+02:00", "2024-03-31T01:00+00:00", {}, True),
    ],
    ids=[
        "equal",
        "equal-instant-other-offset",
        "within-tolerance",
        "just-outside-tolerance",
        "custom-tolerance",
        "introduction-45-minutes-before",
        "all-day-same-date",
        "all-day-next-date",
        "all-day-late-evening",
        "all-day-utc-other-date-berlin-same",
        "all-day-utc-same-date-berlin-next",
        "time-unknown-same-date",
        "time-unknown-other-date",
        "midnight-taken-literally-without-flag",
        "naive-is-berlin",
        "dst-switch",
    ],
)
def test_same_time(a: str, b: str, kwargs: dict[str, Any], expected: bool) -> None:
    assert same_time(_at(a), _at(b), **kwargs) is expected


@pytest.mark.parametrize(
    ("start", "time_text", "known"),
    [
        ("2023-12-16T19:30+01:00", None, True),
        ("2023-12-16T00:00+01:00", None, False),
        ("2023-12-16T00:00+01:00", "0 Uhr", True),
        ("2023-12-15T23:00+00:00", None, False),
    ],
)
def test_time_known(start: str, time_text: str | None, known: bool) -> None:
    # dedupe blocks occurrences by start slot only when the time is known (a Berlin midnight is not)
    assert time_known(_at(start), time_text) is known


# ---------------------------------------------------------------- occurrence_match_score


def _listing(title: str, start: str, **fields: Any) -> Listing:
    fields.setdefault("venue_slug", "opernhaus")
    return Listing(source=fields.pop("source", "a"), record_id=title, title=title, fetched_at=FETCHED,
                   start=_at(start), **fields)  # fmt: skip


def test_occurrence_matches_across_wordings() -> None:
    a = _listing("Die Zauberflöte", "2023-12-02T19:30+01:00")
    b = _listing("MOZART: DIE ZAUBERFLÖTE", "2023-12-02T19:30+01:00")
    assert occurrence_match_score(a, b) is not None


def test_occurrence_needs_a_start() -> None:
    a = _listing("Die Zauberflöte", "2023-12-02T19:30+01:00")
    assert occurrence_match_score(a, a.evolve(start=None)) is None


def test_occurrence_rejects_other_venue() -> None:
    a = _listing("Die Zauberflöte", "2023-12-02T19:30+01:00")
    assert occurrence_match_score(a, a.evolve(venue_slug="konzerthaus")) is None


def test_occurrence_accepts_unknown_venue_slug() -> None:
    a = _listing("Die Zauberflöte", "2023-12-02T19:30+01:00")
    assert occurrence_match_score(a, a.evolve(venue_slug=None)) is not None


@pytest.mark.parametrize(
    ("a_room", "b_room", "compatible"),
    [
        ("Halle 1", "Westfalenhalle 1", True),
        ("Halle 1", "Halle 3A", False),
        ("Großer Saal", "Saal", True),
        ("Opernhaus", "Opernfoyer", False),
        ("Ebene 4", "Ebene 5", False),
        (None, "Opernfoyer", True),
    ],
)
def test_occurrence_rooms(a_room: str | None, b_room: str | None, compatible: bool) -> None:
    a = _listing("Night of the Proms", "2023-12-02T20:00+01:00", room=a_room)
    b = _listing("NIGHT OF THE PROMS 2023", "2023-12-02T20:00+01:00", room=b_room)
    assert (occurrence_match_score(a, b) is not None) is compatible


def test_occurrence_rejects_other_time() -> None:
    a = _listing("Die Zauberflöte", "2023-12-10T11:00+01:00")
    assert occurrence_match_score(a, a.evolve(start=_at("2023-12-10T18:00+01:00"))) is None


def test_occurrence_passes_tolerance_and_threshold_on() -> None:
    a = _listing("Voodoo Jürgens", "2023-12-20T20:00+01:00")
    b = _listing("VOODOO JURGENS - LIVE 2023", "2023-12-20T20:30+01:00")
    assert [
        occurrence_match_score(a, b) is None,
        occurrence_match_score(a, b, tolerance_minutes=30) is None,
        occurrence_match_score(a, b, tolerance_minutes=30, threshold=99.0) is None,
    ] == [True, False, True]


def test_occurrence_rejects_trap_at_same_time() -> None:
    a = _listing("Die Zauberflöte", "2023-12-10T11:00+01:00")
    assert occurrence_match_score(a, a.evolve(title="Die Zauberflöte für Kinder")) is None


def test_occurrence_date_only_listing_matches_the_timed_one() -> None:
    dated = _listing("Die Zauberflöte – Oper von W. A. Mozart", "2023-12-16T00:00+01:00")
    timed = _listing("Die Zauberflöte", "2023-12-16T19:30+01:00")
    assert occurrence_match_score(dated, timed) is not None


def test_occurrence_midnight_with_time_text_is_a_real_midnight() -> None:
    midnight = _listing("Die Zauberflöte", "2023-12-16T00:00+01:00", time_text="00:00 Uhr")
    timed = _listing("Die Zauberflöte", "2023-12-16T19:30+01:00")
    assert occurrence_match_score(midnight, timed) is None


def test_occurrence_all_day_matches_timed() -> None:
    day = _listing("Expressionismus hier und jetzt!", "2023-11-29T00:00+01:00", all_day=True)
    timed = _listing("Expressionismus hier und jetzt!", "2023-11-29T11:00+01:00")
    assert occurrence_match_score(day, timed) is not None


def test_occurrence_score_prefers_the_closer_start() -> None:
    a = _listing("Rent", "2023-12-01T19:30+01:00")
    near = _listing("RENT - DAS MUSICAL", "2023-12-01T19:30+01:00")
    far = _listing("RENT - DAS MUSICAL", "2023-12-01T19:45+01:00")
    near_score, far_score = occurrence_match_score(a, near), occurrence_match_score(a, far)
    assert near_score is not None and far_score is not None and near_score > far_score


def test_occurrence_score_prefers_the_closer_title() -> None:
    a = _listing("Verklärte Nacht – Ein Abend für sechs Streicher", "2024-12-04T19:30+01:00")
    exact = _listing("Verklärte Nacht – Ein Abend für sechs Streicher", "2024-12-04T19:30+01:00")
    looser = _listing("Verklärte Nacht – Ein Abend für Streicher", "2024-12-04T19:30+01:00")
    exact_score, looser_score = occurrence_match_score(a, exact), occurrence_match_score(a, looser)
    assert exact_score is not None and looser_score is not None and exact_score > looser_score


# ---------------------------------------------------------------- production_key


def test_production_key_ignores_appended_date_and_venue() -> None:
    day_one = _listing(
        "5. Philharmonisches Konzert 16.01.2024 Konzerthaus Dortmund", "2024-01-16T19:30+01:00"
    )
    day_two = _listing(
        "5. Philharmonisches Konzert 17.01.2024 Konzerthaus Dortmund", "2024-01-17T19:30+01:00"
    )
    assert production_key(day_one) == production_key(day_two)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("7. Philharmonisches Konzert", "8. Philharmonisches Konzert"),
        ("Die Zauberflöte", "Die Zauberflöte für Kinder"),
        ("Helene Fischer – Live 2017", "Helene Fischer – Live 2012"),
    ],
)
def test_production_key_keeps_numbers_qualifiers_and_years(a: str, b: str) -> None:
    start = "2024-01-16T19:30+01:00"
    assert production_key(_listing(a, start)) != production_key(_listing(b, start))


def test_production_key_includes_the_venue() -> None:
    start = "2023-12-02T19:30+01:00"
    assert production_key(_listing("Rent", start)) != production_key(
        _listing("Rent", start, venue_slug="konzerthaus")
    )


def test_production_key_falls_back_to_the_venue_name() -> None:
    listing = _listing("Rent", "2023-12-02T19:30+01:00", venue_slug=None, venue_name="Opernhaus Dortmund")
    assert production_key(listing) == "opernhaus dortmund|rent"


# ---------------------------------------------------------------- the labelled set


@pytest.fixture(scope="module")
def labelled() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LABELLED.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def listings(labelled: dict[str, Any]) -> list[tuple[dict[str, Any], Listing]]:
    group = {name: slug for slug, names in labelled["venue_groups"].items() for name in names}
    return [
        (
            item,
            Listing(
                source=item["source"],
                record_id=item["record_id"],
                title=item["title"],
                subtitle=item.get("subtitle"),
                fetched_at=FETCHED,
                start=_at(item["start"]),
                end=_at(item["end"]) if "end" in item else None,
                all_day=item.get("all_day", False),
                venue_name=item["venue_name"],
                venue_slug=group[item["venue_name"]],
                room=item.get("room"),
                series_key=item.get("series_key"),
                categories=item.get("categories", []),
            ),
        )
        for item in labelled["listings"]
    ]


@pytest.fixture(scope="module")
def same_day_pairs(
    listings: list[tuple[dict[str, Any], Listing]],
) -> list[tuple[dict[str, Any], Listing, dict[str, Any], Listing]]:
    """Every pair of listings at one venue group on one Berlin date."""
    pairs = []
    for (a_item, a), (b_item, b) in itertools.combinations(listings, 2):
        assert a.start is not None and b.start is not None
        if (
            a.venue_slug == b.venue_slug
            and a.start.astimezone(BERLIN).date() == b.start.astimezone(BERLIN).date()
        ):
            pairs.append((a_item, a, b_item, b))
    return pairs


def test_labelled_set_is_large_and_varied(listings: list[tuple[dict[str, Any], Listing]]) -> None:
    sources = {listing.source for _, listing in listings}
    productions = defaultdict(set)
    for item, listing in listings:
        productions[item["truth"]].add(listing.start)
    assert (
        len(listings) >= 180 and len(sources) >= 4 and max(len(dates) for dates in productions.values()) >= 10
    )


def test_labelled_records_are_unique_and_zoned(listings: list[tuple[dict[str, Any], Listing]]) -> None:
    keys = [(listing.source, listing.record_id) for _, listing in listings]
    assert len(keys) == len(set(keys)) and all(
        listing.start is not None and listing.start.utcoffset() is not None for _, listing in listings
    )


def test_labelled_set_has_every_trap_kind(listings: list[tuple[dict[str, Any], Listing]]) -> None:
    kinds = {item["trap"] for item, _ in listings if "trap" in item}
    assert kinds >= {
        "young",
        "intro",
        "rehearsal",
        "tour",
        "workshop",
        "talk",
        "numbered",
        "series_prefix",
        "addon",
        "two_venues",
        "two_halls",
    }


def _agreement(results: list[tuple[bool, bool, str]]) -> tuple[float, list[str]]:
    wrong = [label for got, want, label in results if got != want]
    return 1 - len(wrong) / len(results), wrong


def _production_results(
    pairs: list[tuple[dict[str, Any], Listing, dict[str, Any], Listing]], *, traps_only: bool
) -> list[tuple[bool, bool, str]]:
    results = []
    for a_item, a, b_item, b in pairs:
        if a.title == b.title:
            continue
        want = a_item["truth"] == b_item["truth"]
        if traps_only and (want or not ("trap" in a_item or "trap" in b_item)):
            continue
        got = compare_titles(
            a.title, b.title, a_subtitle=a.subtitle, b_subtitle=b.subtitle, same_slot=_one_slot(a, b)
        ).same
        results.append((got, want, f"{a.title!r} / {b.title!r}: labelled {want}, got {got}"))
    return results


def _one_slot(a: Listing, b: Listing) -> bool:
    """Whether two listings of one venue and day start at the same minute, as the dedupe engine asks."""
    assert a.start is not None and b.start is not None
    return same_minute(
        a.start,
        b.start,
        a_timed=not a.all_day and time_known(a.start, a.time_text),
        b_timed=not b.all_day and time_known(b.start, b.time_text),
    )


def test_labelled_productions_traps_all_kept_apart(
    same_day_pairs: list[tuple[dict[str, Any], Listing, dict[str, Any], Listing]],
) -> None:
    results = _production_results(same_day_pairs, traps_only=True)
    accuracy, wrong = _agreement(results)
    print(f"\nsame_production on {len(results)} trap pairs: accuracy {accuracy:.2%}")
    assert len(results) >= 20 and not wrong, wrong


def test_labelled_productions_agree_overall(
    same_day_pairs: list[tuple[dict[str, Any], Listing, dict[str, Any], Listing]],
) -> None:
    results = _production_results(same_day_pairs, traps_only=False)
    accuracy, wrong = _agreement(results)
    print(f"\nsame_production on {len(results)} same-venue same-day pairs: {accuracy:.2%}; wrong: {wrong}")
    assert len(results) >= 300 and accuracy >= 0.99, (accuracy, wrong)


def _occurrence_results(
    pairs: list[tuple[dict[str, Any], Listing, dict[str, Any], Listing]], *, traps_only: bool
) -> list[tuple[bool, bool, str]]:
    results = []
    for a_item, a, b_item, b in pairs:
        if a.source == b.source:
            continue
        want = a_item["truth_occurrence"] == b_item["truth_occurrence"]
        if traps_only and (want or not ("trap" in a_item or "trap" in b_item)):
            continue
        got = occurrence_match_score(a, b) is not None
        results.append(
            (got, want, f"{a.source}:{a.title!r} / {b.source}:{b.title!r} on {a.start}: labelled {want}")
        )
    return results


def test_labelled_occurrences_traps_never_merge(
    same_day_pairs: list[tuple[dict[str, Any], Listing, dict[str, Any], Listing]],
) -> None:
    results = _occurrence_results(same_day_pairs, traps_only=True)
    accuracy, wrong = _agreement(results)
    print(f"\noccurrence_match_score on {len(results)} cross-source trap pairs: accuracy {accuracy:.2%}")
    assert len(results) >= 10 and not wrong, wrong


def test_labelled_occurrences_agree_overall(
    same_day_pairs: list[tuple[dict[str, Any], Listing, dict[str, Any], Listing]],
) -> None:
    results = _occurrence_results(same_day_pairs, traps_only=False)
    accuracy, wrong = _agreement(results)
    print(f"\noccurrence_match_score on {len(results)} cross-source pairs: {accuracy:.2%}; wrong: {wrong}")
    assert len(results) >= 300 and accuracy >= 0.99, (accuracy, wrong)


def test_labelled_production_key_groups_like_the_labels(
    listings: list[tuple[dict[str, Any], Listing]],
) -> None:
    """Within one source and without a series_key: same key exactly when the same labelled production."""
    by_key: dict[tuple[str, str], set[str]] = defaultdict(set)
    by_truth: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item, listing in listings:
        if listing.series_key:
            continue
        key = production_key(listing)
        by_key[(listing.source, key)].add(item["truth"])
        by_truth[(listing.source, item["truth"])].add(key)
    merged = {key: truths for key, truths in by_key.items() if len(truths) > 1}
    split = {truth: keys for truth, keys in by_truth.items() if len(keys) > 1}
    assert len(by_key) >= 50 and not merged and not split, (merged, split)
