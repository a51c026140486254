"""Month and weekday words as German and English venues write them, keyed by match form.

Keys are in :func:`~aggregator.normalise.titles.fold_text` form (lower case, ``märz`` → ``maerz``)
without a trailing dot, so ``Mär``, ``März``, ``Maerz``, ``Dez.`` and ``Sept.`` all look up directly.
"""

from __future__ import annotations

import re

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "januar jan jaenner january",
        "februar feb febr february",
        "maerz maer mrz mar march",
        "april apr",
        "mai may",
        "juni jun june",
        "juli jul july",
        "august aug",
        "september sep sept",
        "oktober okt oct october",
        "november nov",
        "dezember dez dec december",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "montag mo mon monday",
        "dienstag di tue tues tuesday",
        "mittwoch mi wed wednesday",
        "donnerstag do thu thur thurs thursday",
        "freitag fr fri friday",
        "samstag sonnabend sa sat saturday",
        "sonntag so sun sunday",
    )
):
    for _name in _names.split():
        WEEKDAYS[_name] = _number


def _alternation(words: dict[str, int]) -> str:
    """A regex alternation of ``words``, longest first so that ``sept`` wins over ``sep``."""
    return "|".join(sorted(words, key=len, reverse=True))


MONTH_PATTERN = rf"(?:{_alternation(MONTHS)})\.?"
"""Matches a month word in folded text."""

WEEKDAY_WORDS = _alternation(WEEKDAYS)
"""An alternation of the weekday words (no groups), to build patterns from."""

WEEKDAY_PATTERN = re.compile(rf"\b(?P<weekday>{WEEKDAY_WORDS})\b\.?,?")
"""Matches a weekday word in folded text."""


def month_number(word: str) -> int:
    """The month (1–12) a folded month word stands for."""
    return MONTHS[word.rstrip(".")]
