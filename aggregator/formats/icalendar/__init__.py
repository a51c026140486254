"""The iCalendar (RFC 5545) reader: feeds and files as listings, pure code (no fetching, no database).

Feeds in the wild are often broken, so reading is lenient at every level and one bad record costs
only itself:

- bytes: UTF-8 (with or without BOM), UTF-16/32 with BOM, else Windows-1252 with a warning;
- components: icalendar's parser made tolerant for every component (icalendar itself only tolerates
  errors inside VEVENT): an unreadable value becomes ``vBroken`` and is dropped with a warning, a
  VTIMEZONE with two TZID lines keeps the first, a VTIMEZONE with impossible offsets is ignored,
  a file cut off before ``END:VCALENDAR`` keeps what it has; should the whole parse still fail,
  the text is split into blocks and each VEVENT is parsed alone;
- recurrence: each UID's events are expanded by recurring-ical-events on their own, so a broken
  series falls back to its own dates without taking the calendar with it;
- bounds: only occurrences that overlap the window (:class:`~aggregator.window.Window`) become
  listings; one that began before it and is still running (an exhibition) is kept. Before anything is
  generated, each RRULE is checked: an INTERVAL of 0 or less, or a day of the month that none of its
  months has, can never advance and the record is rejected; the rule's repetitions are then counted
  lazily up to the window's end, at most :data:`MAX_STEPS_PER_SERIES` per rule and
  :data:`MAX_STEPS_PER_CALENDAR` per file (a series needing more is rejected), and the expansion
  stops after :data:`MAX_OCCURRENCES_PER_SERIES` occurrences in the window
  (:data:`MAX_SUBDAILY_OCCURRENCES` for hourly, minutely and secondly rules) and
  ``max_listings`` per file (the rest of the file is rejected, so a caller can refuse it by count);
- outside the window: how many events lay wholly before or after it is counted in ``outside`` and
  said in one warning;
- time zones: TZIDs that icalendar resolves (IANA, Windows names, VTIMEZONE definitions) are used;
  X-WR-TIMEZONE applies to floating times (x-wr-timezone); anything else is read as Europe/Berlin
  with a warning, since every source we import publishes Dortmund events.

A VEVENT without a usable DTSTART becomes a :class:`Rejection`; one without SUMMARY is kept with the
title :data:`~aggregator.formats.read_result.UNTITLED` ("(ohne Titel)") and a warning, because a dated
event with a place is still worth showing and the validation step may decide otherwise.
"""

from __future__ import annotations

from aggregator.formats.icalendar.calendar_reader import (
    MAX_LISTINGS,
    NotACalendar,
    parse_calendar,
)
from aggregator.formats.icalendar.recurrence import (
    MAX_OCCURRENCES_PER_SERIES,
    MAX_STEPS_PER_CALENDAR,
    MAX_STEPS_PER_SERIES,
    MAX_SUBDAILY_OCCURRENCES,
)

__all__ = [
    "MAX_LISTINGS",
    "MAX_OCCURRENCES_PER_SERIES",
    "MAX_STEPS_PER_CALENDAR",
    "MAX_STEPS_PER_SERIES",
    "MAX_SUBDAILY_OCCURRENCES",
    "NotACalendar",
    "parse_calendar",
]
