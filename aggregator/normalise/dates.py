"""Dates and times as venues write them, turned into aware spans in Europe/Berlin.

:func:`parse_when` reads ``Mi 29. November 2023 11:00 bis 18:00 Uhr``, ``Do 05.12.2024 · 20.00
Uhr``, ``2.–3. Dezember 2023``, ``24.11.2023 – 07.01.2024`` and the like. Rules:

- A year left out is the reference's year, unless that puts the date more than
  ``YEAR_GRACE_DAYS`` (30) days before the reference day: then it is next year (programmes
  list what is coming; a few past weeks stay for running exhibitions). A weekday written next
  to the date overrides this when it fits only the other of the two years.
- A range of at most ``max_daily_days`` days becomes one span per day (with the daily hours
  if given); a longer range (an exhibition) becomes one all-day span and daily hours are dropped.
- All-day spans start at midnight; a one-day all-day span has no end, a longer one ends at
  midnight after its last day (exclusive, as iCalendar's ``DTEND;VALUE=DATE``).
- An end time not after the start time (``22:00–01:00``) ends on the next day.
- Wall-clock times are made aware with ``fold=0``: a time that does not exist (02:30 on the
  last Sunday of March) is shifted forward by the gap (to 03:30 CEST), an ambiguous time
  (02:30 on the last Sunday of October) is the first of the two (CEST).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aggregator.normalise.datewords import (
    MONTH_PATTERN,
    WEEKDAY_PATTERN,
    WEEKDAY_WORDS,
    WEEKDAYS,
    month_number,
)
from aggregator.normalise.times_of_day import ClockError, ClockTimes, parse_clock
from aggregator.normalise.titles import clean_text, fold_text
from aggregator.types import BERLIN
from aggregator.window import berlin_midnight

YEAR_GRACE_DAYS = 30
MAX_DAILY_DAYS = 14


class DateParseError(ValueError):
    """No date could be read from ``text``; ``reason`` says what was missing or wrong."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"cannot read a date from {text!r}: {reason}")


@dataclass(frozen=True, slots=True)
class Span:
    """One occurrence: an aware start in Europe/Berlin, an optional end, and whether all-day."""

    start: datetime
    end: datetime | None
    all_day: bool


@dataclass(frozen=True, slots=True)
class _Day:
    """A date as written: the year may be missing, a weekday may stand next to it."""

    day: int
    month: int
    year: int | None
    weekday: int | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    """A date or a range of dates found at ``position`` in the text."""

    first: _Day
    last: _Day | None
    position: tuple[int, int]


_D = r"(?<![\d.:])(\d{1,2})"
_Y = r"(\d{4}|\d{2})(?!\d)"
# Numeric dates only with a plausible day and month, so that "um 19.30." stays a time.
_DAY = r"(?<![\d.:])(0?[1-9]|[12]\d|3[01])"
_MONTH = r"(0?[1-9]|1[0-2])"
_SEP = r"\s*(?:-|\bbis\b(?:\s+zum)?|\bto\b|\buntil\b)\s*"
_M = f"({MONTH_PATTERN})"
_WEEKDAY_GAP = rf"(?:\b(?:{WEEKDAY_WORDS})\b\.?,?\s*)?(?:den\s+)?"
# Order matters: ranges before the single dates they contain.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("text_range", re.compile(rf"{_D}\.?,?{_SEP}{_WEEKDAY_GAP}(\d{{1,2}})\.?\s*{_M}(?:\s*{_Y})?")),
    ("text_pair", re.compile(rf"{_D}\.?\s*(?:\bund\b|&|\+|,)\s*(\d{{1,2}})\.?\s*{_M}(?:\s*{_Y})?")),
    ("numeric_range", re.compile(rf"{_DAY}\.{_SEP}{_DAY}\.{_MONTH}\.(?:{_Y})?")),
    ("iso", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")),
    ("numeric", re.compile(rf"{_DAY}\.{_MONTH}\.(?:{_Y})?")),
    ("text", re.compile(rf"{_D}\.?\s*{_M}(?:\s*,?\s*{_Y})?")),
    ("month_year_day", re.compile(rf"\b{_M}\s*(\d{{4}}),?\s*(\d{{1,2}})\.?(?![\d.:])(?!\s*(?:uhr|h)\b)")),
    ("english", re.compile(rf"\b{_M}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:,?\s*{_Y})?")),
)
_WEEKDAY_BEFORE = re.compile(rf"\b({WEEKDAY_WORDS})\b\.?,?\s*(?:den\s+)?$")
_GAP_RANGE = re.compile(rf"^(?:{_SEP}|\s*-\s*)$")
_NOISE = re.compile(r"\b(?:vom|von|ab|am|den|der|the|on|from|\W)\b|[,·|/]")


def parse_when(
    date_text: str,
    time_text: str | None = None,
    *,
    reference: datetime,
    max_daily_days: int = MAX_DAILY_DAYS,
) -> list[Span]:
    """Read dates and times from venue text; return the spans in start order.

    ``reference`` (usually when the page was fetched) supplies a missing year; a naive
    reference is taken as Berlin wall time. Raises :class:`DateParseError` if no date
    can be read, a time stands without a date, or a date does not exist.
    """
    original = date_text if time_text is None else f"{date_text} {time_text}"
    folded = fold_text(clean_text(original))
    items, rest = _find_dates(folded)
    try:
        clock = parse_clock(rest)
    except ClockError as error:
        raise DateParseError(original, str(error)) from error
    if not items:
        reason = "a time without a date" if clock.start is not None else "no date found"
        raise DateParseError(original, reason)
    today = _berlin(reference).date()
    spans: list[Span] = []
    for item in _merge_ranges(items, folded):
        first, last = _resolve(item, today, original)
        spans.extend(_spans(first, last, clock, max_daily_days))
    return sorted(set(spans), key=lambda span: (span.start, span.end or span.start))


def localize(naive: datetime) -> datetime:
    """Make a Berlin wall-clock time aware (``fold=0``; a time in the spring gap moves forward)."""
    return naive.replace(tzinfo=BERLIN, fold=0).astimezone(UTC).astimezone(BERLIN)


def _berlin(moment: datetime) -> datetime:
    """``moment`` in Berlin; naive values are Berlin wall time already."""
    return localize(moment) if moment.tzinfo is None else moment.astimezone(BERLIN)


def _find_dates(folded: str) -> tuple[list[_Item], str]:
    """All dates in ``folded`` text in order, and the text with dates and weekdays blanked."""
    found: list[_Item] = []
    text = folded
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            found.extend(_items(kind, match, folded))
        text = pattern.sub(lambda match: " " * len(match.group()), text)
    text = WEEKDAY_PATTERN.sub(lambda match: " " * len(match.group()), text)
    return sorted(found, key=lambda item: item.position), text


def _items(kind: str, match: re.Match[str], folded: str) -> list[_Item]:
    """Turn one pattern match into items (``10. und 11. Oktober`` gives two)."""
    groups, span = match.groups(), match.span()
    weekday = _weekday_before(folded, match.start())
    if kind in ("text_range", "text_pair"):
        month, year = month_number(groups[2]), _year(groups[3])
        first, second = _Day(int(groups[0]), month, year, weekday), _Day(int(groups[1]), month, year)
        if kind == "text_pair":
            return [_Item(first, None, span), _Item(second, None, span)]
        return [_Item(first, second, span)]
    if kind == "numeric_range":
        month, year = int(groups[2]), _year(groups[3])
        return [_Item(_Day(int(groups[0]), month, year, weekday), _Day(int(groups[1]), month, year), span)]
    if kind == "iso":
        day = _Day(int(groups[2]), int(groups[1]), int(groups[0]), weekday)
    elif kind == "numeric":
        day = _Day(int(groups[0]), int(groups[1]), _year(groups[2]), weekday)
    elif kind == "month_year_day":
        day = _Day(int(groups[2]), month_number(groups[0]), int(groups[1]), weekday)
    elif kind == "text":
        day = _Day(int(groups[0]), month_number(groups[1]), _year(groups[2]), weekday)
    else:
        day = _Day(int(groups[1]), month_number(groups[0]), _year(groups[2]), weekday)
    return [_Item(day, None, span)]


def _weekday_before(folded: str, position: int) -> int | None:
    """The weekday written immediately before ``position`` (``Sa, 2.12.``, ``Sonntag, den 28.``)."""
    found = _WEEKDAY_BEFORE.search(folded, 0, position)
    return WEEKDAYS[found.group(1)] if found else None


def _year(text: str | None) -> int | None:
    """A written year; two digits mean 20xx."""
    if text is None:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _merge_ranges(items: list[_Item], folded: str) -> Iterator[_Item]:
    """Join two single dates with only ``-``/``bis`` between them into one range."""
    index = 0
    while index < len(items):
        item = items[index]
        following = items[index + 1] if index + 1 < len(items) else None
        if item.last is None and following is not None and following.last is None:
            gap = _NOISE.sub(" ", WEEKDAY_PATTERN.sub(" ", folded[item.position[1] : following.position[0]]))
            if _GAP_RANGE.match(gap.strip()) and gap.strip():
                yield _Item(item.first, following.first, (item.position[0], following.position[1]))
                index += 2
                continue
        yield item
        index += 1


def _resolve(item: _Item, today: date, original: str) -> tuple[date, date | None]:
    """Fill in missing years and check that the dates exist and are in order."""
    first, last = item.first, item.last
    if last is None:
        return _complete(first, today, original), None
    if last.year is not None:
        end = _complete(last, today, original)
        start = _complete(first if first.year is not None else _with_year(first, end.year), today, original)
        if first.year is None and start > end:
            start = _complete(_with_year(first, end.year - 1), today, original)
    else:
        start = _complete(first, today, original)
        end = _complete(_with_year(last, start.year), today, original)
        if end < start:
            end = _complete(_with_year(last, start.year + 1), today, original)
    if end < start:
        raise DateParseError(original, f"range ends ({end}) before it starts ({start})")
    return start, end


def _with_year(day: _Day, year: int) -> _Day:
    """``day`` with ``year`` filled in."""
    return _Day(day.day, day.month, year, day.weekday)


def _complete(day: _Day, today: date, original: str) -> date:
    """The calendar date ``day`` stands for, choosing a year if none was written."""
    if day.year is not None:
        return _date(day.year, day, original)
    chosen = _date(today.year, day, original) if _exists(today.year, day) else None
    if chosen is None or chosen < today - timedelta(days=YEAR_GRACE_DAYS):
        chosen = _date(today.year + 1, day, original)
    if day.weekday is not None and chosen.weekday() != day.weekday:
        other_year = today.year if chosen.year == today.year + 1 else today.year + 1
        if _exists(other_year, day) and date(other_year, day.month, day.day).weekday() == day.weekday:
            chosen = date(other_year, day.month, day.day)
    return chosen


def _exists(year: int, day: _Day) -> bool:
    """True if ``day`` is a real date in ``year`` (29 February)."""
    try:
        date(year, day.month, day.day)
    except ValueError:
        return False
    return True


def _date(year: int, day: _Day, original: str) -> date:
    """Build a date or raise :class:`DateParseError` naming the impossible date."""
    try:
        return date(year, day.month, day.day)
    except ValueError as error:
        raise DateParseError(original, f"no such date {day.day}.{day.month}.{year}") from error


def _spans(first: date, last: date | None, clock: ClockTimes, max_daily_days: int) -> list[Span]:
    """The spans of one date or range under the times found in the text."""
    if last is None:
        return [_day_span(first, clock)]
    length = (last - first).days + 1
    if length > max_daily_days:
        return [Span(berlin_midnight(first), berlin_midnight(last + timedelta(days=1)), True)]
    return [_day_span(first + timedelta(days=offset), clock) for offset in range(length)]


def _day_span(day: date, clock: ClockTimes) -> Span:
    """One day's span: all-day without a start time, else start and optional end."""
    if clock.start is None:
        return Span(berlin_midnight(day), None, True)
    start = localize(datetime(day.year, day.month, day.day) + timedelta(minutes=clock.start))
    if clock.end is None or clock.end == clock.start:
        return Span(start, None, False)
    end_day = day if clock.end > clock.start else day + timedelta(days=1)
    end = localize(datetime(end_day.year, end_day.month, end_day.day) + timedelta(minutes=clock.end))
    return Span(start, end, False)
