"""Render subscribable iCalendar feeds (RFC 5545 + RFC 7986) from plain feed items.

The API turns database rows into :class:`FeedItem` values and calls :func:`render_calendar`; this
module knows nothing about the database. Serialisation, escaping and line folding are icalendar's.

Choices a subscriber's client sees:

* A published feed, not a scheduling message: no ``METHOD`` and no ``ORGANIZER`` (with them,
  Outlook and libical treat the feed as invitations). Events are ``TRANSP:TRANSPARENT`` so that
  subscribing to a city's feed never marks anyone busy.
* Updates in place: the caller's stable ``UID`` and ``SEQUENCE`` plus ``DTSTAMP``/``LAST-MODIFIED``.
* ``STATUS``: scheduled and rescheduled are ``CONFIRMED``, postponed is ``TENTATIVE`` (no new date
  yet), cancelled is ``CANCELLED``. Several clients hide or ignore ``STATUS``, so cancelled and
  postponed summaries also start with "Abgesagt: " / "Verschoben: ".
* Times are ``DTSTART;TZID=<zone>`` with a VTIMEZONE in RRULE form (:mod:`calendar_api.vtimezone`).
  Instants in the hour that repeats when clocks go back are written in UTC instead: consumers
  disagree on which of the two a repeated local time means. ``X-WR-TIMEZONE`` names the zone for
  clients that show one (recurring-ical-events, applying it, misplaces exactly those UTC instants).
* A timed item without an end (or with an end not after its start) gets no ``DTEND``: RFC 5545 then
  means "ends when it starts", and nothing is invented. All-day items are ``VALUE=DATE`` with an
  exclusive ``DTEND`` covering every local day the interval ``[start, end)`` touches.

Serialised VEVENTs are memoised per item (LRU, 8192), so re-rendering an unchanged feed is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration, vText, vUri
from icalendar.enums import STATUS, TRANSP

from aggregator.text import clean_text
from aggregator.types import Status
from calendar_api.vtimezone import vtimezone

PRODID = "-//stadtkalender//stadtkalender Dortmund//DE"
ICAL_MEDIA_TYPE = "text/calendar"
"""The media type of iCalendar (RFC 5545): what the feeds serve and push accepts."""

_STATUS = {
    Status.SCHEDULED: STATUS.CONFIRMED,
    Status.RESCHEDULED: STATUS.CONFIRMED,
    Status.POSTPONED: STATUS.TENTATIVE,
    Status.CANCELLED: STATUS.CANCELLED,
}
_PREFIX = {Status.CANCELLED: "Abgesagt: ", Status.POSTPONED: "Verschoben: "}
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"
_ONE_DAY = timedelta(days=1)
_END = b"END:VCALENDAR\r\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedCalendar:
    """The feed as a whole: what a client shows for the subscription and how often it refreshes."""

    name: str
    description: str
    url: str
    source_url: str
    refresh_interval: str = "PT6H"
    color: str | None = None
    timezone: str = "Europe/Berlin"
    prodid: str = PRODID

    def __post_init__(self) -> None:
        try:
            positive = _duration(self.refresh_interval) > timedelta(0)
        except ValueError:
            positive = False
        if not positive:
            raise ValueError(
                f"FeedCalendar {self.source_url}: refresh_interval {self.refresh_interval!r} "
                "is not a positive ISO 8601 duration"
            )
        ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedItem:
    """One occurrence as a feed shows it; every datetime must be timezone-aware.

    For an all-day item only the local calendar days of ``start`` and ``end`` count (see module doc).
    ``geo`` is ``(latitude, longitude)``; a pair outside WGS 84 ranges is left out of the feed.
    """

    uid: str
    sequence: int
    dtstamp: datetime
    last_modified: datetime
    start: datetime
    summary: str
    end: datetime | None = None
    all_day: bool = False
    created: datetime | None = None
    description: str | None = None
    location: str | None = None
    geo: tuple[float, float] | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()
    status: Status = Status.SCHEDULED
    image: str | None = None
    image_type: str | None = None

    def __post_init__(self) -> None:
        # Tuples, so that items are hashable (rendered VEVENTs are memoised by item).
        object.__setattr__(self, "categories", tuple(self.categories))
        if self.geo is not None:
            object.__setattr__(self, "geo", tuple(self.geo))
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, datetime) and value.utcoffset() is None:
                raise ValueError(f"FeedItem {self.uid}: {field.name} {value.isoformat()} has no timezone")
        if self.sequence < 0:
            raise ValueError(f"FeedItem {self.uid}: sequence {self.sequence} is negative")


def render_calendar(calendar: FeedCalendar, items: Iterable[FeedItem]) -> bytes:
    """Serialise ``calendar`` with one VEVENT per item as an RFC 5545 feed (UTF-8, CRLF, folded).

    Raises :class:`ValueError` when two items share a UID: clients would merge them into one event.
    """
    feed = _vcalendar(calendar)
    feed.add_component(vtimezone(calendar.timezone))
    events: dict[str, bytes] = {}
    for item in items:
        if item.uid in events:
            raise ValueError(f"feed {calendar.source_url}: duplicate UID {item.uid!r}")
        events[item.uid] = _vevent_ical(item, calendar.timezone)
    head = bytes(feed.to_ical())
    assert head.endswith(_END), "icalendar ends every VCALENDAR with END:VCALENDAR"
    return head.removesuffix(_END) + b"".join(events.values()) + _END


@lru_cache(maxsize=8192)
def _vevent_ical(item: FeedItem, tzid: str) -> bytes:
    """One serialised VEVENT, memoised: every poll re-renders a feed whose items rarely change."""
    return bytes(_vevent(item, ZoneInfo(tzid)).to_ical())


def _vcalendar(calendar: FeedCalendar) -> Calendar:
    """The VCALENDAR with the RFC 7986 properties and the X-WR-* ones older clients read instead."""
    feed = Calendar()
    feed.add("version", "2.0")
    feed.add("prodid", calendar.prodid)
    feed.add("calscale", "GREGORIAN")
    # Wrapped in vText because icalendar types NAME and X-WR-* on VCALENDAR as unescaped "unknown".
    feed.add("name", _text(_one_line(calendar.name)))
    feed.add("x-wr-calname", _text(_one_line(calendar.name)))
    if calendar.description:
        feed.add("description", _text(calendar.description))
        feed.add("x-wr-caldesc", _text(calendar.description))
    feed.add("x-wr-timezone", calendar.timezone)
    interval = _duration(calendar.refresh_interval)
    feed.add("refresh-interval", vDuration(interval), parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", vDuration(interval))
    if source := _uri(calendar.source_url):
        feed.add("source", source, parameters={"VALUE": "URI"})
    if url := _uri(calendar.url):
        feed.add("url", url)
    if calendar.color:
        feed.add("color", calendar.color)
    return feed


def _vevent(item: FeedItem, zone: ZoneInfo) -> Event:
    """One VEVENT; optional properties are left out rather than written empty."""
    start: date | datetime
    end: date | datetime | None
    if item.all_day:
        start, end = _day_span(item.start, item.end, zone)
    else:
        start = _local(item.start, zone)
        end = _local(item.end, zone) if item.end is not None and item.end > item.start else None
    event = Event.new(
        uid=item.uid,
        sequence=item.sequence,
        stamp=_utc(item.dtstamp),
        created=_utc(item.created) if item.created else None,
        last_modified=_utc(item.last_modified),
        start=start,
        end=end,
        summary=_summary(item),
        description=_text(item.description) if item.description else None,
        location=_text(_one_line(item.location, ", ")) if item.location else None,
        url=_uri(item.url),
        categories=_categories(item.categories),
        status=_STATUS[Status(item.status)],
        transparency=TRANSP.TRANSPARENT,
    )
    if item.geo is not None and abs(item.geo[0]) <= 90 and abs(item.geo[1]) <= 180:
        event.add("geo", item.geo)
    if image := _uri(item.image):
        parameters = {"VALUE": "URI", "DISPLAY": "BADGE"}
        if item.image_type:
            parameters["FMTTYPE"] = item.image_type
        event.add("image", image, parameters=parameters)
    return event


def _duration(text: str) -> timedelta:
    """An RFC 5545 / ISO 8601 duration such as ``PT6H``; :class:`ValueError` when it is none."""
    value = vDuration.from_ical(text)  # type: ignore[no-untyped-call]
    if not isinstance(value, timedelta):
        raise ValueError(f"{text!r} is not a duration")
    return value


def _day_span(start: datetime, end: datetime | None, zone: ZoneInfo) -> tuple[date, date]:
    """First local day and the exclusive end day of the local days that ``[start, end)`` touches."""
    first = start.astimezone(zone).date()
    if end is None or end <= start:
        return first, first + _ONE_DAY
    local_end = end.astimezone(zone)
    last = local_end.date() - (_ONE_DAY if local_end.time() == datetime.min.time() else timedelta(0))
    return first, max(last, first) + _ONE_DAY


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    """``instant`` as wall-clock time in ``zone``, or in UTC where that wall-clock time occurs twice.

    RFC 5545 reads a repeated local time as its first occurrence, but libical, ical.js and node-ical
    read it as the second; only UTC means the same instant to all of them.
    """
    local = instant.astimezone(UTC).astimezone(zone)  # via UTC: never a non-existent time
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return local.astimezone(UTC)
    return local


def _utc(instant: datetime) -> datetime:
    """``instant`` in UTC, as RFC 5545 requires for DTSTAMP, CREATED and LAST-MODIFIED."""
    return instant.astimezone(UTC)


def _summary(item: FeedItem) -> vText:
    """One-line title, prefixed for cancelled and postponed items unless the source already said so."""
    title = _one_line(item.summary)
    prefix = _PREFIX.get(Status(item.status))
    if prefix and not re.match(rf"{prefix[:-2]}\b", title, re.IGNORECASE):
        title = prefix + title
    return _text(title)


def _categories(categories: Iterable[str]) -> tuple[str, ...]:
    """Distinct non-empty one-line category names, in the given order.

    A tuple, because ``Event.new`` writes an empty CATEGORIES property for an empty list.
    """
    cleaned = (clean_text(_one_line(category), lines=True) for category in categories)
    return tuple(dict.fromkeys(category for category in cleaned if category))


class _Text(vText):
    """A TEXT value escaped exactly as RFC 5545 says: icalendar's own escaping first reads a literal
    ``\\N`` in the text as a line break, so a description quoting ``C:\\New`` came out as two lines."""

    def to_ical(self) -> bytes:
        escaped = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
        return escaped.encode("utf-8")


def _text(value: str) -> vText:
    """TEXT value with every kind of line break made ``\\n`` and other control characters removed.

    Consumers that split lines on U+2028, NEL or form feed would otherwise see a new content line.
    """
    return _Text(clean_text("\n".join(value.splitlines()), lines=True))


def _one_line(value: str, separator: str = " ") -> str:
    """``value`` with its lines joined by ``separator`` and runs of blanks collapsed."""
    lines = (" ".join(line.split()) for line in value.splitlines())
    return separator.join(line for line in lines if line)


def _uri(value: str | None) -> vUri | None:
    """URI with spaces, control and non-ASCII characters percent-encoded (IRIs become URIs); None if blank."""
    uri = quote(value.strip(), safe=_URI_SAFE) if value else ""
    return vUri(uri) if uri else None
