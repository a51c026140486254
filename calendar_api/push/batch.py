"""A push batch: its records, faults and errors, its limits, and the rules it is checked against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aggregator.listing import Listing
from aggregator.normalise.categories import CategoryVocabulary
from aggregator.normalise.venues import VenueRegistry
from aggregator.text import clean_text

PAST = timedelta(days=366)
FUTURE = timedelta(days=3 * 366)
MAX_DURATION = timedelta(days=731)
MAX_RECORDS = 10_000
MAX_ID = 400

ICAL_FIELDS = {
    "title": "SUMMARY",
    "description": "DESCRIPTION",
    "url": "URL",
    "image": "IMAGE",
    "organiser": "ORGANIZER",
    "venue_name": "LOCATION",
    "venue_address": "LOCATION",
    "start": "DTSTART",
    "end": "DTEND",
    "date_text": "DTSTART",
    "language": "LANGUAGE",
    "status_text": "STATUS",
    "categories": "CATEGORIES",
}
JSON_FIELDS = {
    "title": "name",
    "description": "description",
    "subtitle": "disambiguatingDescription",
    "url": "url",
    "image": "image",
    "organiser": "organizer",
    "venue_name": "location",
    "venue_address": "location",
    "room": "location",
    "start": "startDate",
    "end": "endDate",
    "date_text": "startDate",
    "language": "inLanguage",
    "series_key": "superEvent",
    "status_text": "eventStatus",
    "categories": "keywords",
    "venue_url": "location",
    "previous_start": "previousStartDate",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One bad field: where (``$[3].startDate``), which record, and what is wrong with it."""

    path: str
    reason: str
    record_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The fault as it appears in a response."""
        return {"path": self.path, "id": self.record_id, "reason": self.reason}


class BodyError(Exception):
    """The body as a whole is unusable (not JSON, not a calendar, wrong media type)."""

    def __init__(self, status: int, kind: str, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        self.status = status
        self.kind = kind
        self.detail = detail
        self.extra = extra or {}
        super().__init__(f"{status} {kind}: {detail}")


class InvalidRecords(Exception):
    """Some records are invalid (422); ``records`` are the paths and ids of all records read."""

    def __init__(self, faults: Sequence[Fault], records: Sequence[tuple[str, str | None]]) -> None:
        self.faults = list(faults)
        self.records = list(records)
        super().__init__(f"{len(faults)} problems, first: {faults[0].path}: {faults[0].reason}")


class ForeignVenue(Exception):
    """Some records are at a place that is not one of the token's venues (403)."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = list(faults)
        super().__init__(f"{faults[0].path}: {faults[0].reason}")


@dataclass(slots=True)
class Item:
    """One record of a batch: where it was in the body and the listing it gave."""

    path: str
    listing: Listing


@dataclass(slots=True)
class Batch:
    """A valid body: its records in order."""

    items: list[Item]
    media_type: str

    @property
    def record_ids(self) -> list[str]:
        """The records' ids in body order."""
        return [item.listing.record_id for item in self.items]


@dataclass(frozen=True, slots=True)
class Rules:
    """What a body is checked against: who sends it, for which venues, and when."""

    source: str
    venues: tuple[str, ...]
    registry: VenueRegistry
    categories: CategoryVocabulary
    now: datetime
    single_id: str | None = None
    allow_empty: bool = False

    @property
    def earliest(self) -> datetime:
        """The earliest accepted start."""
        return self.now - PAST

    @property
    def latest(self) -> datetime:
        """The latest accepted start."""
        return self.now + FUTURE


def check_count(count: int, where: str) -> None:
    """Refuse a list of more than :data:`MAX_RECORDS` records before reading any of them."""
    if count > MAX_RECORDS:
        raise BodyError(
            413,
            "too-many-events",
            f"{where} holds {count} records; at most {MAX_RECORDS} are accepted in one request, split it",
            extra={"max_records": MAX_RECORDS},
        )


def clean_line(text: str) -> str:
    """One-line text: control characters removed, line breaks and tabs become single spaces."""
    return clean_text(text)


def clean_block(text: str) -> str:
    """Multi-line text: CR/LF normalised to LF, other control characters removed."""
    return clean_text(text, lines=True).strip()


def too_long_event(duration: timedelta) -> str:
    return f"the event would last {duration.days} days; at most {MAX_DURATION.days} are accepted"


def out_of_range(start: datetime, rules: Rules) -> str:
    return (
        f"{start:%Y-%m-%d} is too far from today: the push API accepts starts from "
        f"{rules.earliest:%Y-%m-%d} to {rules.latest:%Y-%m-%d}"
    )
