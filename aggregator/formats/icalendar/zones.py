"""Time zones of iCalendar values: resolving and guessing TZIDs, making times aware."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from icalendar import Component
from icalendar.timezone import tzp

from aggregator.formats.icalendar.properties import (
    _values,
    _when,
)
from aggregator.types import BERLIN

_FIXED_OFFSET = re.compile(r"^(?:UTC|GMT)\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)

# Outlook also writes Windows display names, "(UTC+01:00) Amsterdam, Berlin, ..." or "(GMT+10:00) Canberra".
_DISPLAY_NAME = re.compile(r"^\((?:UTC|GMT)\s*(?:([+-])(\d{1,2}):?(\d{2}))?\)", re.IGNORECASE)

# Localised Windows display names seen in German Outlook exports; no library maps these.
_CENTRAL_EUROPEAN_NAMES = frozenset({"mitteleuropäische zeit", "mitteleuropäische sommerzeit"})


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


def _utc_start(component: Component, zone: tzinfo) -> datetime:
    """The component's DTSTART as an aware datetime (naive values read in ``zone``)."""
    return _aware(_when(component, "DTSTART"), zone)[0]
