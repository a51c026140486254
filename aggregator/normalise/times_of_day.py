"""Times of day in venue text: ``20 Uhr``, ``19.30 Uhr``, ``11:00 bis 18:00 Uhr``, ``8 pm``.

Works on text in :func:`~aggregator.normalise.titles.fold_text` form from which the dates have
already been removed (so ``05.12.`` is never read as a time). Times are minutes after midnight;
``24:00`` is 1440 so that an end at midnight stays after its start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIME = (
    r"(?<![\d.:])(?P<{p}h>\d{{1,2}})(?:[:.](?P<{p}m>\d{{2}}))?(?!\d)"
    r"\s*(?P<{p}s>uhr\b|h\b|a\.?m\.?|p\.?m\.?)?"
)
_RANGE = re.compile(
    rf"(?:\bvon\s+|\bab\s+|\bum\s+)?{_TIME.format(p='a')}\s*(?:-|\bbis\b|\bto\b|\buntil\b)\s*{_TIME.format(p='b')}"
)
_SINGLE = re.compile(_TIME.format(p="a"))
_EINLASS = re.compile(rf"\b(?:einlass|doors|offnung)\s*:?\s*(?:ab\s+|um\s+)?{_TIME.format(p='x')}")
_BEGINN = re.compile(rf"\b(?:beginn|start|anfang)\s*:?\s*(?:ab\s+|um\s+)?{_TIME.format(p='a')}")
_ENDE = re.compile(rf"\b(?:ende|end)\s*:?\s*(?:ca\.?\s+|gegen\s+|um\s+)?{_TIME.format(p='b')}")
_ALL_DAY = re.compile(r"\b(?:ganztaegig|ganztags|den ganzen tag|all[- ]day|whole day)\b")


class ClockError(ValueError):
    """A time of day was written but is impossible (``25:00``, ``18:75``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"impossible time of day {text!r}")


@dataclass(frozen=True, slots=True)
class ClockTimes:
    """The times of day found in a text, as minutes after midnight."""

    start: int | None = None
    end: int | None = None
    all_day: bool = False


def parse_clock(folded: str) -> ClockTimes:
    """Find the start (and end) time in ``folded`` text; ``Beginn`` wins over ``Einlass``.

    A bare number counts as a time only with minutes (``19:30``, ``19.30``) or a unit
    (``20 Uhr``, ``20h``, ``8 pm``); in a range one of the two sides is enough.
    """
    all_day = bool(_ALL_DAY.search(folded))
    text = _EINLASS.sub(" ", folded)
    begin = _BEGINN.search(text)
    end = _ENDE.search(text)
    if begin:
        return ClockTimes(_minutes(begin, "a"), _minutes(end, "b") if end else None, all_day)
    for found in _RANGE.finditer(text):
        if _is_time(found, "a") or _is_time(found, "b"):
            start, stop = _minutes(found, "a", found.group("bs")), _minutes(found, "b")
            return ClockTimes(start, stop, all_day)
    for found in _SINGLE.finditer(text):
        if _is_time(found, "a"):
            return ClockTimes(_minutes(found, "a"), _minutes(end, "b") if end else None, all_day)
    return ClockTimes(all_day=all_day)


def _is_time(found: re.Match[str], prefix: str) -> bool:
    """True if the number in ``found`` reads as a time: it has minutes or a unit."""
    return bool(found.group(f"{prefix}m") or found.group(f"{prefix}s"))


def _minutes(found: re.Match[str], prefix: str, fallback_suffix: str | None = None) -> int:
    """Minutes after midnight of one matched time; ``pm`` adds twelve hours."""
    hour = int(found.group(f"{prefix}h"))
    minute = int(found.group(f"{prefix}m") or 0)
    suffix = (found.group(f"{prefix}s") or fallback_suffix or "").replace(".", "")
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            raise ClockError(found.group())
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ClockError(found.group())
    return hour * 60 + minute
