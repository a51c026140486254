"""Recurrence expansion within the window and its bounds (steps per rule and file, occurrences per series)."""

from __future__ import annotations

import calendar as calendars
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

import recurring_ical_events
from icalendar import Calendar, Component
from recurring_ical_events.adapters.event import EventAdapter
from recurring_ical_events.series.rrule import Series

from aggregator.formats.icalendar.parser import (
    _WARNINGS_LOCK,
)
from aggregator.formats.icalendar.properties import (
    _values,
    _when,
)
from aggregator.formats.icalendar.zones import (
    _utc_start,
)
from aggregator.window import Window

MAX_OCCURRENCES_PER_SERIES = 10_000
"""A series that yields more occurrences than this in the window is cut (with a warning)."""

MAX_SUBDAILY_OCCURRENCES = 1_000
"""The cut for hourly, minutely and secondly series."""

MAX_STEPS_PER_SERIES = 20_000
"""Repetitions of one RRULE generated at most on the way to the window's end (daily: 54 years)."""

MAX_STEPS_PER_CALENDAR = 200_000
"""Repetitions generated at most for all RRULEs of one file together."""

_SUBDAILY_FREQUENCIES = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})


class _Refused(Exception):
    """A recurrence rule that cannot be expanded within the bounds; its record is rejected."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _check_rule(event: Component) -> None:
    """Refuse an RRULE that can never advance: INTERVAL of 0 or less, or a month day no month has."""
    for rule in _values(event, "RRULE"):
        if not isinstance(rule, Mapping):
            continue
        for value in rule.get("INTERVAL") or []:
            if int(value) <= 0:
                raise _Refused(f"RRULE INTERVAL={value} never advances; only 1 or more is valid")
        month_days = [int(day) for day in rule.get("BYMONTHDAY") or []]
        months = [int(month) for month in rule.get("BYMONTH") or []] or list(range(1, 13))
        if month_days and not any(
            0 < abs(day) <= calendars.monthrange(2024, month)[1]
            for day in month_days
            for month in months
            if 1 <= month <= 12
        ):
            raise _Refused(f"RRULE never occurs: no month {months} has a day {month_days}")


def _frequency(event: Component) -> str:
    """The FREQ of the event's RRULE, or ''."""
    rule = event.get("RRULE")
    if isinstance(rule, list):
        rule = rule[0] if rule else None
    frequency = rule.get("FREQ") if isinstance(rule, Mapping) else None
    if isinstance(frequency, list):
        frequency = frequency[0] if frequency else None
    return str(frequency or "").upper()


def _split_reused_uid(group: list[Component]) -> list[list[Component]]:
    """Split events that share a UID but are different events (same SEQUENCE, different starts).

    Several masters with one UID are either versions of one event (different SEQUENCE; the
    expander keeps the newest) or a producer reusing one UID for every date of a production.
    """
    masters = [event for event in group if "RECURRENCE-ID" not in event]
    if len(masters) < 2:
        return [group]
    sequences = {str(event.get("SEQUENCE", 0)) for event in masters}
    starts = {_comparable(_when(event, "DTSTART")) for event in masters}
    if len(sequences) > 1 or len(starts) < len(masters):
        return [group]
    instances = [event for event in group if "RECURRENCE-ID" in event]
    home = next((event for event in masters if "RRULE" in event or "RDATE" in event), masters[0])
    return [[master, *instances] if master is home else [master] for master in masters]


def _origin_of(occurrence: Component, group: list[Component]) -> Component:
    """The VEVENT an occurrence was made from: the moved instance with its RECURRENCE-ID, else the master."""
    recurrence_id = occurrence.get("RECURRENCE-ID")
    masters = [event for event in group if "RECURRENCE-ID" not in event]
    if recurrence_id is not None:
        wanted = _comparable(_when(occurrence, "RECURRENCE-ID"))
        for event in group:
            own = event.get("RECURRENCE-ID")
            if own is not None and _comparable(_when(event, "RECURRENCE-ID")) == wanted:
                return event
    if any(occurrence is event for event in group):
        return occurrence
    return masters[0] if masters else group[0]


def _comparable(value: date) -> tuple[str, str]:
    """A key under which equal RECURRENCE-ID values compare equal, whatever their zone handling."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return "utc", value.astimezone(UTC).replace(tzinfo=None).isoformat()
        return "local", value.isoformat()
    return "date", value.isoformat()


@dataclass(slots=True)
class StepBudget:
    """The RRULE repetitions one file may still generate (:data:`MAX_STEPS_PER_CALENDAR` at first)."""

    left: int = field(default_factory=lambda: MAX_STEPS_PER_CALENDAR)


def expand(
    uid: str,
    group: list[Component],
    window: Window,
    default_zone: tzinfo,
    budget: StepBudget,
    warn: Callable[[str], None],
) -> list[Component]:
    """The occurrences of one UID's events that overlap the window (recurring-ical-events).

    Raises :class:`_Refused` for a rule that cannot end or needs too many steps to reach the window.
    """
    for event in group:
        _check_rule(event)
    limit = MAX_OCCURRENCES_PER_SERIES
    if any(_frequency(event) in _SUBDAILY_FREQUENCIES for event in group):
        limit = MAX_SUBDAILY_OCCURRENCES
    calendar = Calendar()
    for event in group:
        calendar.add_component(event)
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stop, cut = _bounded_stop(group, limit, window, default_zone, budget)
        occurrences = list(recurring_ical_events.of(calendar).between(window.start, stop))
    for warning in caught:
        warn(f"VEVENT {uid}: {warning.message}")
    if cut or len(occurrences) > limit:
        warn(f"VEVENT {uid}: more than {limit} occurrences in the window; the rest dropped")
        occurrences.sort(key=lambda occurrence: _utc_start(occurrence, default_zone))
        del occurrences[limit:]
    return occurrences


def _bounded_stop(
    group: list[Component], limit: int, window: Window, default_zone: tzinfo, budget: StepBudget
) -> tuple[datetime, bool]:
    """Where to stop expanding: the window's end, or earlier once a rule has ``limit`` occurrences in it.

    Walks each RRULE lazily (the library would build every repetition up to the end in one list)
    and charges the steps to the series' and the calendar's budgets; :class:`_Refused` when spent.
    """
    stop, cut = window.end, False
    if not any("RRULE" in event for event in group):
        return stop, cut
    series = Series([EventAdapter(event) for event in group])
    rules = list(getattr(series.recurrence, "rrules", []))[1:]  # [0] holds the RDATEs: finite
    earliest = window.start - series._subtract_from_start  # an occurrence may reach into it
    for rule in rules:
        for steps, candidate in enumerate(rule, start=1):
            moment = candidate if candidate.tzinfo else candidate.replace(tzinfo=default_zone)
            if moment >= stop:
                break
            budget.left -= 1
            if steps > MAX_STEPS_PER_SERIES:
                raise _Refused(
                    f"RRULE needs more than {MAX_STEPS_PER_SERIES} repetitions before {stop:%Y-%m-%d}; "
                    "not expanded"
                )
            if budget.left < 0:
                raise _Refused(
                    f"RRULE not expanded: the file's {MAX_STEPS_PER_CALENDAR} repetitions are spent"
                )
            if moment >= earliest:
                limit -= 1
                if limit < 0:
                    stop, cut = moment, True
                    break
    return stop, cut
