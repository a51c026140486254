"""Query parameters of the event list and the feeds: one table, parsed strictly, 400 for anything bad.

:data:`PARAMETERS` is the single description of every parameter; the parser here and the OpenAPI
document (:mod:`calendar_api.openapi`) are both built from it, so they cannot disagree.

Dates: ``from`` and ``to`` take an RFC 3339 date-time (``2026-03-29T02:30:00+01:00``) or a date
(``2026-03-29``); a date-time without an offset is read as Berlin time. A date in ``to`` includes
that whole day. Instants outside 1900–2199 are clamped: no event is that far away.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal
from urllib.parse import urlencode

from aggregator import window
from aggregator.text import has_control_characters
from aggregator.types import BERLIN, Status
from calendar_api.problems import Problem, invalid_parameter

Kind = Literal["instant", "slug", "text", "language", "flag", "status", "limit", "cursor", "sort"]

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))?"
)
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,300}")
SORTS = ("next", "highlights")
"""Orders of the event list: by next occurrence (default), or the editors' highlights first."""


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One query parameter: how it is parsed and how the OpenAPI document describes it."""

    name: str
    kind: Kind
    description: str
    repeatable: bool = False
    max_length: int = 200


PARAMETERS: dict[str, ParameterSpec] = {
    spec.name: spec
    for spec in (
        ParameterSpec(
            "from",
            "instant",
            "Only occurrences that have not ended by this instant. An RFC 3339 "
            "date-time or a date (Berlin midnight). Default: now (feeds: yesterday).",
        ),
        ParameterSpec(
            "to",
            "instant",
            "Only occurrences starting before this instant; a date includes that "
            "whole day. Default: no limit (feeds: 400 days ahead).",
        ),
        ParameterSpec(
            "venue", "slug", "Venue slug; repeat for any of several venues.", repeatable=True, max_length=120
        ),
        ParameterSpec(
            "category",
            "slug",
            "Category slug (see /api/v1/categories); repeat for any of several.",
            repeatable=True,
            max_length=120,
        ),
        ParameterSpec(
            "q",
            "text",
            "Words that must all appear in the title, subtitle, description or venue "
            "name (case-insensitive substring match).",
        ),
        ParameterSpec(
            "district",
            "text",
            "City district of the venue (e.g. Innenstadt-West), exact, case-insensitive.",
            max_length=120,
        ),
        ParameterSpec("free", "flag", "true: only occurrences with free admission."),
        ParameterSpec("available", "flag", "true: only occurrences not sold out and not cancelled."),
        ParameterSpec("accessible", "flag", "true: only venues with accessibility information."),
        ParameterSpec(
            "highlight",
            "flag",
            "true: only the editors' highlights (events the city's editorial team recommends today).",
        ),
        ParameterSpec(
            "lang",
            "language",
            "Language of the event (BCP 47 tag, e.g. de or en); de also matches de-DE.",
            max_length=35,
        ),
        ParameterSpec(
            "status", "status", "Occurrence status; repeat for several. Default: all.", repeatable=True
        ),
        ParameterSpec(
            "updated_since",
            "instant",
            "Only events that changed at or after this instant (their own fields or any occurrence); "
            "the list's window still applies. To follow every change, deletions included, use "
            "/api/v1/changes.",
        ),
        ParameterSpec("limit", "limit", f"Events per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
        ParameterSpec(
            "cursor", "cursor", "Opaque position from a previous page's `next` link.", max_length=300
        ),
        ParameterSpec(
            "sort",
            "sort",
            "Order of the list: `next` (default) by next occurrence; `highlights` puts the editors' "
            "highlights first, each part by next occurrence.",
            max_length=20,
        ),
    )
}
FILTER_NAMES = (
    "from",
    "to",
    "venue",
    "category",
    "q",
    "district",
    "free",
    "available",
    "accessible",
    "highlight",
    "lang",
    "status",
)
PAGE_NAMES = ("limit", "cursor", "sort")
"""Parameters of the list only (how it is paged and ordered); feeds take none of them."""
LIST_NAMES = ("updated_since",)
"""Filters of the event list only (not of the feeds)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after this (next occurrence start, event id).

    With ``sort=highlights`` it also says whether the last event shown was a highlight.
    """

    start: datetime
    event_id: str
    highlight: bool | None = None

    def encode(self) -> str:
        """The opaque, URL-safe text form."""
        fields: list[Any] = [self.start.astimezone(UTC).isoformat(), self.event_id]
        if self.highlight is not None:
            fields.append(self.highlight)
        raw = json.dumps(fields, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Validated filters shared by the event list and the feeds (instants in UTC)."""

    start: datetime | None = None
    end: datetime | None = None
    end_is_date: bool = False
    venues: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    district: str | None = None
    free: bool = False
    available: bool = False
    accessible: bool = False
    highlight: bool = False
    lang: str | None = None
    statuses: tuple[str, ...] = ()
    updated_since: datetime | None = None
    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = None
    sort: str = "next"
    normalised: tuple[tuple[str, str], ...] = field(default=())

    def query_string(self, *, without: Iterable[str] = ()) -> str:
        """The canonical query string of these filters (sorted, duplicates removed)."""
        skip = set(without)
        return urlencode([(k, v) for k, v in self.normalised if k not in skip])


@dataclass(frozen=True, slots=True)
class Window:
    """The time range a request covers; ``bucket`` is set when it depends on the current time.

    ``today`` is the instant today began in Berlin: a highlight counts while it ends after it.
    """

    start: datetime
    end: datetime | None
    bucket: datetime | None
    today: datetime


def parse_filters(params: Sequence[tuple[str, str]], allowed: Iterable[str]) -> EventFilter:
    """Validate ``params`` (the raw query as key/value pairs) against the ``allowed`` parameter names.

    Raises a 400 :class:`Problem` naming the parameter for an unknown or repeated parameter, a value
    of the wrong form, or ``from`` after ``to``.
    """
    allowed_set = set(allowed)
    values: dict[str, list[str]] = {}
    for name, value in params:
        if name not in allowed_set:
            known = ", ".join(sorted(allowed_set)) or "none"
            raise invalid_parameter(name, f"Unknown parameter {name!r}; this path accepts: {known}.")
        values.setdefault(name, []).append(value)
    parsed: dict[str, Any] = {}
    normalised: list[tuple[str, str]] = []
    for name, given in values.items():
        spec = PARAMETERS[name]
        if len(given) > 1 and not spec.repeatable:
            raise invalid_parameter(name, f"Parameter {name!r} was given {len(given)} times; give it once.")
        if len(given) > 50:
            raise invalid_parameter(name, f"Parameter {name!r} was given {len(given)} times; at most 50.")
        for value in given:
            _check_text(spec, value)
        cleaned = sorted(set(given)) if spec.repeatable else given
        parsed[name] = [_PARSERS[spec.kind](spec, value) for value in cleaned]
        if spec.kind == "flag" and not parsed[name][0]:
            continue
        normalised.extend((name, value) for value in cleaned)
    return _build(parsed, tuple(sorted(normalised)))


def _build(parsed: Mapping[str, list[Any]], normalised: tuple[tuple[str, str], ...]) -> EventFilter:
    def one(name: str) -> Any:
        return parsed[name][0] if name in parsed else None

    start: datetime | None = one("from")[0] if "from" in parsed else None
    end_pair = one("to")
    end, end_is_date = (end_pair[0], end_pair[1]) if end_pair else (None, False)
    if start is not None and end is not None and start > end:
        raise invalid_parameter("from", "'from' is after 'to'.")
    sort = one("sort") or "next"
    cursor: Cursor | None = one("cursor")
    if cursor is not None and (cursor.highlight is not None) != (sort == "highlights"):
        raise invalid_parameter("cursor", "cursor belongs to a list in another order; follow a `next` link.")
    terms = tuple(word for text in parsed.get("q", []) for word in text.split())
    return EventFilter(
        start=start,
        end=end,
        end_is_date=end_is_date,
        venues=tuple(parsed.get("venue", [])),
        categories=tuple(parsed.get("category", [])),
        terms=terms,
        district=one("district"),
        free=bool(one("free")),
        available=bool(one("available")),
        accessible=bool(one("accessible")),
        highlight=bool(one("highlight")),
        lang=one("lang"),
        statuses=tuple(parsed.get("status", [])),
        updated_since=one("updated_since")[0] if "updated_since" in parsed else None,
        limit=one("limit") or DEFAULT_LIMIT,
        cursor=cursor,
        sort=sort,
        normalised=normalised,
    )


def _check_text(spec: ParameterSpec, value: str) -> None:
    if value == "":
        raise invalid_parameter(spec.name, f"Parameter {spec.name!r} is empty.")
    if len(value) > spec.max_length:
        raise invalid_parameter(spec.name, f"{spec.name!r} is over {spec.max_length} characters long.")
    if has_control_characters(value):
        raise invalid_parameter(spec.name, f"Parameter {spec.name!r} contains control characters.")


def _parse_instant(spec: ParameterSpec, value: str) -> tuple[datetime, bool]:
    """(UTC instant, whether a bare date was given); a bare ``to`` date means the end of that day."""
    try:
        if match := _DATE.fullmatch(value):
            day = date(*map(int, match.groups()))
            if spec.name == "to":
                return _berlin_midnight_after(day), True
            return _clamp_local(datetime.combine(day, time()), None), True
        if match := _DATE_TIME.fullmatch(value):
            year, month, day_, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            naive = datetime(
                int(year), int(month), int(day_), int(hour), int(minute), min(int(second or 0), 59), micro
            )
            if zulu:
                return _clamp_local(naive, timedelta(0)), False
            if sign:
                offset = timedelta(hours=int(off_h), minutes=int(off_m))
                if offset >= timedelta(hours=24) or int(off_m) > 59:
                    raise ValueError(f"offset {sign}{off_h}:{off_m} out of range")
                return _clamp_local(naive, offset if sign == "+" else -offset), False
            return _clamp_local(naive, None), False
    except ValueError as exc:
        raise invalid_parameter(spec.name, f"{spec.name}={value!r} is not a valid date: {exc}.") from exc
    raise invalid_parameter(
        spec.name,
        f"{spec.name}={value!r} is not a date (2026-03-29) or a date-time (2026-03-29T20:00:00+02:00).",
    )


def _clamp_local(naive: datetime, offset: timedelta | None) -> datetime:
    """``naive`` read at ``offset`` (None: Berlin time) as UTC, clamped to 1900–2199."""
    if naive.year < EARLIEST.year + 1:
        return EARLIEST
    if naive.year >= LATEST.year - 1:
        return LATEST
    zone = BERLIN if offset is None else timezone(offset)
    return min(max(naive.replace(tzinfo=zone).astimezone(UTC), EARLIEST), LATEST)


def _berlin_midnight_after(day: date) -> datetime:
    if day.year >= LATEST.year - 1:
        return LATEST
    return _clamp_local(datetime.combine(day + timedelta(days=1), time()), None)


def _parse_slug(spec: ParameterSpec, value: str) -> str:
    return value


def _parse_text(spec: ParameterSpec, value: str) -> str:
    return value.strip()


def _parse_language(spec: ParameterSpec, value: str) -> str:
    if not _LANGUAGE.fullmatch(value):
        raise invalid_parameter(spec.name, f"lang={value!r} is not a language tag such as de or en-GB.")
    return value.lower()


def _parse_flag(spec: ParameterSpec, value: str) -> bool:
    if value not in ("true", "false"):
        raise invalid_parameter(spec.name, f"{spec.name}={value!r}: use true or false.")
    return value == "true"


def _parse_status(spec: ParameterSpec, value: str) -> str:
    known = [s.value for s in Status]
    if value not in known:
        raise invalid_parameter(spec.name, f"status={value!r} is not one of {', '.join(known)}.")
    return value


def _parse_limit(spec: ParameterSpec, value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise invalid_parameter(spec.name, f"limit={value!r}: give a whole number from 1 to {MAX_LIMIT}.")
    return int(value)


def _parse_cursor(spec: ParameterSpec, value: str) -> Cursor:
    bad = invalid_parameter(spec.name, "cursor is not one this server handed out; follow a `next` link.")
    if not _CURSOR.fullmatch(value):
        raise bad
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        start_text, event_id, *rest = json.loads(raw.decode("utf-8"))
        start = datetime.fromisoformat(start_text)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise bad from exc
    if not isinstance(event_id, str) or start.utcoffset() is None or not event_id:
        raise bad
    if len(rest) > 1 or (rest and not isinstance(rest[0], bool)):
        raise bad
    try:  # a forged instant such as year 1 at +14:00 cannot be converted, and no page starts there
        instant = start.astimezone(UTC)
    except OverflowError as exc:
        raise bad from exc
    if not EARLIEST <= instant <= LATEST:
        raise bad
    return Cursor(instant, event_id, rest[0] if rest else None)


def _parse_sort(spec: ParameterSpec, value: str) -> str:
    if value not in SORTS:
        raise invalid_parameter(spec.name, f"sort={value!r}: use one of {', '.join(SORTS)}.")
    return value


_PARSERS: dict[Kind, Any] = {
    "instant": _parse_instant,
    "slug": _parse_slug,
    "text": _parse_text,
    "language": _parse_language,
    "flag": _parse_flag,
    "status": _parse_status,
    "limit": _parse_limit,
    "cursor": _parse_cursor,
    "sort": _parse_sort,
}


def no_parameters(params: Sequence[tuple[str, str]]) -> None:
    """Reject any query parameter on a path that takes none."""
    if params:
        name = params[0][0]
        raise invalid_parameter(name, f"Unknown parameter {name!r}; this path takes no parameters.")


def list_window(filters: EventFilter, now: datetime) -> Window:
    """The JSON list's window: from ``from`` (default: now, to the minute) to ``to`` (default: open)."""
    today = berlin_midnight(now.astimezone(BERLIN).date())
    if filters.start is not None:
        return Window(filters.start, filters.end, today if uses_highlights(filters) else None, today)
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    return Window(minute, filters.end, minute, today)


def uses_highlights(filters: EventFilter) -> bool:
    """Whether the answer depends on which highlights are current (so on the day)."""
    return filters.highlight or filters.sort == "highlights"


def feed_window(
    filters: EventFilter, now: datetime, *, days_before: int = 1, days_after: int = 400
) -> Window:
    """A feed's window: from yesterday (Berlin days) to 400 days ahead unless ``from``/``to`` say otherwise.

    Defaults move once a day, so a feed's content changes with the clock at most daily.
    """
    today = now.astimezone(BERLIN).date()
    start = filters.start
    if start is None:
        start = berlin_midnight(today - timedelta(days=days_before))
    end = filters.end
    if end is None:
        end = max(berlin_midnight(today + timedelta(days=days_after)), start + timedelta(days=days_after))
    depends = filters.start is None or filters.end is None or uses_highlights(filters)
    bucket = berlin_midnight(today) if depends else None
    window_end = min(end, LATEST + timedelta(days=days_after))
    return Window(min(start, LATEST), window_end, bucket, berlin_midnight(today))


def berlin_midnight(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in Berlin (days are 23 or 25 hours around DST changes)."""
    return window.berlin_midnight(day).astimezone(UTC)


def path_value(path_params: Mapping[str, Any], name: str) -> str:
    """A path parameter (id or slug); one that no row could have is a 404 without asking the database."""
    value = str(path_params[name])
    if not value or len(value) > 120 or has_control_characters(value):
        raise Problem(404, "not-found", f"There is nothing with the {name} {value[:120]!r}.")
    return value
