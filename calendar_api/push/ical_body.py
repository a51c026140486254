"""Reading an iCalendar push body: strict checks on each VEVENT, then the shared iCalendar reader."""

from __future__ import annotations

from datetime import date, datetime, time

from icalendar import Calendar, Component

from aggregator.formats.icalendar import NotACalendar, parse_calendar
from aggregator.formats.schemaorg.event_reader import json_path as _join
from aggregator.normalise.dates import localize
from aggregator.types import BERLIN
from calendar_api.push.batch import (
    ICAL_FIELDS,
    MAX_DURATION,
    MAX_ID,
    MAX_RECORDS,
    BodyError,
    Fault,
    Item,
    Rules,
    check_count,
    clean_line,
    out_of_range,
    too_long_event,
)


def read_calendar(body: bytes, rules: Rules) -> tuple[list[Item], list[Fault], list[tuple[str, str | None]]]:
    """Strict checks on each VEVENT, then the project's importer for the listings."""
    if not body.strip():
        raise BodyError(400, "invalid-body", "the body is empty; send a VCALENDAR")
    try:
        calendar = Calendar.from_ical(body)
    except Exception as error:  # icalendar raises many kinds; all mean "not a calendar"
        raise BodyError(400, "invalid-body", f"the body is not a valid iCalendar object: {error}") from error
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise BodyError(400, "invalid-body", "the body must be one VCALENDAR")
    faults: list[Fault] = []
    seen: list[tuple[str, str | None]] = []
    vevents = calendar.walk("VEVENT")
    check_count(len(vevents), "VCALENDAR")
    uids = _scan_vevents(vevents, rules, faults, seen)
    if faults:
        return [], faults, seen
    try:
        result = parse_calendar(
            body,
            source=rules.source,
            fetched_at=rules.now,
            window=(rules.earliest, rules.latest),
            origin="request body",
            max_listings=MAX_RECORDS + 1,
        )
    except NotACalendar as error:
        raise BodyError(
            400, "invalid-body", f"the body is not a valid iCalendar object: {error.reason}"
        ) from error
    if len(result.listings) > MAX_RECORDS:  # occurrences count, not VEVENTs
        return (
            [],
            [
                Fault(
                    "VCALENDAR",
                    f"its events have more than {MAX_RECORDS} occurrences in "
                    f"{rules.earliest:%Y-%m-%d} … {rules.latest:%Y-%m-%d}; split it",
                )
            ],
            seen,
        )
    for rejection in result.rejections:
        where = uids.get(rejection.record_id or "", "VCALENDAR")
        faults.append(
            Fault(
                _join(where, ICAL_FIELDS.get(rejection.field or "", "")),
                rejection.reason,
                rejection.record_id,
            )
        )
    items = []
    for listing in result.listings:
        where = uids.get(listing.series_key or listing.record_id, "VCALENDAR")
        items.append(Item(where, listing))
    return items, faults, seen


def _scan_vevents(
    events: list[Component], rules: Rules, faults: list[Fault], seen: list[tuple[str, str | None]]
) -> dict[str, str]:
    """Check UID, SUMMARY, DTSTART/DTEND of every VEVENT; returns each UID's path."""
    uids: dict[str, str] = {}
    masters: set[str] = set()
    for index, event in enumerate(events):
        where = f"VEVENT[{index}]"
        uid = str(event.get("UID", "")).strip() or None
        seen.append((where, uid))

        def fault(name: str, reason: str, uid: str | None = uid, where: str = where) -> None:
            faults.append(Fault(_join(where, name), reason, uid))

        if uid is None:
            fault("UID", "is required: the event's own stable id in your system")
        elif len(uid) > MAX_ID:
            fault("UID", f"is {len(uid)} characters long, at most {MAX_ID} are accepted")
        elif rules.single_id is not None and uid != rules.single_id:
            fault("UID", f"{uid!r} does not match the id in the URL ({rules.single_id!r})")
        if uid is not None:
            uids.setdefault(uid, where)
            if "RECURRENCE-ID" not in event:
                if uid in masters:
                    fault("UID", f"the UID {uid!r} is used twice in this request (first at {uids[uid]})")
                masters.add(uid)
        if not clean_line(str(event.get("SUMMARY", ""))):
            fault("SUMMARY", "is required")
        start = _ical_moment(event, "DTSTART")
        if start is None:
            fault("DTSTART", "is required and must be a date or date-time this server can convert")
            continue
        recurring = any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID"))
        if not recurring and not rules.earliest <= start <= rules.latest:
            fault("DTSTART", out_of_range(start, rules))
        end = _ical_moment(event, "DTEND")
        if "DTEND" in event and end is None:
            fault("DTEND", "must be a date or date-time this server can convert")
        elif end is not None and end < start:
            fault("DTEND", f"{end.isoformat()} is before DTSTART {start.isoformat()}")
        elif end is not None and end - start > MAX_DURATION:
            fault("DTEND", too_long_event(end - start))
    return uids


def _ical_moment(event: Component, name: str) -> datetime | None:
    value = getattr(event.get(name), "dt", None)
    try:  # year 1 at +14:00 or 9999 at -14:00 cannot be converted: no usable date
        if isinstance(value, datetime):
            return localize(value) if value.tzinfo is None else value.astimezone(BERLIN)
        if isinstance(value, date):
            return localize(datetime.combine(value, time()))
    except OverflowError:
        return None
    return None
