"""Month and weekday words as German and English venues write them: the one list of each.

:data:`MONTHS` and :data:`WEEKDAYS` are keyed by :func:`~aggregator.text.fold` form (lower case,
``märz`` → ``maerz``) without a trailing dot, so ``Mär``, ``März``, ``Maerz``, ``Dez.`` and ``Sept.``
all look up directly. :data:`MONTH_SPELLINGS` and :data:`WEEKDAY_SPELLINGS` match the same words in
unfolded text (use them with :data:`re.IGNORECASE`).
"""

from __future__ import annotations

import re

from aggregator.text import fold

_MONTH_WORDS = (
    "januar jan jänner january",
    "februar feb febr february",
    "märz mär mrz mar march",
    "april apr",
    "mai may",
    "juni jun june",
    "juli jul july",
    "august aug",
    "september sep sept",
    "oktober okt oct october",
    "november nov",
    "dezember dez dec december",
)
_WEEKDAY_WORDS = (
    "montag mo mon monday",
    "dienstag di tue tues tuesday",
    "mittwoch mi wed wednesday",
    "donnerstag do thu thur thurs thursday",
    "freitag fr fri friday",
    "samstag sonnabend sa sat saturday",
    "sonntag so sun sunday",
)

MONTHS: dict[str, int] = {
    fold(name): number for number, names in enumerate(_MONTH_WORDS, start=1) for name in names.split()
}
WEEKDAYS: dict[str, int] = {
    fold(name): number for number, names in enumerate(_WEEKDAY_WORDS) for name in names.split()
}


def _alternation(words: dict[str, int]) -> str:
    """A regex alternation of ``words``, longest first so that ``sept`` wins over ``sep``."""
    return "|".join(sorted(words, key=len, reverse=True))


def _spellings(lists: tuple[str, ...]) -> str:
    """An alternation of the words of ``lists`` as written, an umlaut also as its transliteration."""
    words = {word for names in lists for word in names.split()}
    return "|".join(re.escape(word).replace("ä", "(?:ä|ae)") for word in sorted(words, key=len, reverse=True))


MONTH_PATTERN = rf"(?:{_alternation(MONTHS)})\.?"
"""Matches a month word in folded text."""

WEEKDAY_WORDS = _alternation(WEEKDAYS)
"""An alternation of the weekday words (no groups), to build patterns from."""

WEEKDAY_PATTERN = re.compile(rf"\b(?P<weekday>{WEEKDAY_WORDS})\b\.?,?")
"""Matches a weekday word in folded text."""

MONTH_SPELLINGS = _spellings(_MONTH_WORDS)
"""An alternation (no groups) of the month words in unfolded text: ``März``, ``Maerz``, ``Dec``."""

WEEKDAY_SPELLINGS = _spellings(_WEEKDAY_WORDS)
"""An alternation (no groups) of the weekday words in unfolded text, ``Sonnabend`` and English ones too."""


def month_number(word: str) -> int:
    """The month (1–12) a folded month word stands for."""
    return MONTHS[word.rstrip(".")]
