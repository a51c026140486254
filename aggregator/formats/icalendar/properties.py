"""Reading VEVENT property values: dates, UID, text, categories, place, image, organiser, status."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from icalendar import Component, vBroken

from aggregator.types import Status


def _when(component: Component, name: str) -> date:
    """The date or date-time value of a property such as DTSTART."""
    value = getattr(component.get(name), "dt", None)
    if not isinstance(value, date):
        raise TypeError(f"{name} is not a date or date-time: {value!r}")
    return value


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


def _declared_date(event: Component) -> bool:
    """Whether DTSTART says VALUE=DATE (some producers add a TZID, which makes icalendar read a datetime)."""
    params = getattr(event.get("DTSTART"), "params", None) or {}
    return str(params.get("VALUE", "")).upper() == "DATE"


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
