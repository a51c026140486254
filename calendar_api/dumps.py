"""Full exports (dumps) for reusers: the whole calendar as schema.org JSON-LD, CSV and iCalendar, gzipped.

:func:`write_exports` reads one consistent state of the database and writes, into
``open_data.export_dir``, the files of :data:`EXPORTS` and a ``manifest.json`` naming each file's size,
SHA-256, record count and the change-feed cursor of that state: a reuser loads a dump, then follows
``/api/v1/changes?since=<cursor>`` and misses nothing. The scheduler writes them nightly
(``open_data.export_cron``); ``stadtkalender open-data export`` writes them now. Each file is replaced
atomically, so a download never sees half a file. :class:`OpenDataFiles` serves them under
``/open-data/`` with stable URLs, ETag (the SHA-256) and 304.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.config import Settings
from aggregator.derive import availability_of
from aggregator.licences import Licences
from aggregator.models import Change
from aggregator.types import BERLIN
from calendar_api import queries
from calendar_api.caching import Rendered, respond
from calendar_api.feeds import feed_item
from calendar_api.filters import EARLIEST, EventFilter, Window, berlin_midnight, no_parameters, path_value
from calendar_api.ical_feed import FeedCalendar, render_calendar
from calendar_api.json_shapes import CategoryCatalog, berlin
from calendar_api.problems import not_found
from calendar_api.web.jsonld_writer import event_jsonld

MANIFEST = "manifest.json"
CACHE_CONTROL = "public, max-age=3600"


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One file of the export: its stable name, what it holds and in which media type (before gzip)."""

    name: str
    media_type: str
    description: str


EXPORTS = (
    ExportFile(
        "events.jsonld.gz",
        "application/ld+json",
        "schema.org Event objects, one per date, in one @graph (UTF-8, gzip).",
    ),
    ExportFile(
        "occurrences.csv.gz", "text/csv", "One row per date; the columns are in CSV_COLUMNS (UTF-8, gzip)."
    ),
    ExportFile("events.ics.gz", "text/calendar", "Every date as an iCalendar VEVENT (RFC 5545, gzip)."),
)

CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("occurrence_id", "Stable id of the date; the feeds' UID is <occurrence_id>@<uid domain>."),
    ("event_id", "Stable id of the event (a merged event's id redirects in the API)."),
    ("title", "Title of the event."),
    ("subtitle", "Subtitle, if any."),
    ("start", "Start, ISO 8601 in Europe/Berlin with its offset."),
    ("end", "End, same form; empty when unknown."),
    ("all_day", "true for a date without a time of day."),
    ("status", "scheduled, cancelled, postponed or rescheduled."),
    ("previous_start", "The earlier start of a rescheduled date."),
    ("room", "Room or stage within the venue."),
    ("venue_slug", "Venue id (see /api/v1/venues)."),
    ("venue_name", "Venue name."),
    ("street", "Street address of the venue."),
    ("postcode", "Postcode of the venue."),
    ("city", "City of the venue."),
    ("lat", "Latitude (WGS 84)."),
    ("lon", "Longitude (WGS 84)."),
    ("categories", "Category slugs, separated by |."),
    ("price_min", "Lowest price over the offers (decimal point)."),
    ("price_max", "Highest price over the offers."),
    ("currency", "ISO 4217 code of the prices."),
    ("availability", "Best ticket availability over the offers."),
    ("ticket_url", "Where to buy tickets."),
    ("url", "The event's own web page (at the venue or organiser)."),
    ("image", "Image URL."),
    ("image_credit", "Who to credit for the image."),
    ("image_licence", "The image's licence (name or URL)."),
    ("language", "Language of the event (BCP 47)."),
    ("organiser", "Organiser."),
    ("sources", "The sources this date's event was merged from, separated by |."),
    (
        "licence",
        "The data licence(s) of those sources, separated by | (the calendar's unless a source has its own).",
    ),
    ("sequence", "Raised whenever what a subscriber sees of this date changes."),
    ("updated", "When this date last changed, ISO 8601."),
    ("api_url", "The event in the JSON API."),
)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    rows: list[queries.FeedRow]
    cursor: int
    version: queries.DataVersion


def _read(session: Session, version: queries.DataVersion, today: datetime) -> _Snapshot:
    cursor = session.scalar(select(func.max(Change.id))) or 0
    every = Window(EARLIEST, None, None, today)
    rows = queries.feed_rows(session, EventFilter(), every, cancelled_since=None)
    return _Snapshot(rows, int(cursor), version)


def _decimal(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _csv(rows: Sequence[queries.FeedRow], api: str, licences: Licences) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for row in rows:
        occurrence, event, venue = row.occurrence, row.event, row.event.venue
        prices = [p for o in occurrence.offers for p in (o.price_min, o.price_max) if p is not None]
        availability = availability_of(occurrence.offers)
        values: dict[str, Any] = {
            "occurrence_id": occurrence.id,
            "event_id": event.id,
            "title": event.title,
            "subtitle": event.subtitle,
            "start": berlin(occurrence.start),
            "end": berlin(occurrence.end),
            "all_day": "true" if occurrence.all_day else "false",
            "status": occurrence.status,
            "previous_start": berlin(occurrence.previous_start),
            "room": occurrence.room,
            "venue_slug": event.venue_slug,
            "venue_name": venue.name if venue else None,
            "street": venue.street if venue else None,
            "postcode": venue.postcode if venue else None,
            "city": venue.city if venue else None,
            "lat": venue.lat if venue else None,
            "lon": venue.lon if venue else None,
            "categories": "|".join(str(c) for c in event.categories or ()),
            "price_min": _decimal(min(prices)) if prices else None,
            "price_max": _decimal(max(prices)) if prices else None,
            "currency": next((o.currency for o in occurrence.offers if o.price_min is not None), None),
            "availability": availability.value if availability else None,
            "ticket_url": next((o.url for o in occurrence.offers if o.url), None),
            "url": event.url,
            "image": event.image,
            "image_credit": event.image_credit,
            "image_licence": event.image_licence,
            "language": event.language,
            "organiser": event.organiser,
            "sources": "|".join(sorted({s.source for s in row.sources})),
            "licence": "|".join(sorted({licences.of(s.source).name for s in row.sources}))
            or licences.default.name,
            "sequence": occurrence.sequence,
            "updated": berlin(occurrence.updated_at),
            "api_url": f"{api}/events/{event.id}",
        }
        writer.writerow(["" if values[name] is None else values[name] for name, _ in CSV_COLUMNS])
    return out.getvalue().encode("utf-8")


def _jsonld(rows: Sequence[queries.FeedRow], base_url: str) -> bytes:
    graph = []
    for row in rows:
        view = queries.EventView(row.event, [row.occurrence], row.sources)
        (found,) = event_jsonld(view, f"{base_url}/events/{row.event.id}")
        found.pop("@context", None)
        graph.append(found)
    document = {"@context": "https://schema.org", "@graph": graph}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _ical(
    rows: Sequence[queries.FeedRow], settings: Settings, stamp: datetime, categories: CategoryCatalog
) -> bytes:
    base_url = settings.server.base_url.rstrip("/")
    calendar = FeedCalendar(
        name=settings.server.calendar_name,
        description=f"{settings.server.calendar_name}: alle Termine (Gesamtexport).",
        url=base_url + "/",
        source_url=f"{base_url}/open-data/events.ics.gz",
        refresh_interval="P1D",
    )
    uid_domain = settings.feeds.uid_domain
    return render_calendar(
        calendar,
        (feed_item(row, uid_domain=uid_domain, dtstamp=stamp, label=categories.label) for row in rows),
    )


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def licence_json(settings: Settings) -> dict[str, Any]:
    """The calendar's data licence, the credit it asks for, and the sources whose data has its own terms."""
    data = settings.open_data
    licences = Licences.from_settings(settings)
    own = {
        name: licences.of(name).as_json()
        for name in sorted(settings.sources)
        if licences.of(name) != licences.default
    }
    return {
        "name": data.licence_name,
        "url": data.licence_url,
        "attribution": data.attribution,
        "sources": own,
    }


def write_exports(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    categories: CategoryCatalog | None = None,
) -> dict[str, Any]:
    """Write the files of :data:`EXPORTS` and the manifest from one consistent state; returns the manifest."""
    catalog = categories or CategoryCatalog.load()
    today = berlin_midnight(now.astimezone(BERLIN).date())
    _version, snapshot = queries.consistent_read(
        factory, lambda session, version: _read(session, version, today)
    )
    base_url = settings.server.base_url.rstrip("/")
    api = f"{base_url}/api/v1"
    bodies = {
        "events.jsonld.gz": _jsonld(snapshot.rows, base_url),
        "occurrences.csv.gz": _csv(snapshot.rows, api, Licences.from_settings(settings)),
        "events.ics.gz": _ical(snapshot.rows, settings, snapshot.version.time, catalog),
    }
    directory = settings.project_path(settings.open_data.export_dir)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for export in EXPORTS:
        packed = gzip.compress(bodies[export.name], compresslevel=9, mtime=0)
        _write_atomically(directory / export.name, packed)
        files.append(
            {
                "name": export.name,
                "url": f"{base_url}/open-data/{export.name}",
                "media_type": export.media_type,
                "encoding": "gzip",
                "description": export.description,
                "bytes": len(packed),
                "sha256": hashlib.sha256(packed).hexdigest(),
                "records": len(snapshot.rows),
            }
        )
    manifest: dict[str, Any] = {
        "generated": berlin(now),
        "data_modified": berlin(snapshot.version.time),
        "cursor": str(snapshot.cursor),
        "changes": f"{api}/changes?since={snapshot.cursor}",
        "licence": licence_json(settings),
        "files": files,
        "csv_columns": [{"name": name, "description": text} for name, text in CSV_COLUMNS],
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    _write_atomically(directory / MANIFEST, body)
    return manifest


class OpenDataFiles:
    """``/open-data/`` (the manifest) and ``/open-data/{name}`` (the files it lists), as last written."""

    def __init__(self, settings: Settings) -> None:
        self.directory = settings.project_path(settings.open_data.export_dir)

    def routes(self) -> list[Route]:
        """The routes (GET and HEAD)."""
        return [
            Route("/open-data/", self.manifest, methods=["GET"], name="open_data"),
            Route("/open-data/{name}", self.file, methods=["GET"], name="open_data_file"),
        ]

    def _read(self, name: str) -> tuple[bytes, datetime] | None:
        path = self.directory / name
        try:
            with path.open("rb") as opened:  # one file, even when an export replaces it meanwhile
                modified = os.fstat(opened.fileno()).st_mtime
                return opened.read(), datetime.fromtimestamp(int(modified), UTC)
        except FileNotFoundError:
            return None

    def _manifest(self) -> tuple[bytes, datetime, dict[str, Any]]:
        found = self._read(MANIFEST)
        if found is None:
            raise not_found("No export has been written yet; the scheduler writes one nightly.")
        return found[0], found[1], json.loads(found[0])

    def _answer(
        self, request: Request, body: bytes, modified: datetime, media_type: str, extra: dict[str, str]
    ) -> Response:
        etag = f'"{hashlib.sha256(body).hexdigest()}"'
        return respond(
            request.headers, Rendered(body, media_type, etag, modified), CACHE_CONTROL, extra=extra
        )

    def manifest(self, request: Request) -> Response:
        """The manifest of the last export: files, sizes, SHA-256, licence and the change-feed cursor."""
        no_parameters(request.query_params.multi_items())
        body, modified, _ = self._manifest()
        return self._answer(request, body, modified, "application/json", {})

    def file(self, request: Request) -> Response:
        """One file of the last export, exactly as the manifest lists it."""
        no_parameters(request.query_params.multi_items())
        name = path_value(request.path_params, "name")
        body, modified, manifest = self._manifest()
        if name == MANIFEST:
            return self._answer(request, body, modified, "application/json", {})
        listed = {str(entry["name"]) for entry in manifest.get("files", [])}
        if name not in listed:
            raise not_found(f"There is no export file {name!r}; see /open-data/.")
        found = self._read(name)
        if found is None:
            raise not_found(f"The export file {name!r} is missing; the next export writes it.")
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return self._answer(request, found[0], found[1], "application/gzip", disposition)
