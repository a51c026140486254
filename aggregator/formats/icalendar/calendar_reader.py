"""Reading an iCalendar file into listings: the result, the refusal, and VEVENT → Listing."""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import ClassVar

import x_wr_timezone
from icalendar import Component, vBroken

from aggregator.formats.decoding import decode
from aggregator.formats.errors import DocumentError
from aggregator.formats.icalendar.parser import (
    _CUT_OFF,
    _WARNINGS_LOCK,
    _calendars,
    _component_problems,
    _not_a_calendar,
    _read_components,
    source_text,
)
from aggregator.formats.icalendar.properties import (
    _categories,
    _declared_date,
    _geo,
    _image,
    _language,
    _organiser,
    _raw_value,
    _split_location,
    _status,
    _synthetic_uid,
    _text,
    _uid,
    _when,
)
from aggregator.formats.icalendar.recurrence import (
    StepBudget,
    _origin_of,
    _Refused,
    _split_reused_uid,
    expand,
)
from aggregator.formats.icalendar.zones import (
    _aware,
    _display_offset,
    _drop_broken_zones,
    _known_zone,
    _utc_key,
    _utc_start,
)
from aggregator.formats.read_result import UNTITLED, ReadResult
from aggregator.formats.record_ids import make_record_ids_unique
from aggregator.listing import Listing, Rejection
from aggregator.types import BERLIN
from aggregator.window import Window

MAX_LISTINGS = 200_000
"""Occurrences one file yields at most (by default); the VEVENTs after that are rejected."""


class NotACalendar(DocumentError):
    """The data is not an iCalendar file at all (an HTML page, empty, garbage, cut off too early)."""

    failure: ClassVar[str] = "is not an iCalendar file"
    default_source: ClassVar[str] = "ical"


def parse_calendar(
    data: bytes,
    *,
    source: str,
    fetched_at: datetime,
    window: tuple[datetime, datetime],
    origin: str = "",
    max_listings: int = MAX_LISTINGS,
) -> ReadResult:
    """Read iCalendar ``data`` into one listing per occurrence that overlaps ``window``.

    ``window`` is a :class:`~aggregator.window.Window` or a pair of aware datetimes (start
    inclusive, end exclusive). At most ``max_listings`` occurrences are read; the VEVENTs after
    them are rejected. Raises :class:`NotACalendar` when ``data`` is no calendar at all; any damage
    inside a calendar is reported in the result's ``warnings`` and ``rejections`` instead.
    """
    result = ReadResult()
    text = decode(data, result.warnings)
    reason = _not_a_calendar(text)
    if reason:
        raise NotACalendar(origin, reason, source)
    components, lost, truncated = _read_components(text, result.warnings)
    result.records = sum(len(component.walk("VEVENT")) for component in components) + len(lost)
    if not result.records and not any(component.name == "VCALENDAR" for component in components):
        raise NotACalendar(origin, "no VCALENDAR or VEVENT component could be read", source)
    if truncated:
        if not result.records:
            raise NotACalendar(origin, "it ends before its first VEVENT (truncated?)", source)
        result.warnings.append("the file ends inside a component (truncated?)")
    for reason in lost:
        result.rejections.append(Rejection(source, None, reason))
        result.warnings.append(reason)
    result.warnings.extend(_component_problems(components))
    importer = _Importer(source, fetched_at, Window(*window), result, max_listings)
    for calendar in _calendars(components):
        importer.import_calendar(calendar)
    make_record_ids_unique(
        result.listings,
        result.warnings,
        separator="@",
        why="used more than once (duplicate UID); disambiguated",
    )
    outside = result.outside.message(importer.window)
    if outside:
        result.warnings.append(outside)
    return result


class _Importer:
    """Turns the VEVENTs of parsed calendars into listings, warnings and rejections."""

    def __init__(
        self, source: str, fetched_at: datetime, window: Window, result: ReadResult, max_listings: int
    ) -> None:
        self.source = source
        self.fetched_at = fetched_at
        self.window = window
        self.result = result
        self.max_listings = max_listings
        self.budget = StepBudget()
        self._zones: dict[str, tzinfo] = {}

    def reject(self, record_id: str | None, reason: str, field_name: str | None = None) -> None:
        """Record a rejection and the matching warning."""
        rejection = Rejection(self.source, record_id, reason, field_name)
        self.result.reject(rejection, f"VEVENT {record_id or '(no UID)'}")

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
            self.result.warn(
                f"{without_uid} VEVENT(s) without UID; record ids hash DTSTART, SUMMARY, LOCATION"
            )
        for uid, group in groups.items():
            parts = _split_reused_uid(group)
            if len(parts) > 1:
                self.result.warn(f"VEVENT {uid}: UID used by {len(parts)} different events; each imported")
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
            self.result.warn(f"X-WR-TIMEZONE {str(name)!r} is unknown; floating times read as Europe/Berlin")
            return calendar, BERLIN
        try:
            with _WARNINGS_LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                converted = x_wr_timezone.to_standard(calendar, timezone=zone)
        except Exception as error:
            self.result.warn(f"X-WR-TIMEZONE {str(name)!r} could not be applied ({error})")
            return calendar, zone
        return converted, zone

    def _usable(self, event: Component, uid: str) -> bool:
        """Drop unreadable properties (with warnings); False, with a rejection, if DTSTART is unusable."""
        for name, message in event.errors:
            if name == _CUT_OFF:
                self.reject(uid, "VEVENT cut off by the end of the file")
                return False
            if name is None:
                self.result.warn(f"VEVENT {uid}: unreadable line skipped ({message})")
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
                self.result.warn(f"VEVENT {uid}: {name} unreadable ({str(bad[0])!r}), ignored")
            del event[name]
            if good:
                event[name] = good if len(good) > 1 else good[0]
        start = event.get("DTSTART")
        if start is None:
            self.reject(uid, "VEVENT without DTSTART", "start")
            return False
        if isinstance(start, list) and start:
            self.result.warn(f"VEVENT {uid}: {len(start)} DTSTART lines; the first is used")
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
            occurrences = expand(uid, group, self.window, default_zone, self.budget, self.result.warn)
        except _Refused:
            raise
        except Exception as error:
            self.result.warn(
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
            self.result.warn(
                f"VEVENT {uid}: the file gives over {self.max_listings} occurrences; the rest dropped"
            )
            del occurrences[room:]
        for occurrence in occurrences:
            origin = _origin_of(occurrence, group)
            try:
                listing = self._listing(uid, occurrence, origin, recurring, default_zone)
            except Exception as error:
                self.reject(uid, f"occurrence unusable ({type(error).__name__}: {error})")
                continue
            self.result.listings.append(listing)

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
                self.result.warn(f"TZID {tzid!r} has no VTIMEZONE; read as fixed offset {zone}")
            elif zone is None:
                zone = BERLIN
                self.result.warn(f"unknown TZID {tzid!r} without a usable VTIMEZONE; read as Europe/Berlin")
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
            self.result.warn(f"VEVENT {uid}: no SUMMARY; titled {UNTITLED!r}")
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
            raw={"ical": source_text(origin), "recurrence_id": recurrence_key},
        )

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
            self.result.warn(f"VEVENT {uid}: ends before it starts; end ignored")
            return None
        return end
