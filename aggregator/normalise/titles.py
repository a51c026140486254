"""Titles for display and keys for matching.

:func:`display_title` keeps the source's spelling and only repairs what is plainly
typographic noise (stray whitespace, control characters, titles set in ALL CAPS).
:func:`match_key` (:func:`aggregator.text.fold_key`) is for comparing names and never shown; it and
:func:`fold_text` and :func:`clean_text` are the one folding and the one cleaner of :mod:`aggregator.text`.
"""

from __future__ import annotations

from aggregator.text import clean_text, fold_key
from aggregator.text import fold as fold_text

__all__ = ["clean_text", "display_title", "fold_text", "match_key"]

# Lower-cased inside a title that was set in capitals (never as the first word).
_SMALL_WORDS = frozenset(
    [
        "und",
        "oder",
        "der",
        "die",
        "das",
        "des",
        "dem",
        "den",
        "ein",
        "eine",
        "einer",
        "eines",
        "im",
        "in",
        "am",
        "an",
        "auf",
        "aus",
        "bei",
        "mit",
        "von",
        "vom",
        "zu",
        "zum",
        "zur",
        "für",
        "fuer",
        "über",
        "ueber",
        "unter",
        "nach",
        "vor",
        "als",
        "wie",
        "ab",
        "bis",
        "the",
        "of",
        "and",
        "or",
        "a",
        "an",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "from",
        "by",
        "la",
        "le",
        "les",
        "de",
        "du",
        "et",
    ]
)
# Kept in capitals when a title set in capitals is recased.
_ACRONYMS = frozenset(
    [
        "ARD",
        "ZDF",
        "WDR",
        "NDR",
        "SWR",
        "HR",
        "MDR",
        "BR",
        "RBB",
        "DJ",
        "DJS",
        "NRW",
        "BVB",
        "DFB",
        "DFM",
        "KJT",
        "MKK",
        "MO",
        "TU",
        "FH",
        "VHS",
        "UA",
        "USA",
        "UK",
        "EU",
        "TV",
        "CD",
        "DVD",
        "VIP",
        "AC/DC",
        "ABC",
        "XXL",
        "II",
        "III",
        "IV",
        "VI",
        "VII",
        "VIII",
        "IX",
        "XI",
        "XII",
        "DEW21",
        "SOS",
        "LGBTQ",
        "LGBTQ+",
        "BBC",
        "NYC",
    ]
)
_VOWELS = frozenset("AEIOUYÄÖÜ")


def display_title(text: str) -> str:
    """Return the title as it should be shown: trimmed, one-line, ALL-CAPS titles recased.

    A title is recased only when every cased letter is a capital and it has at least four
    letters; words with digits, known acronyms (``WDR``, ``DJ``) and short words without
    vowels (``NRW``, ``BVB``) stay in capitals, small function words become lower case.
    """
    title = clean_text(text)
    if not _is_all_caps(title):
        return title
    words = title.split(" ")
    return " ".join(_recase(word, first=index == 0) for index, word in enumerate(words))


match_key = fold_key
"""A comparison key: folded, without punctuation, single-spaced."""


def _is_all_caps(title: str) -> bool:
    """True if every cased letter (ignoring ß) is upper case and there are enough of them."""
    cased = [char for char in title if char not in "ßẞ" and (char.isupper() or char.islower())]
    return len(cased) >= 4 and all(char.isupper() for char in cased)


def _recase(word: str, *, first: bool) -> str:
    """Recase one word of an ALL-CAPS title."""
    core = word.strip("\"'„“”»«‚‘’()[]:;,.!?")
    if not core or any(char.isdigit() for char in core) or core.upper() in _ACRONYMS:
        return word
    if len(core) <= 4 and core.isalpha() and not (_VOWELS & set(core.upper())):
        return word
    lower = word.lower()
    if not first and core.lower() in _SMALL_WORDS:
        return lower
    return "-".join(_capitalise(part) for part in lower.split("-"))


def _capitalise(part: str) -> str:
    """Upper-case the first letter of ``part`` (after any leading punctuation)."""
    for index, char in enumerate(part):
        if char.isalpha():
            return part[:index] + char.upper() + part[index + 1 :]
    return part
