"""The portal's event form as schema.org JSON-LD: the very body a venue's own system would push.

The form's answers become one ``Event`` object per date (a series shares a ``superEvent``), which the
portal hands to the push API's write path (:func:`calendar_api.push.handlers.apply_write`) — so a
form and a push of the same event give the same stored event. Dates come from a list (one per line,
``2026-12-05 19:30`` or ``05.12.2026 19:30``) or from a weekly rule (first day, last day, time, and
days left out). Everything a person could get wrong is reported as :class:`FormError` naming the field.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_DATES = 366
"""A form makes at most this many dates (a year of daily performances)."""
STATUSES = ("scheduled", "cancelled", "postponed")
AVAILABILITIES = ("", "available", "few_left", "sold_out", "waiting_list")
_STATUS_NAMES = {
    "scheduled": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
    "postponed": "https://schema.org/EventPostponed",
}
_AVAILABILITY_NAMES = {
    "available": "https://schema.org/InStock",
    "few_left": "https://schema.org/LimitedAvailability",
    "sold_out": "https://schema.org/SoldOut",
    "waiting_list": "https://schema.org/BackOrder",
}
_DAY = re.compile(r"^(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})\.(\d{1,2})\.(\d{4}))$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?:\s*uhr)?$", re.IGNORECASE)


class FormError(Exception):
    """A field of the form is wrong: ``field`` names it, ``key`` is the message's text key."""

    def __init__(self, field: str, key: str, **values: object) -> None:
        self.field = field
        self.key = key
        self.values = values
        super().__init__(f"{field}: {key} {values}")


@dataclass(frozen=True, slots=True)
class EventInput:
    """The form's answers, as typed."""

    title: str
    venue: str
    dates: str = ""
    time: str = ""
    end_time: str = ""
    weekly_from: str = ""
    weekly_until: str = ""
    weekly_except: str = ""
    room: str = ""
    price_min: str = ""
    price_max: str = ""
    ticket_url: str = ""
    availability: str = ""
    status: str = "scheduled"
    image: str = ""
    description: str = ""
    language: str = ""
    categories: tuple[str, ...] = ()
    url: str = ""

    @classmethod
    def of(cls, fields: Mapping[str, str], categories: Sequence[str]) -> EventInput:
        """The answers from form fields (missing ones empty)."""
        names = [name for name in cls.__dataclass_fields__ if name != "categories"]
        return cls(**{name: fields.get(name, "").strip() for name in names}, categories=tuple(categories))


def parse_day(text: str, field: str) -> date:
    """``2026-12-05`` or ``05.12.2026``."""
    found = _DAY.match(text.strip())
    if not found:
        raise FormError(field, "form_bad_day", value=text)
    year, month, day = (
        (found.group(1), found.group(2), found.group(3))
        if found.group(1)
        else (found.group(6), found.group(5), found.group(4))
    )
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise FormError(field, "form_bad_day", value=text) from exc


def parse_time(text: str, field: str) -> time:
    """``19:30``, ``19.30`` or ``19:30 Uhr``."""
    found = _TIME.match(text.strip())
    if not found:
        raise FormError(field, "form_bad_time", value=text)
    try:
        return time(int(found.group(1)), int(found.group(2)))
    except ValueError as exc:
        raise FormError(field, "form_bad_time", value=text) from exc


def _date_line(line: str, default: time | None) -> datetime:
    parts = line.replace(",", " ").split()
    if not parts:
        raise FormError("dates", "form_bad_day", value=line)
    day = parse_day(parts[0], "dates")
    rest = " ".join(parts[1:])
    at = parse_time(rest, "dates") if rest else default
    if at is None:
        raise FormError("dates", "form_no_time", value=line)
    return datetime.combine(day, at)


def dates_of(form: EventInput) -> list[datetime]:
    """The starts (Berlin wall time) the form asks for: the list, and the weekly rule less its exceptions."""
    default = parse_time(form.time, "time") if form.time else None
    starts: list[datetime] = []
    lines = [line.strip() for line in form.dates.splitlines() if line.strip()]
    if len(lines) > MAX_DATES:
        raise FormError("dates", "form_too_many_dates", most=MAX_DATES)
    starts.extend(_date_line(line, default) for line in lines)
    if form.weekly_from or form.weekly_until:
        first = parse_day(form.weekly_from, "weekly_from")
        last = parse_day(form.weekly_until, "weekly_until")
        if last < first:
            raise FormError("weekly_until", "form_until_before_from")
        if (last - first).days // 7 + 1 > MAX_DATES:
            raise FormError("weekly_until", "form_too_many_dates", most=MAX_DATES)
        if default is None:
            raise FormError("time", "form_weekly_needs_time")
        skipped = {
            parse_day(part, "weekly_except")
            for part in re.split(r"[\s,;]+", form.weekly_except)
            if part.strip()
        }
        day = first
        while day <= last:
            if day not in skipped:
                starts.append(datetime.combine(day, default))
            day += timedelta(days=7)
    if not starts:
        raise FormError("dates", "form_no_dates")
    unique = sorted(set(starts))
    if len(unique) > MAX_DATES:
        raise FormError("dates", "form_too_many_dates", most=MAX_DATES)
    return unique


def _price(text: str, field: str) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace("€", "").replace(",", ".").strip())
    except InvalidOperation as exc:
        raise FormError(field, "form_bad_price", value=text) from exc
    if not value.is_finite() or value < 0 or value > 100_000:
        raise FormError(field, "form_bad_price", value=text)
    return value.quantize(Decimal("0.01"))


def new_series_id() -> str:
    """A fresh id for an event entered in the portal (the venue's own id, as a push would send)."""
    return "portal-" + secrets.token_hex(6)


def record_id(series: str, start: datetime) -> str:
    """The id of one date of a series: the series id and the start (``portal-…#2026-12-05T19:30``)."""
    return f"{series}#{start.strftime('%Y-%m-%dT%H:%M')}"


def documents(form: EventInput, *, venue_name: str, series: str) -> list[dict[str, Any]]:
    """One schema.org Event object per date; raises :class:`FormError`."""
    if not form.title:
        raise FormError("title", "form_no_title")
    if form.status not in STATUSES:
        raise FormError("status", "form_bad_choice", value=form.status)
    if form.availability not in AVAILABILITIES:
        raise FormError("availability", "form_bad_choice", value=form.availability)
    starts = dates_of(form)
    end_at = parse_time(form.end_time, "end_time") if form.end_time else None
    low, high = _price(form.price_min, "price_min"), _price(form.price_max, "price_max")
    if low is not None and high is not None and high < low:
        raise FormError("price_max", "form_price_order")
    place: dict[str, Any] = {
        "@type": "Place",
        "name": f"{venue_name} ({form.room})" if form.room else venue_name,
    }
    common: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": form.title,
        "location": place,
        "eventStatus": _STATUS_NAMES[form.status],
    }
    if form.description:
        common["description"] = form.description
    if form.image:
        common["image"] = form.image
    if form.url:
        common["url"] = form.url
    if form.language:
        common["inLanguage"] = form.language
    if form.categories:
        common["keywords"] = list(form.categories)
    offer: dict[str, Any] = {}
    if low is not None or high is not None:
        offer["priceCurrency"] = "EUR"
        if low is not None and high is not None and low != high:
            offer["lowPrice"], offer["highPrice"] = str(low), str(high)
        else:
            offer["price"] = str(low if low is not None else high)
    if form.ticket_url:
        offer["url"] = form.ticket_url
    if form.availability:
        offer["availability"] = _AVAILABILITY_NAMES[form.availability]
    if offer:
        common["offers"] = {"@type": "Offer", **offer}
    nodes = []
    for start in starts:
        node = {**common, "@id": record_id(series, start), "startDate": start.strftime("%Y-%m-%dT%H:%M")}
        if len(starts) > 1:
            node["superEvent"] = series
        if end_at is not None:
            end = datetime.combine(start.date(), end_at)
            if end <= start:
                end += timedelta(days=1)
            node["endDate"] = end.strftime("%Y-%m-%dT%H:%M")
        nodes.append(node)
    return nodes
