"""VTIMEZONE components in the classic RRULE form that Outlook, Google and Apple read best.

icalendar's ``Timezone.from_tzid`` lists every transition of a range as RDATEs; Outlook ignores those
and falls back to guessing. The rule a zone follows today is the POSIX TZ string in the footer of its
TZif file (``CET-1CEST,M3.5.0,M10.5.0/3`` for Europe/Berlin), so :func:`vtimezone` reads that footer
and turns it into one STANDARD and one DAYLIGHT sub-component with a yearly RRULE starting in 1970.
That describes today's rules only: times before the zone's last rule change (1996 for Europe/Berlin)
would be shifted, which does not matter for a feed of current events. A footer this module cannot
express as an RRULE falls back to the library's explicit-transitions form.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

_EPOCH_YEAR = 1970
_WEEKDAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX numbers days from Sunday = 0
_NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)"
_OFFSET = r"[+-]?\d{1,2}(?::\d{2}){0,2}"
_RULE = r"M\d{1,2}\.\d\.\d(?:/\d{1,2}(?::\d{2}){0,2})?"
_POSIX_TZ = re.compile(
    rf"(?P<std>{_NAME})(?P<std_offset>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dst_offset>{_OFFSET})?,(?P<dst_start>{_RULE}),(?P<dst_end>{_RULE}))?"
)


class TimezoneRuleError(ValueError):
    """A zone's TZif footer is missing or uses a form that has no RRULE equivalent here."""

    def __init__(self, tzid: str, footer: str | None) -> None:
        self.tzid = tzid
        self.footer = footer
        super().__init__(f"cannot express the rules of {tzid} (TZif footer {footer!r}) as RRULEs")


@dataclass(frozen=True, slots=True)
class _Transition:
    """A yearly switch: in ``month``, on the ``week``-th (5 = last) ``weekday``, at local ``time``."""

    month: int
    week: int
    weekday: int
    time: timedelta

    def first_local(self) -> datetime:
        """Wall-clock time of the first switch in 1970, in the offset in force before it."""
        days = calendar.monthcalendar(_EPOCH_YEAR, self.month)
        weekday_column = (self.weekday - 1) % 7  # monthcalendar starts weeks on Monday
        matches = [week[weekday_column] for week in days if week[weekday_column]]
        day = matches[-1] if self.week == 5 else matches[self.week - 1]
        return datetime.combine(date(_EPOCH_YEAR, self.month, day), datetime.min.time()) + self.time

    def rrule(self) -> vRecur:
        """The yearly RRULE of this switch."""
        ordinal = -1 if self.week == 5 else self.week
        return vRecur(freq="YEARLY", bymonth=self.month, byday=f"{ordinal}{_WEEKDAYS[self.weekday]}")


@dataclass(frozen=True, slots=True)
class _Rules:
    """Today's rules of a zone, as its POSIX TZ string states them."""

    std_name: str
    std_offset: timedelta
    dst_name: str | None = None
    dst_offset: timedelta | None = None
    dst_start: _Transition | None = None
    dst_end: _Transition | None = None


def vtimezone(tzid: str) -> Timezone:
    """Return a VTIMEZONE for the IANA zone ``tzid`` with yearly STANDARD/DAYLIGHT RRULEs.

    Falls back to icalendar's explicit-transitions form when the zone's current rule cannot be
    written as an RRULE. Raises :class:`zoneinfo.ZoneInfoNotFoundError` for an unknown zone.
    """
    try:
        rules = _rules(tzid)
    except TimezoneRuleError:
        return Timezone.from_tzid(tzid)
    component = Timezone()
    component.add("tzid", tzid)
    if rules.dst_start is None or rules.dst_end is None or rules.dst_offset is None:
        component.add_component(_observance(TimezoneStandard(), rules.std_name, rules.std_offset))
        return component
    assert rules.dst_name is not None  # the pattern makes name, start and end come together
    component.add_component(
        _observance(TimezoneStandard(), rules.std_name, rules.std_offset, rules.dst_offset, rules.dst_end)
    )
    component.add_component(
        _observance(TimezoneDaylight(), rules.dst_name, rules.dst_offset, rules.std_offset, rules.dst_start)
    )
    return component


def _observance(
    observance: TimezoneStandard | TimezoneDaylight,
    name: str,
    offset_to: timedelta,
    offset_from: timedelta | None = None,
    transition: _Transition | None = None,
) -> TimezoneStandard | TimezoneDaylight:
    """Fill a STANDARD or DAYLIGHT sub-component; without a transition it is a fixed offset."""
    observance.add("dtstart", transition.first_local() if transition else datetime(_EPOCH_YEAR, 1, 1))
    observance.add("tzname", name)
    observance.add("tzoffsetfrom", offset_to if offset_from is None else offset_from)
    observance.add("tzoffsetto", offset_to)
    if transition is not None:
        observance.add("rrule", transition.rrule())
    return observance


@lru_cache(maxsize=32)
def _rules(tzid: str) -> _Rules:
    """Parse the POSIX TZ footer of ``tzid``'s TZif data."""
    zoneinfo.ZoneInfo(tzid)  # validates the key (no path tricks) and raises for unknown zones
    data = _tzif(tzid)
    footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii", "replace") if data[4:5] >= b"2" else None
    match = _POSIX_TZ.fullmatch(footer) if footer else None
    if match is None:
        raise TimezoneRuleError(tzid, footer)
    std_offset = -_duration(match["std_offset"])  # POSIX offsets count west of Greenwich
    if match["dst"] is None:
        return _Rules(_name(match["std"]), std_offset)
    dst_offset = -_duration(match["dst_offset"]) if match["dst_offset"] else std_offset + timedelta(hours=1)
    return _Rules(
        _name(match["std"]),
        std_offset,
        _name(match["dst"]),
        dst_offset,
        _transition(tzid, footer, match["dst_start"]),
        _transition(tzid, footer, match["dst_end"]),
    )


def _tzif(tzid: str) -> bytes:
    """Raw TZif data from the system zone directories, else from the tzdata package (as zoneinfo does)."""
    for directory in zoneinfo.TZPATH:
        candidate = Path(directory, tzid)
        if candidate.is_file():
            return candidate.read_bytes()
    return resources.files("tzdata").joinpath("zoneinfo", *tzid.split("/")).read_bytes()


def _transition(tzid: str, footer: str | None, rule: str) -> _Transition:
    """Parse ``Mm.w.d[/time]``."""
    day_rule, _, time = rule.partition("/")
    month, week, weekday = (int(part) for part in day_rule[1:].split("."))
    at = _duration(time) if time else timedelta(hours=2)
    if not (1 <= month <= 12 and 1 <= week <= 5 and 0 <= weekday <= 6 and at < timedelta(days=1)):
        raise TimezoneRuleError(tzid, footer)
    return _Transition(month, week, weekday, at)


def _duration(text: str) -> timedelta:
    """``[+-]hh[:mm[:ss]]`` as a timedelta."""
    sign = -1 if text.startswith("-") else 1
    parts = [int(part) for part in text.lstrip("+-").split(":")]
    hours, minutes, seconds = (*parts, 0, 0)[:3]
    return sign * timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _name(text: str) -> str:
    """Zone abbreviation without the ``<>`` that POSIX needs around numeric names."""
    return text.strip("<>")
