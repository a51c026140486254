"""Import of iCalendar (RFC 5545) feeds and files as listings.

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

A VEVENT without a usable DTSTART becomes a :class:`Rejection`; one without SUMMARY is kept with
the title ``"(ohne Titel)"`` and a warning, because a dated event with a place is still worth
showing and the validation step may decide otherwise.
"""

from __future__ import annotations

import calendar as calendars
import codecs
import hashlib
import re
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, ClassVar

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar, Component, ComponentFactory, vBroken
from icalendar.parser.ical.calendar import CalendarIcalParser
from icalendar.timezone import tzp
from recurring_ical_events.adapters.event import EventAdapter
from recurring_ical_events.series.rrule import Series

from aggregator.listing import Listing, Rejection
from aggregator.types import BERLIN, Status
from aggregator.window import OutsideCount, Window
from sources.base import Document, SourceError
from sources.platforms._document import DocumentSource

MAX_OCCURRENCES_PER_SERIES = 10_000
"""A series that yields more occurrences than this in the window is cut (with a warning)."""

MAX_SUBDAILY_OCCURRENCES = 1_000
"""The cut for hourly, minutely and secondly series."""

MAX_STEPS_PER_SERIES = 20_000
"""Repetitions of one RRULE generated at most on the way to the window's end (daily: 54 years)."""

MAX_STEPS_PER_CALENDAR = 200_000
"""Repetitions generated at most for all RRULEs of one file together."""

MAX_LISTINGS = 200_000
"""Occurrences one file yields at most (by default); the VEVENTs after that are rejected."""

UNTITLED = "(ohne Titel)"

_CUT_OFF = "END"  # marks, in Component.errors, a component the end of the file cut off

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CALENDAR_LINE = re.compile(r"^[ \t]*BEGIN:(VCALENDAR|VEVENT)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_FIXED_OFFSET = re.compile(r"^(?:UTC|GMT)\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
# Outlook also writes Windows display names, "(UTC+01:00) Amsterdam, Berlin, ..." or "(GMT+10:00) Canberra".
_DISPLAY_NAME = re.compile(r"^\((?:UTC|GMT)\s*(?:([+-])(\d{1,2}):?(\d{2}))?\)", re.IGNORECASE)
# Localised Windows display names seen in German Outlook exports; no library maps these.
_CENTRAL_EUROPEAN_NAMES = frozenset({"mitteleuropäische zeit", "mitteleuropäische sommerzeit"})
_SUBDAILY_FREQUENCIES = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
# warnings.catch_warnings changes process-wide state; parses in parallel threads take turns.
_WARNINGS_LOCK = threading.RLock()


@dataclass(slots=True)
class ICalResult:
    """What one calendar file yielded: listings, what was wrong with it, and how many VEVENTs it had."""

    listings: list[Listing] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    vevents: int = 0
    outside: OutsideCount = field(default_factory=OutsideCount)


class NotACalendar(SourceError):
    """The data is not an iCalendar file at all (an HTML page, empty, garbage, cut off too early)."""

    def __init__(self, origin: str, reason: str, source: str = "ical") -> None:
        self.origin = origin
        self.reason = reason
        super().__init__(source, f"{origin or '<data>'} is not an iCalendar file: {reason}")


def parse_calendar(
    data: bytes,
    *,
    source: str,
    fetched_at: datetime,
    window: tuple[datetime, datetime],
    origin: str = "",
    max_listings: int = MAX_LISTINGS,
) -> ICalResult:
    """Read iCalendar ``data`` into one listing per occurrence that overlaps ``window``.

    ``window`` is a :class:`~aggregator.window.Window` or a pair of aware datetimes (start
    inclusive, end exclusive). At most ``max_listings`` occurrences are read; the VEVENTs after
    them are rejected. Raises :class:`NotACalendar` when ``data`` is no calendar at all; any damage
    inside a calendar is reported in the result's ``warnings`` and ``rejections`` instead.
    """
    result = ICalResult()
    text = _decode(data, result.warnings)
    reason = _not_a_calendar(text)
    if reason:
        raise NotACalendar(origin, reason, source)
    components, lost, truncated = _read_components(text, result.warnings)
    result.vevents = sum(len(component.walk("VEVENT")) for component in components) + len(lost)
    if not result.vevents and not any(component.name == "VCALENDAR" for component in components):
        raise NotACalendar(origin, "no VCALENDAR or VEVENT component could be read", source)
    if truncated:
        if not result.vevents:
            raise NotACalendar(origin, "it ends before its first VEVENT (truncated?)", source)
        result.warnings.append("the file ends inside a component (truncated?)")
    for reason in lost:
        result.rejections.append(Rejection(source, None, reason))
        result.warnings.append(reason)
    result.warnings.extend(_component_problems(components))
    importer = _Importer(source, fetched_at, Window(*window), result, max_listings)
    for calendar in _calendars(components):
        importer.import_calendar(calendar)
    _make_record_ids_unique(result)
    outside = result.outside.message(importer.window)
    if outside:
        result.warnings.append(outside)
    return result


def _decode(data: bytes, notes: list[str]) -> str:
    """The text of ``data``: BOMs honoured, UTF-8 by default, Windows-1252 as the last resort."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if len(data) >= 4 and data.count(b"\x00") * 3 > len(data):
        return data.decode("utf-16-be" if data[0] == 0 else "utf-16-le", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        notes.append("the file is not UTF-8; read as Windows-1252")
        return data.decode("cp1252", errors="replace")


def _not_a_calendar(text: str) -> str | None:
    """Why ``text`` cannot be a calendar at all, or None."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head:
        return "it is empty"
    sample = head[:2000]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\t\r\n\f")
    if controls * 10 > len(sample) or sample.count("\ufffd") * 10 > len(sample):
        return "it is binary data"
    if head.startswith("<"):
        kind = "an HTML page" if "<html" in head[:2000].lower() else "HTML or XML"
        return f"it is {kind}"
    if head[0] in "{[":
        return "it is JSON"
    if not _CALENDAR_LINE.search(text):
        return f"it has no BEGIN:VCALENDAR line (starts with {head[:40]!r})"
    return None


class _LenientParser(CalendarIcalParser):
    """icalendar's calendar parser, tolerant in every component and at the top level."""

    problems: list[str]
    truncated: bool

    def initialize_parsing(self) -> None:
        super().initialize_parsing()  # type: ignore[no-untyped-call]
        self.problems = []
        self.truncated = False

    def parse_content_lines(self) -> None:
        super().parse_content_lines()
        if self._stack:
            self.truncated = True
        while self._stack:
            self._stack[-1].errors.append((_CUT_OFF, "the file ends inside this component"))
            self.handle_end_component(str(self._stack[-1].name))

    def handle_line_parse_error(self, exception: Exception) -> None:
        component = self.component
        if component is None:
            self.problems.append(f"unreadable line outside any component skipped ({exception})")
        else:
            component.errors.append((None, str(exception)))

    def handle_property(self, name: str, params: Any, vals: str, line: Any) -> None:
        if self.component is None:
            self.problems.append(f"{name} outside any component skipped")
            return
        super().handle_property(name, params, vals, line)

    def parse_and_add_property(self, name: str, params: Any, val: str, tzid: str | None, line: Any) -> None:
        try:
            super().parse_and_add_property(name, params, val, tzid, line)
        except Exception as error:  # a value class may fail after parsing (e.g. a PERIOD ending early)
            self.handle_property_parse_error(error, name, params, val, line)

    def handle_property_parse_error(
        self, exception: Exception, name: str, params: Any, val: str, line: Any
    ) -> None:
        component = self.component
        assert component is not None
        factory = self.get_factory_for_property(name, params)
        broken = vBroken.from_parse_error(
            raw_value=val,
            params=params,
            property_name=name,
            expected_type=getattr(factory, "__name__", "unknown"),
            error=exception,
        )
        component.errors.append((name, str(exception)))
        component.add(name, broken, encode=False)

    def handle_end_component(self, vals: str) -> None:
        if not self._stack:
            self.problems.append(f"END:{vals} without BEGIN skipped")
            return
        component = self._stack[-1]
        tzids = component.get("TZID")
        if component.name == "VTIMEZONE" and isinstance(tzids, list):
            component["TZID"] = tzids[0]
            self.problems.append(f"VTIMEZONE with {len(tzids)} TZID lines: kept {str(tzids[0])!r}")
        try:
            super().handle_end_component(vals)
        except Exception as error:  # only the VTIMEZONE cache can fail after the component is stored
            self.problems.append(
                f"VTIMEZONE {str(component.get('TZID'))!r} unusable ({error}); times in it fall back"
            )


def _parse_text(text: str, notes: list[str]) -> tuple[list[Component], bool]:
    """Parse ``text`` with the lenient parser; Python warnings raised meanwhile become notes."""
    parser = _LenientParser(text, ComponentFactory(), Calendar.types_factory)
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        components = parser.parse()
    notes.extend(parser.problems)
    notes.extend(str(warning.message) for warning in caught)
    return components, parser.truncated


def _read_components(text: str, notes: list[str]) -> tuple[list[Component], list[str], bool]:
    """Top-level components, reasons for VEVENT blocks lost entirely, and whether the text was cut off."""
    try:
        components, truncated = _parse_text(text, notes)
    except Exception as error:
        notes.append(f"the calendar could not be read as a whole ({error}); read block by block")
        return _read_blocks(text, notes)
    return components, [], truncated


def _read_blocks(text: str, notes: list[str]) -> tuple[list[Component], list[str], bool]:
    """Parse each top-level block, and each block inside a VCALENDAR, on its own."""
    components: list[Component] = []
    lost: list[str] = []
    truncated = False
    for name, lines, complete in _blocks(text.splitlines()):
        truncated = truncated or not complete
        if name != "VCALENDAR":
            components.extend(_parse_block(name, lines, notes, lost))
            continue
        calendar = Calendar()
        header = [line for line in lines[1:-1] if not line[:1].isspace()]
        for inner_name, inner_lines, inner_complete in _blocks(lines[1:-1] if complete else lines[1:]):
            truncated = truncated or not inner_complete
            for part in _parse_block(inner_name, inner_lines, notes, lost):
                calendar.add_component(part)
        for line in header:
            key, _, value = line.partition(":")
            if key.upper() == "X-WR-TIMEZONE":
                calendar["X-WR-TIMEZONE"] = value.strip()
        components.append(calendar)
    return components, lost, truncated


def _blocks(lines: list[str]) -> Iterator[tuple[str, list[str], bool]]:
    """Split lines into (component name, lines, closed?) blocks at nesting depth zero."""
    depth = 0
    current: list[str] = []
    name = ""
    for line in lines:
        key, _, value = line.strip().partition(":")
        if key.upper() == "BEGIN":
            if depth == 0:
                name, current = value.strip().upper(), []
            depth += 1
        if depth:
            current.append(line)
        if key.upper() == "END" and depth:
            depth -= 1
            if depth == 0:
                yield name, current, True
    if depth and current:
        yield name, current, False


def _parse_block(name: str, lines: list[str], notes: list[str], lost: list[str]) -> list[Component]:
    """Parse one block alone; a VEVENT that cannot be read is recorded in ``lost``."""
    try:
        components, _ = _parse_text("\r\n".join(lines) + "\r\n", notes)
    except Exception as error:
        if name == "VEVENT":
            lost.append(f"VEVENT block unreadable ({type(error).__name__}: {error})")
        else:
            notes.append(f"{name} block unreadable and skipped ({type(error).__name__}: {error})")
        return []
    return components


def _component_problems(components: list[Component]) -> list[str]:
    """Warnings for unreadable values outside VEVENTs (VTIMEZONE, VALARM); VEVENTs report their own."""
    problems: list[str] = []
    for component in components:
        for part in component.walk():
            for name, message in part.errors if part.name != "VEVENT" else ():
                problem = f"{part.name}: {name or 'a line'} unreadable ({message}); ignored"
                if name != _CUT_OFF and problem not in problems:
                    problems.append(problem)
    return problems


def _calendars(components: list[Component]) -> Iterator[Component]:
    """Each VCALENDAR, then one calendar holding any stray top-level components (bare VEVENTs)."""
    stray = Calendar()
    for component in components:
        if component.name == "VCALENDAR":
            yield component
        else:
            stray.add_component(component)
    if stray.subcomponents:
        yield stray


class _Importer:
    """Turns the VEVENTs of parsed calendars into listings, warnings and rejections."""

    def __init__(
        self, source: str, fetched_at: datetime, window: Window, result: ICalResult, max_listings: int
    ) -> None:
        self.source = source
        self.fetched_at = fetched_at
        self.window = window
        self.result = result
        self.max_listings = max_listings
        self.steps_left = MAX_STEPS_PER_CALENDAR
        self._zones: dict[str, tzinfo] = {}
        self._texts: dict[int, str] = {}

    def warn(self, message: str) -> None:
        """Record a warning once."""
        if message not in self.result.warnings:
            self.result.warnings.append(message)

    def reject(self, record_id: str | None, reason: str, field_name: str | None = None) -> None:
        """Record a rejection and the matching warning."""
        self.result.rejections.append(Rejection(self.source, record_id, reason, field_name))
        self.warn(f"VEVENT {record_id or '(no UID)'}: {reason}")

    def import_calendar(self, calendar: Component) -> None:
        """Group the calendar's usable VEVENTs by UID and import each group."""
        calendar, default_zone = self._apply_x_wr_timezone(calendar)
        groups: dict[str, list[Component]] = {}
        without_uid = 0
        for event in calendar.walk("VEVENT"):
            uid = _uid(event)
            if uid is None:
                uid = _synthetic_uid(event)
                without_uid += 1
            if self._usable(event, uid):
                groups.setdefault(uid, []).append(event)
        if without_uid:
            self.warn(f"{without_uid} VEVENT(s) without UID; record ids hash DTSTART, SUMMARY, LOCATION")
        for uid, group in groups.items():
            parts = _split_reused_uid(group)
            if len(parts) > 1:
                self.warn(f"VEVENT {uid}: UID used by {len(parts)} different events; each imported")
            for part in parts:
                if len(self.result.listings) >= self.max_listings:
                    self.reject(uid, f"not read: the file already gave {self.max_listings} occurrences")
                    continue
                try:
                    self._import_group(uid, part, default_zone, len(parts) > 1)
                except _Refused as refused:
                    self.reject(uid, refused.reason, "recurrence")
                except Exception as error:  # isolation: one event's surprise must not cost the calendar
                    self.reject(uid, f"could not be imported ({type(error).__name__}: {error})")

    def _apply_x_wr_timezone(self, calendar: Component) -> tuple[Component, tzinfo]:
        """Apply X-WR-TIMEZONE to floating and UTC times; return the zone for floating times."""
        name = calendar.get("X-WR-TIMEZONE")
        if not name or isinstance(name, list):
            return calendar, BERLIN
        zone = _known_zone(str(name))
        if zone is None:
            self.warn(f"X-WR-TIMEZONE {str(name)!r} is unknown; floating times read as Europe/Berlin")
            return calendar, BERLIN
        try:
            with _WARNINGS_LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                converted = x_wr_timezone.to_standard(calendar, timezone=zone)
        except Exception as error:
            self.warn(f"X-WR-TIMEZONE {str(name)!r} could not be applied ({error})")
            return calendar, zone
        return converted, zone

    def _usable(self, event: Component, uid: str) -> bool:
        """Drop unreadable properties (with warnings); False, with a rejection, if DTSTART is unusable."""
        for name, message in event.errors:
            if name == _CUT_OFF:
                self.reject(uid, "VEVENT cut off by the end of the file")
                return False
            if name is None:
                self.warn(f"VEVENT {uid}: unreadable line skipped ({message})")
        for name in list(event.keys()):
            values = event[name]
            if isinstance(values, list):
                good = [value for value in values if not isinstance(value, vBroken)]
                bad = [value for value in values if isinstance(value, vBroken)]
            else:
                good, bad = ([], [values]) if isinstance(values, vBroken) else ([values], [])
            if not bad:
                continue
            if name == "DTSTART":
                self.reject(uid, f"DTSTART unreadable ({str(bad[0])!r})", "start")
                return False
            if not name.startswith("X-"):
                self.warn(f"VEVENT {uid}: {name} unreadable ({str(bad[0])!r}), ignored")
            del event[name]
            if good:
                event[name] = good if len(good) > 1 else good[0]
        start = event.get("DTSTART")
        if start is None:
            self.reject(uid, "VEVENT without DTSTART", "start")
            return False
        if isinstance(start, list) and start:
            self.warn(f"VEVENT {uid}: {len(start)} DTSTART lines; the first is used")
            start = event["DTSTART"] = start[0]
        if isinstance(start, list) or not isinstance(getattr(start, "dt", None), date):
            raw = _raw_value(event, "DTSTART")
            self.reject(uid, f"DTSTART is not a date or date-time ({raw!r})", "start")
            return False
        _drop_broken_zones(event)
        return True

    def _import_group(
        self, uid: str, group: list[Component], default_zone: tzinfo, shared_uid: bool = False
    ) -> None:
        """Expand one UID's events within the window and turn each occurrence into a listing."""
        recurring = shared_uid or any(
            name in event for event in group for name in ("RRULE", "RDATE", "RECURRENCE-ID")
        )
        try:
            occurrences = self._expand(uid, group, default_zone)
        except _Refused:
            raise
        except Exception as error:
            self.warn(
                f"VEVENT {uid}: recurrence could not be expanded ({type(error).__name__}: {error}); "
                "imported its own dates only"
            )
            occurrences = []
            for event in group:
                try:
                    if self._starts_within(event, default_zone):
                        occurrences.append(event)
                except Exception as problem:
                    self.reject(uid, f"DTSTART unusable ({type(problem).__name__}: {problem})", "start")
        if not occurrences:
            self._count_outside(uid, group, default_zone)
        room = self.max_listings - len(self.result.listings)
        if len(occurrences) > room:
            self.warn(f"VEVENT {uid}: the file gives over {self.max_listings} occurrences; the rest dropped")
            del occurrences[room:]
        for occurrence in occurrences:
            origin = _origin_of(occurrence, group)
            try:
                listing = self._listing(uid, occurrence, origin, recurring, default_zone)
            except Exception as error:
                self.reject(uid, f"occurrence unusable ({type(error).__name__}: {error})")
                continue
            self.result.listings.append(listing)

    def _expand(self, uid: str, group: list[Component], default_zone: tzinfo) -> list[Component]:
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
            stop, cut = self._bounded_stop(group, limit, default_zone)
            occurrences = list(recurring_ical_events.of(calendar).between(self.window.start, stop))
        for warning in caught:
            self.warn(f"VEVENT {uid}: {warning.message}")
        if cut or len(occurrences) > limit:
            self.warn(f"VEVENT {uid}: more than {limit} occurrences in the window; the rest dropped")
            occurrences.sort(key=lambda occurrence: _utc_start(occurrence, default_zone))
            del occurrences[limit:]
        return occurrences

    def _bounded_stop(
        self, group: list[Component], limit: int, default_zone: tzinfo
    ) -> tuple[datetime, bool]:
        """Where to stop expanding: the window's end, or earlier once a rule has ``limit`` occurrences in it.

        Walks each RRULE lazily (the library would build every repetition up to the end in one list)
        and charges the steps to the series' and the calendar's budgets; :class:`_Refused` when spent.
        """
        stop, cut = self.window.end, False
        if not any("RRULE" in event for event in group):
            return stop, cut
        series = Series([EventAdapter(event) for event in group])
        rules = list(getattr(series.recurrence, "rrules", []))[1:]  # [0] holds the RDATEs: finite
        earliest = self.window.start - series._subtract_from_start  # an occurrence may reach into it
        for rule in rules:
            for steps, candidate in enumerate(rule, start=1):
                moment = candidate if candidate.tzinfo else candidate.replace(tzinfo=default_zone)
                if moment >= stop:
                    break
                self.steps_left -= 1
                if steps > MAX_STEPS_PER_SERIES:
                    raise _Refused(
                        f"RRULE needs more than {MAX_STEPS_PER_SERIES} repetitions before {stop:%Y-%m-%d}; "
                        "not expanded"
                    )
                if self.steps_left < 0:
                    raise _Refused(
                        f"RRULE not expanded: the file's {MAX_STEPS_PER_CALENDAR} repetitions are spent"
                    )
                if moment >= earliest:
                    limit -= 1
                    if limit < 0:
                        stop, cut = moment, True
                        break
        return stop, cut

    def _count_outside(self, uid: str, group: list[Component], default_zone: tzinfo) -> None:
        """Count a UID that gave no occurrence in the window as past or future (by its first start)."""
        try:
            event = min(
                (event for event in group if "DTSTART" in event),
                key=lambda event: _utc_start(event, default_zone),
            )
            start, all_day = _aware(_when(event, "DTSTART"), self._zone_of(event, "DTSTART", default_zone))
            end = self._end(uid, event, event, start, all_day, default_zone)
        except Exception:  # an unreadable start was rejected already
            return
        recurring = any(name in event for event in group for name in ("RRULE", "RDATE"))
        reason = self.window.outside(start, None if recurring else end)
        self.result.outside.add(reason or ("future" if start >= self.window.end else "past"), start)

    def _starts_within(self, event: Component, default_zone: tzinfo) -> bool:
        """Whether the event's own DTSTART lies in the window (used when expansion failed)."""
        start, _ = _aware(_when(event, "DTSTART"), self._zone_of(event, "DTSTART", default_zone))
        return self.window.start <= start < self.window.end

    def _zone_of(self, event: Component, name: str, default_zone: tzinfo) -> tzinfo:
        """The zone for a naive ``name`` value: a guess from its unresolved TZID, else the floating zone."""
        value = event.get(name)
        params = getattr(value, "params", None) or {}
        tzid = params.get("TZID")
        if not tzid:
            return default_zone
        tzid = str(tzid)
        if tzid not in self._zones:
            zone = _known_zone(tzid)
            offset = _display_offset(tzid)
            if zone is None and offset is not None:
                zone = timezone(offset)
                self.warn(f"TZID {tzid!r} has no VTIMEZONE; read as fixed offset {zone}")
            elif zone is None:
                zone = BERLIN
                self.warn(f"unknown TZID {tzid!r} without a usable VTIMEZONE; read as Europe/Berlin")
            self._zones[tzid] = zone
        return self._zones[tzid]

    def _listing(
        self, uid: str, occurrence: Component, origin: Component, recurring: bool, default_zone: tzinfo
    ) -> Listing:
        """One listing from one occurrence; ``origin`` is the VEVENT it came from."""
        zone = self._zone_of(origin, "DTSTART", default_zone)
        start, all_day = _aware(_when(occurrence, "DTSTART"), zone)
        if _declared_date(origin) and start.time() == time():
            all_day = True
        end = self._end(uid, occurrence, origin, start, all_day, zone)
        recurrence_id = occurrence.get("RECURRENCE-ID")
        recurrence_key = None
        record_id = uid
        if recurring:
            rid_value = _when(occurrence, "RECURRENCE-ID" if recurrence_id is not None else "DTSTART")
            recurrence_key = _utc_key(rid_value, zone)
            record_id = f"{uid}#{recurrence_key}"
        previous_start = None
        if recurring and "RECURRENCE-ID" in origin:
            moved_from, _ = _aware(_when(origin, "RECURRENCE-ID"), zone)
            previous_start = moved_from if moved_from != start else None
        title = _text(occurrence, "SUMMARY")
        if title is None:
            self.warn(f"VEVENT {uid}: no SUMMARY; titled {UNTITLED!r}")
        location = _text(occurrence, "LOCATION")
        venue_name, venue_address = _split_location(location) if location else (None, None)
        status_text = _text(occurrence, "STATUS")
        return Listing(
            source=self.source,
            record_id=record_id,
            title=title or UNTITLED,
            fetched_at=self.fetched_at,
            url=_text(occurrence, "URL"),
            series_key=uid,
            start=start,
            end=end,
            all_day=all_day,
            description=_text(occurrence, "DESCRIPTION"),
            categories=_categories(occurrence),
            language=_language(occurrence),
            image=_image(occurrence),
            organiser=_organiser(occurrence),
            venue_name=venue_name,
            venue_address=venue_address,
            geo=_geo(occurrence),
            status=_status(status_text),
            status_text=status_text,
            previous_start=previous_start,
            raw={"ical": self._ical_text(origin), "recurrence_id": recurrence_key},
        )

    def _ical_text(self, event: Component) -> str:
        """The VEVENT's text, serialised once however many occurrences it has."""
        if id(event) not in self._texts:
            self._texts[id(event)] = _ical_text(event)
        return self._texts[id(event)]

    def _end(
        self,
        uid: str,
        occurrence: Component,
        origin: Component,
        start: datetime,
        all_day: bool,
        zone: tzinfo,
    ) -> datetime | None:
        """End from DTEND or DURATION; all-day events without one last a day, timed ones have none."""
        end: datetime | None = None
        if "DTEND" in occurrence and (all_day or "DTEND" in origin or "DURATION" in origin):
            end, _ = _aware(_when(occurrence, "DTEND"), self._zone_of(origin, "DTEND", zone))
        elif isinstance(duration := getattr(occurrence.get("DURATION"), "dt", None), timedelta):
            end = start + duration
        elif all_day:
            end = start + timedelta(days=1)
        if end is not None and end < start:
            self.warn(f"VEVENT {uid}: ends before it starts; end ignored")
            return None
        return end


def _when(component: Component, name: str) -> date:
    """The date or date-time value of a property such as DTSTART."""
    value = getattr(component.get(name), "dt", None)
    if not isinstance(value, date):
        raise TypeError(f"{name} is not a date or date-time: {value!r}")
    return value


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


def _drop_broken_zones(event: Component) -> None:
    """Make times in a zone that cannot compute offsets (a damaged VTIMEZONE) naive; their TZID stays."""
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
        for value in _values(event, name):
            for item in getattr(value, "dts", None) or [value]:
                moment = getattr(item, "dt", None)
                if isinstance(moment, datetime) and moment.tzinfo and not _zone_works(moment.tzinfo):
                    item.dt = moment.replace(tzinfo=None)


def _zone_works(zone: tzinfo) -> bool:
    """Whether a zone can give offsets in winter and summer."""
    try:
        for month in (1, 7):
            datetime(2025, month, 1, tzinfo=zone).utcoffset()
    except Exception:
        return False
    return True


def _uid(event: Component) -> str | None:
    """The event's UID, if it has a readable one."""
    uid = event.get("UID")
    if isinstance(uid, list):
        uid = uid[0] if uid else None
    if uid is None or isinstance(uid, vBroken):
        return None
    return str(uid).strip() or None


def _synthetic_uid(event: Component) -> str:
    """A stable stand-in for a missing UID: a hash of start, title and place."""
    basis = "|".join(_raw_value(event, name) for name in ("DTSTART", "SUMMARY", "LOCATION"))
    return "nouid-" + hashlib.sha1(basis.encode()).hexdigest()[:16]


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


def _declared_date(event: Component) -> bool:
    """Whether DTSTART says VALUE=DATE (some producers add a TZID, which makes icalendar read a datetime)."""
    params = getattr(event.get("DTSTART"), "params", None) or {}
    return str(params.get("VALUE", "")).upper() == "DATE"


def _comparable(value: date) -> tuple[str, str]:
    """A key under which equal RECURRENCE-ID values compare equal, whatever their zone handling."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return "utc", value.astimezone(UTC).replace(tzinfo=None).isoformat()
        return "local", value.isoformat()
    return "date", value.isoformat()


def _frequency(event: Component) -> str:
    """The FREQ of the event's RRULE, or ''."""
    rule = event.get("RRULE")
    if isinstance(rule, list):
        rule = rule[0] if rule else None
    frequency = rule.get("FREQ") if isinstance(rule, Mapping) else None
    if isinstance(frequency, list):
        frequency = frequency[0] if frequency else None
    return str(frequency or "").upper()


def _utc_start(component: Component, zone: tzinfo) -> datetime:
    """The component's DTSTART as an aware datetime (naive values read in ``zone``)."""
    return _aware(_when(component, "DTSTART"), zone)[0]


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
            0 < abs(day) <= calendars.monthrange(2024, month)[1] for day in month_days for month in months
            if 1 <= month <= 12
        ):
            raise _Refused(f"RRULE never occurs: no month {months} has a day {month_days}")


def _known_zone(name: str) -> tzinfo | None:
    """A zone for a TZID or X-WR-TIMEZONE: icalendar's lookup, a fixed UTC offset, or a German name."""
    try:
        zone = tzp.timezone(name)
    except Exception:
        zone = None
    if zone is not None and _zone_works(zone):
        return zone
    match = _FIXED_OFFSET.match(name.strip())
    if match:
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if offset < timedelta(hours=24):
            return timezone(-offset if sign == "-" else offset)
    if _display_offset(name) == timedelta(hours=1):
        return BERLIN
    if name.strip().strip('"').lower() in _CENTRAL_EUROPEAN_NAMES:
        return BERLIN
    return None


def _display_offset(name: str) -> timedelta | None:
    """The standard offset named by a Windows display name such as "(UTC+01:00) Amsterdam, Berlin"."""
    match = _DISPLAY_NAME.match(name.strip().strip('"'))
    if not match:
        return None
    sign, hours, minutes = match.groups()
    if not hours:
        return timedelta(0)
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    return -offset if sign == "-" else offset


def _aware(value: date, zone: tzinfo) -> tuple[datetime, bool]:
    """An aware datetime in Europe/Berlin for a DATE or DATE-TIME value, and whether it was a DATE."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(BERLIN), False
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=BERLIN), True
    raise TypeError(f"not a date or date-time: {value!r}")


def _utc_key(value: date, zone: tzinfo) -> str:
    """The recurrence key of an occurrence: the date, or the start in UTC ISO form."""
    if isinstance(value, datetime):
        aware, _ = _aware(value, zone)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _raw_value(component: Component, name: str) -> str:
    """The value of a property as text, whatever its type ('' when absent)."""
    value = component.get(name)
    if value is None:
        return ""
    try:
        return str(value.to_ical().decode() if hasattr(value, "to_ical") else value)
    except Exception:
        return str(value)


def _text(component: Component, name: str) -> str | None:
    """A text property, stripped; the first one when repeated."""
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, vBroken):
        return None
    text = str(value).strip()
    return text or None


def _values(component: Component, name: str) -> list[Any]:
    """All values of a property that may be repeated."""
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _split_location(location: str) -> tuple[str, str | None]:
    """Venue name and address from LOCATION: the first line or comma-separated part is the name."""
    lines = [line.strip() for line in location.splitlines() if line.strip()]
    if len(lines) > 1:
        return lines[0], ", ".join(lines[1:])
    name, _, rest = location.partition(",")
    return name.strip(), rest.strip() or None


def _categories(component: Component) -> list[str]:
    """All CATEGORIES values, comma lists split, duplicates removed."""
    found: list[str] = []
    for value in _values(component, "CATEGORIES"):
        items: Iterable[Any] = getattr(value, "cats", None) or [value]
        for item in items:
            for part in str(item).split(","):
                text = part.strip()
                if text and text not in found:
                    found.append(text)
    return found


def _language(component: Component) -> str | None:
    """The LANGUAGE parameter of SUMMARY or DESCRIPTION."""
    for name in ("SUMMARY", "DESCRIPTION"):
        for value in _values(component, name):
            language = getattr(value, "params", {}).get("LANGUAGE")
            if language:
                return str(language)
    return None


def _image(component: Component) -> str | None:
    """An image URL from IMAGE (RFC 7986) or an ATTACH with an image FMTTYPE."""
    for name in ("IMAGE", "ATTACH"):
        for value in _values(component, name):
            params = getattr(value, "params", {})
            if str(params.get("VALUE", "")).upper() == "BINARY" or params.get("ENCODING"):
                continue
            if name == "ATTACH" and not str(params.get("FMTTYPE", "")).lower().startswith("image/"):
                continue
            url = str(value).strip()
            if url.startswith(("http://", "https://")):
                return url
    return None


def _organiser(component: Component) -> str | None:
    """The common name (CN) of the ORGANIZER."""
    for value in _values(component, "ORGANIZER"):
        name = str(getattr(value, "params", {}).get("CN", "")).strip().strip('"')
        if name:
            return name
    return None


def _geo(component: Component) -> tuple[float, float] | None:
    """GEO as (latitude, longitude)."""
    value = component.get("GEO")
    latitude, longitude = getattr(value, "latitude", None), getattr(value, "longitude", None)
    if latitude is None or longitude is None:
        return None
    return float(latitude), float(longitude)


def _status(text: str | None) -> Status | None:
    """CANCELLED is cancelled; CONFIRMED and TENTATIVE are scheduled."""
    if text is None:
        return None
    return {"CANCELLED": Status.CANCELLED, "CONFIRMED": Status.SCHEDULED, "TENTATIVE": Status.SCHEDULED}.get(
        text.upper()
    )


def _ical_text(component: Component) -> str:
    """The VEVENT as iCalendar text, for the raw record."""
    try:
        return bytes(component.to_ical()).decode("utf-8", errors="replace")
    except Exception as error:
        return f"(not serialisable: {error})"


def _make_record_ids_unique(result: ICalResult) -> None:
    """Give listings that share a record id (duplicate UIDs) the start time as a suffix."""
    seen: set[str] = set()
    for index, listing in enumerate(result.listings):
        record_id = listing.record_id
        if record_id in seen and listing.start is not None:
            suffix = listing.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            record_id = f"{listing.record_id}@{suffix}"
        number = 2
        while record_id in seen:
            record_id = f"{listing.record_id}~{number}"
            number += 1
        if record_id != listing.record_id:
            message = f"record id {listing.record_id!r} used more than once (duplicate UID); disambiguated"
            if message not in result.warnings:
                result.warnings.append(message)
            result.listings[index] = listing.evolve(record_id=record_id)
        seen.add(record_id)


class ICalFeedSource(DocumentSource[ICalResult]):
    """An iCalendar feed, configured by settings alone.

    Options: ``name``, ``url``/``urls``, ``venue`` (given to every listing without a LOCATION) and
    ``past_days``/``future_days`` (the window; see :func:`sources.platforms._document.source_window`).
    """

    abstract: ClassVar[bool] = True
    platform: ClassVar[str] = "ical"
    format_label: ClassVar[str] = "iCalendar"

    def events_in(self, result: ICalResult) -> int:
        """The VEVENTs of the file."""
        return result.vevents

    def not_the_format(self, error: SourceError) -> str | None:
        """The reason of a :class:`NotACalendar`."""
        return f"no iCalendar ({error.reason})" if isinstance(error, NotACalendar) else None

    def read(self, document: Document) -> ICalResult:
        """Parse one document (eagerly, so a broken one fails here)."""
        return parse_calendar(
            document.body,
            source=self.source_name,
            fetched_at=document.fetched_at,
            window=self.window(document.fetched_at),
            origin=document.url,
        )
