"""One folding and one cleaner: dedupe tokens, category keys and venue keys meet on every spelling."""

from __future__ import annotations

import pytest

from aggregator.matching import words
from aggregator.matching.rules import same_production
from aggregator.matching.title_analysis import analyse
from aggregator.normalise.categories import load_categories
from aggregator.normalise.datewords import MONTHS, WEEKDAYS
from aggregator.normalise.venues import load_venues
from aggregator.text import clean_text, fold_key, has_control_characters

SPELLINGS = [("Zauberfloete", "Zauberflöte"), ("Strasse", "Straße"), ("ZAUBERFLÖTE", "zauberfloete")]


@pytest.mark.parametrize(("left", "right"), SPELLINGS)
def test_both_spellings_are_one_dedupe_token(left: str, right: str) -> None:
    assert analyse(left).tokens == analyse(right).tokens


@pytest.mark.parametrize(("left", "right"), SPELLINGS)
def test_both_spellings_are_one_production(left: str, right: str) -> None:
    assert same_production(f"Die {left}", f"Die {right}")


@pytest.mark.parametrize(("left", "right"), SPELLINGS)
def test_both_spellings_are_one_key(left: str, right: str) -> None:
    assert fold_key(left) == fold_key(right)


@pytest.mark.parametrize(
    ("left", "right"), [("Zeitgenössisches Werk", "Zeitgenoessisches Werk"), ("Führung", "Fuehrung")]
)
def test_both_spellings_are_one_category_key(left: str, right: str) -> None:
    vocabulary = load_categories()
    assert vocabulary.map([left]) == vocabulary.map([right]) != []


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("Philharmonie für Westfalen", None),
        ("Philharmonie fuer Westfalen", None),
        (None, "Brückstraße 21, 44135 Dortmund"),
        (None, "Brueckstrasse 21, 44135 Dortmund"),
    ],
)
def test_both_spellings_are_one_venue_key(name: str | None, address: str | None) -> None:
    found = load_venues().resolve(name, address)
    assert (found.venue.slug, found.known) == ("konzerthaus-dortmund", True)


def test_month_and_weekday_words_are_in_folded_form_and_include_sonnabend_and_english() -> None:
    assert (MONTHS[fold_key("März")], MONTHS["march"], WEEKDAYS["sonnabend"], WEEKDAYS["saturday"]) == (
        3,
        3,
        5,
        5,
    )
    assert all(fold_key(word) == word for word in (*MONTHS, *WEEKDAYS))


@pytest.mark.parametrize(
    "title", ["Sonnabend, 5. März 2026 Die Zauberflöte", "Die Zauberflöte Sat 5. March 2026"]
)
def test_matching_cuts_dates_with_every_weekday_and_month_word(title: str) -> None:
    assert analyse(title).tokens == ("die", "zauberfloete")


def test_matching_word_lists_are_in_folded_form() -> None:
    lists = (
        words.NOISE_WORDS,
        words.VENUE_WORDS,
        words.GENRE_WORDS,
        words.GENERIC_WORDS,
        words.STOPWORDS,
        words.SERIES_WORDS,
        words.ORDINAL_WORDS,
        words.CARDINAL_WORDS,
        words.NOT_A_TOUR_PREFIXES,
        words.LOCATIVE_WORDS,
    )
    assert [word for words in lists for word in words if fold_key(word) != word] == []


@pytest.mark.parametrize(
    ("title", "qualifier"),
    [
        ("Führung für Kinder", "young"),
        ("Fuehrung fuer Kinder", "young"),
        ("Werkeinführung", "intro"),
        ("Öffentliche Probe", "rehearsal"),
    ],
)
def test_qualifiers_read_both_spellings(title: str, qualifier: str) -> None:
    assert qualifier in analyse(title).qualifiers


@pytest.mark.parametrize(
    ("raw", "line", "block"),
    [
        ("a\x00b", "ab", "ab"),
        ("a\x85b\u2028c", "a b c", "a\x85b\u2028c".replace("\x85", "")),
        ("Zauber\u200bflöte\ufeff", "Zauber flöte", "Zauber\u200bflöte\ufeff"),
        ("a\r\n\tb\ud800", "a b", "a\n\tb"),
    ],
)
def test_one_cleaner(raw: str, line: str, block: str) -> None:
    assert (clean_text(raw), clean_text(raw, lines=True)) == (line, block)


@pytest.mark.parametrize(
    ("text", "found"), [("ok", False), ("a\x7fb", True), ("a\x9bb", True), ("a\tb", True)]
)
def test_control_characters_are_found(text: str, found: bool) -> None:
    assert has_control_characters(text) is found
