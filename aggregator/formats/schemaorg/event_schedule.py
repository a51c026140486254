"""``eventSchedule`` expansion: a schema.org Schedule becomes the occurrences that overlap a window.

Supported: ``repeatFrequency`` (ISO 8601 ``P1D``/``P2W``/``P1M``/``P1Y`` or daily/weekly/monthly/yearly),
``byDay``, ``byMonth``, ``byMonthDay``, ``startDate``/``endDate``, ``startTime``/``endTime`` or
``duration``, ``repeatCount``, ``exceptDate`` and ``scheduleTimezone``; without a frequency a schedule
with ``byDay`` is weekly, one without is daily from ``startDate`` to ``endDate``. A schedule yields at
most :data:`MAX_SCHEDULE_OCCURRENCES` occurrences and takes at most :data:`MAX_SCHEDULE_STEPS` steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

from aggregator.formats.schemaorg.event_reader import as_list, lenient_moment, plain_string
from aggregator.formats.schemaorg.vocabulary import token
from aggregator.types import BERLIN, JSON
from aggregator.window import Window

MAX_SCHEDULE_OCCURRENCES = 1_000
"""Occurrences one ``eventSchedule`` yields at most in the window."""

MAX_SCHEDULE_STEPS = 50_000
"""Repetitions of one ``eventSchedule`` generated at most on the way to the window's end."""

Occurrence = tuple[datetime, datetime | None, bool]
"""Start, end (if known) and whether the occurrence is all-day."""

_FREQUENCIES = {"D": rrule.DAILY, "W": rrule.WEEKLY, "M": rrule.MONTHLY, "Y": rrule.YEARLY}
_FREQUENCY_WORDS = {"daily": "P1D", "weekly": "P1W", "monthly": "P1M", "yearly": "P1Y", "annually": "P1Y"}
_WEEKDAYS = {
    name: day
    for day, names in enumerate(
        [
            ("monday", "mo"),
            ("tuesday", "tu"),
            ("wednesday", "we"),
            ("thursday", "th"),
            ("friday", "fr"),
            ("saturday", "sa"),
            ("sunday", "su"),
        ]
    )
    for name in names
}


def expand_schedule(schedule: JSON, window: Window) -> Iterator[Occurrence]:
    """The occurrences of a schema.org Schedule that overlap ``window`` (ongoing ones included).

    Lazily raises :class:`ValueError` (or :class:`TypeError`, :class:`OverflowError`) for a schedule
    it cannot read or that needs more than :data:`MAX_SCHEDULE_STEPS` steps.
    """
    zone: tzinfo = BERLIN
    zone_name = plain_string(schedule.get("scheduleTimezone"))
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ValueError, KeyError):
            raise ValueError(f"scheduleTimezone {zone_name!r} unknown") from None
    first = plain_string(schedule.get("startDate"))
    if first is None:
        raise ValueError("no startDate")
    first_day = lenient_moment(first)[0].date()
    last = plain_string(schedule.get("endDate"))
    last_day = lenient_moment(last)[0].date() if last else None
    begin = _time_of_day(schedule.get("startTime"))
    finish = _time_of_day(schedule.get("endTime"))
    duration = _duration(plain_string(schedule.get("duration")))
    frequency, interval = _frequency(schedule.get("repeatFrequency"))
    weekdays = [
        _WEEKDAYS[day]
        for day in (_token(item).lower() for item in as_list(schedule.get("byDay")))
        if day in _WEEKDAYS
    ]
    if frequency is None:
        if not weekdays and last_day is None:
            raise ValueError("neither repeatFrequency, byDay nor endDate")
        frequency = rrule.WEEKLY if weekdays else rrule.DAILY
    months = [int(month) for month in as_list(schedule.get("byMonth")) if str(month).isdigit()]
    month_days = [int(day) for day in as_list(schedule.get("byMonthDay")) if str(day).lstrip("-").isdigit()]
    count = schedule.get("repeatCount")
    excluded = {
        lenient_moment(text)[0].date()
        for text in (plain_string(item) for item in as_list(schedule.get("exceptDate")))
        if text
    }
    rule = rrule.rrule(
        frequency,
        interval=interval,
        dtstart=datetime.combine(first_day, begin or time()),
        until=datetime.combine(last_day, time.max) if last_day else None,
        count=int(str(count)) if str(count).isdigit() else None,
        byweekday=weekdays or None,
        bymonth=months or None,
        bymonthday=month_days or None,
    )
    emitted = 0
    for steps, naive in enumerate(rule, start=1):
        start = naive.replace(tzinfo=zone).astimezone(BERLIN)
        if start >= window.end or emitted >= MAX_SCHEDULE_OCCURRENCES:
            return
        if steps > MAX_SCHEDULE_STEPS:
            raise ValueError(f"more than {MAX_SCHEDULE_STEPS} repetitions before the window's end")
        if naive.date() in excluded:
            continue
        end: datetime | None = None
        if begin is None:
            end = start + timedelta(days=1)
        elif finish is not None:
            end = datetime.combine(naive.date(), finish, tzinfo=zone).astimezone(BERLIN)
            end = end if end > start else end + timedelta(days=1)
        elif duration is not None:
            end = start + duration
        if window.outside(start, end) == "past":
            continue
        emitted += 1
        yield start, end, begin is None


def _token(value: Any) -> str:
    """A schema.org enumeration value without its prefix ("https://schema.org/Monday" → "Monday")."""
    return token(plain_string(value) or "")


def _time_of_day(value: Any) -> time | None:
    """A time of day from ``HH:MM[:SS]`` (an offset, if any, is ignored: schedules are local)."""
    text = plain_string(value)
    if not text:
        return None
    match = re.match(r"^T?(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if not match:
        raise ValueError(f"time {text!r}")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _duration(text: str | None) -> timedelta | None:
    """A timedelta from an ISO 8601 duration such as ``PT2H30M`` or ``P1D``."""
    if not text:
        return None
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text.strip().upper())
    if not match:
        raise ValueError(f"duration {text!r}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _frequency(value: Any) -> tuple[int | None, int]:
    """The rrule frequency and interval of a ``repeatFrequency`` (``P1W``, ``P2D``, ``weekly``)."""
    text = plain_string(value)
    if not text:
        return None, 1
    text = _FREQUENCY_WORDS.get(text.strip().lower(), text.strip().upper())
    match = re.fullmatch(r"P(\d+)([DWMY])", text)
    if not match:
        raise ValueError(f"repeatFrequency {text!r}")
    return _FREQUENCIES[match[2]], max(int(match[1]), 1)
