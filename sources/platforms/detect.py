"""Importing a file or URL body of unknown kind: recognise iCalendar or JSON-LD and parse it.

This is what ``stadtkalender import FILE_OR_URL --source NAME`` calls. The content decides; the
file name and content type only break a tie when the content is not recognisable. A document with
nothing event-like in it (JSON that holds no schema.org Event, a page without JSON-LD events, a
calendar without a VEVENT) is refused with :class:`ImportFailed`, never read as "0 listings".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from aggregator.formats.decoding import decode
from aggregator.formats.errors import DocumentError
from aggregator.formats.icalendar import NotACalendar, parse_calendar
from aggregator.formats.read_result import ReadResult
from aggregator.formats.schemaorg.json_blocks import NotAnEventDocument
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from aggregator.listing import Listing
from aggregator.window import Window

Format = Literal["ical", "jsonld", "html", "unknown"]

_ICAL_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
_ICAL_SUFFIXES = frozenset({".ics", ".ical", ".icalendar", ".ifb", ".vcs"})
_JSON_TYPES = frozenset({"application/ld+json", "application/json", "text/json"})
_JSON_SUFFIXES = frozenset({".json", ".jsonld"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".php", ".jsp", ".asp", ".aspx"})


@dataclass(slots=True)
class ImportResult(ReadResult):
    """One imported document read (see :class:`ReadResult`) and the format it was read as."""

    format: Format = field(kw_only=True)


class ImportFailed(DocumentError):
    """A document could not be imported at all; the message names it and says why."""

    failure: ClassVar[str] = "cannot be imported"
    default_source: ClassVar[str] = "import"


def detect_format(data: bytes, filename: str = "", content_type: str = "") -> Format:
    """Whether ``data`` is an iCalendar file, JSON(-LD), an HTML page (with ld+json: "jsonld"), or unknown."""
    text = _decode(data)
    head = text.lstrip("\ufeff \t\r\n").lower()
    if head.startswith(("begin:vcalendar", "begin:vevent")):
        return "ical"
    if head[:1] in ("{", "["):
        return "jsonld"
    if head.startswith("<"):
        return "jsonld" if "application/ld+json" in text.lower() else "html"
    media_type = content_type.split(";")[0].strip().lower()
    suffix = PurePosixPath(urlsplit(filename).path if "://" in filename else filename).suffix.lower()
    if media_type in _ICAL_TYPES or suffix in _ICAL_SUFFIXES:
        return "ical"
    if media_type in _JSON_TYPES or suffix in _JSON_SUFFIXES:
        return "jsonld"
    if media_type in _HTML_TYPES or suffix in _HTML_SUFFIXES:
        return "html"
    return "unknown"


def import_listings(
    data: bytes,
    *,
    source: str,
    fetched_at: datetime,
    window: tuple[datetime, datetime],
    origin: str = "",
    content_type: str = "",
) -> ImportResult:
    """Parse ``data`` as whatever it is; raise :class:`ImportFailed` (naming ``origin``) if it is neither.

    Only events that overlap ``window`` become listings; the others are counted in the result's
    ``outside``. ``origin`` is the file name or URL, used in messages and, for a URL, to resolve
    relative links in JSON-LD. A document without any event is refused.
    """
    window = Window(*window)
    kind = detect_format(data, filename=origin, content_type=content_type)
    try:
        if kind == "ical":
            calendar = parse_calendar(
                data, source=source, fetched_at=fetched_at, window=window, origin=origin
            )
            if not calendar.records:
                raise ImportFailed(origin, "a calendar without any VEVENT; nothing to import", source)
            return ImportResult(
                calendar.listings,
                calendar.warnings,
                calendar.rejections,
                calendar.records,
                calendar.outside,
                format="ical",
            )
        if kind == "jsonld":
            document = parse_jsonld(
                data,
                source=source,
                fetched_at=fetched_at,
                base_url=origin if origin.startswith(("http://", "https://")) else None,
                window=window,
                origin=origin,
            )
            if not document.records:
                what = "JSON" if _kind_of_text(data) == "json" else "its JSON-LD"
                raise ImportFailed(origin, f"{what} holds no schema.org Event; nothing to import", source)
            return ImportResult(
                document.listings,
                document.warnings,
                document.rejections,
                document.records,
                document.outside,
                format="jsonld",
            )
    except (NotACalendar, NotAnEventDocument) as error:
        raise ImportFailed(origin, error.reason, source, error.message) from error
    if kind == "html":
        raise ImportFailed(origin, "an HTML page without JSON-LD events; it needs a site adapter", source)
    start = _decode(data).lstrip("\ufeff \t\r\n")[:40]
    reason = f"neither iCalendar nor JSON-LD nor HTML (starts with {start!r})" if start else "it is empty"
    raise ImportFailed(origin, reason, source)


def _kind_of_text(data: bytes) -> str:
    """``json`` for a bare JSON document, else ``page``."""
    return "json" if _decode(data).lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else "page"


def scoped(listings: list[Listing], location: str) -> list[Listing]:
    """``listings`` with record ids and series keys in a namespace of their own input ``location``.

    Files imported one by one under one source name are unrelated calendars whose ids may well
    coincide (``UID:1``, ``UID:2`` ...); unscoped, a record of one file would overwrite the other's
    and join its series. The namespace is the input's URL or absolute path (re-importing the same
    file updates its records), shown as the file name and a short hash.
    """
    key = location if location.startswith(("http://", "https://")) else str(Path(location).resolve())
    name = PurePosixPath(urlsplit(key).path).name or urlsplit(key).netloc
    prefix = f"{name}~{hashlib.blake2b(key.encode(), digest_size=4).hexdigest()}/"
    return [
        listing.evolve(
            record_id=prefix + listing.record_id,
            series_key=prefix + listing.series_key if listing.series_key else None,
        )
        for listing in listings
    ]


def _decode(data: bytes) -> str:
    """The text of ``data`` for sniffing: BOMs honoured, else UTF-8 with replacement."""
    return decode(data, guess_utf16=False, fallback="replace")
