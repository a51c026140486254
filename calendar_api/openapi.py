"""The OpenAPI 3.1 document of the public API, built from the same tables the server uses.

Query parameters come from :data:`calendar_api.filters.PARAMETERS`, problem types from
:data:`calendar_api.problems.PROBLEM_TYPES` and enumerations from :mod:`aggregator.types`, so the
document cannot drift from the parser. Extensions add their paths and components (the push API
does); ``stadtkalender openapi`` prints the document of the built-in ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from aggregator.text import CONTROL_CODES
from aggregator.types import Availability, Health, Status
from calendar_api.changes import openapi_parameters, openapi_schemas
from calendar_api.extension_points import Extension
from calendar_api.filters import FILTER_NAMES, LIST_NAMES, PAGE_NAMES, PARAMETERS, SORTS, ParameterSpec
from calendar_api.ical_feed import ICAL_MEDIA_TYPE
from calendar_api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES

Schema = dict[str, Any]
_NO_CONTROL = f"^[^{CONTROL_CODES}]+$"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}


def _object(properties: dict[str, Schema], *, required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


_TEXT: Schema = {"type": "string"}
_TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 in Europe/Berlin with its offset, e.g. 2026-03-29T03:30:00+02:00.",
}
_INT: Schema = {"type": "integer"}


def _schemas() -> dict[str, Schema]:
    count = {"type": "integer", "minimum": 0}
    return {
        "Problem": _object(
            {
                "type": {"type": "string", "description": "URI of the problem type's documentation."},
                "title": {"type": "string", "enum": list(PROBLEM_TYPES.values())},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": _TEXT,
                "parameter": {"type": "string", "description": "The query parameter that was rejected."},
            },
            required=["type", "title", "status", "detail"],
        ),
        "FeedLinks": _object(
            {
                "url": {"type": "string", "description": "The feed over http(s)."},
                "webcal": {
                    "type": "string",
                    "description": "The same feed as a webcal:// subscription link.",
                },
                "google": {
                    "type": "string",
                    "description": "Google Calendar's add-by-URL link for the feed.",
                },
            }
        ),
        "Offer": _object(
            {
                "price_min": _nullable({"type": "number"}),
                "price_max": _nullable({"type": "number"}),
                "currency": {"type": "string", "description": "ISO 4217 code."},
                "price_text": _nullable(_TEXT),
                "url": _nullable({"type": "string", "description": "Where to buy."}),
                "vendor": _nullable(_TEXT),
                "availability": {"enum": [*(a.value for a in Availability), None]},
                "source": {"type": "string", "description": "The source that reported this offer."},
            }
        ),
        "Occurrence": _object(
            {
                "id": {"type": "string", "description": "Stable id; the feeds' UID is <id>@<uid domain>."},
                "start": _TIME,
                "end": _nullable(_TIME),
                "all_day": {"type": "boolean"},
                "status": {"type": "string", "enum": [s.value for s in Status]},
                "previous_start": {
                    **_nullable(_TIME),
                    "description": "Earlier start of a rescheduled occurrence.",
                },
                "room": _nullable(_TEXT),
                "availability": {
                    "enum": [*(a.value for a in Availability), None],
                    "description": "Best availability across the offers.",
                },
                "offers": {"type": "array", "items": _ref("Offer")},
                "sequence": {
                    **_INT,
                    "minimum": 0,
                    "description": "Raised whenever what a subscriber sees changes.",
                },
                "updated": _TIME,
            }
        ),
        "Address": _object(
            {"street": _nullable(_TEXT), "postcode": _nullable(_TEXT), "city": _nullable(_TEXT)}
        ),
        "Geo": _object({"lat": {"type": "number"}, "lon": {"type": "number"}}),
        "VenueSummary": _object(
            {
                "slug": _TEXT,
                "name": _TEXT,
                "address": _ref("Address"),
                "geo": _nullable(_ref("Geo")),
                "district": _nullable(_TEXT),
            }
        ),
        "Venue": {
            "allOf": [
                _ref("VenueSummary"),
                _object(
                    {
                        "url": _nullable(_TEXT),
                        "rooms": {"type": "array", "items": _TEXT},
                        "accessibility": {
                            **_nullable(_TEXT),
                            "description": "Notes on step-free access and the like.",
                        },
                        "feeds": _ref("FeedLinks"),
                    }
                ),
            ]
        },
        "SourceRef": _object(
            {
                "source": _TEXT,
                "id": {"type": "string", "description": "The source's record id."},
                "url": _nullable(_TEXT),
                "licence": {
                    **_object({"name": _TEXT, "url": _nullable(_TEXT)}),
                    "description": "Licence of this source's data (the calendar's unless it has its own).",
                },
            },
            required=["source", "id", "url"],
        ),
        "Event": _object(
            {
                "id": _TEXT,
                "title": _TEXT,
                "subtitle": _nullable(_TEXT),
                "description": _nullable(_TEXT),
                "categories": {"type": "array", "items": _TEXT, "description": "Category slugs."},
                "language": _nullable(_TEXT),
                "organiser": _nullable(_TEXT),
                "venue": _nullable(_ref("VenueSummary")),
                "url": _nullable(_TEXT),
                "image": _nullable(_TEXT),
                "image_credit": {**_nullable(_TEXT), "description": "Who to credit for the image."},
                "image_licence": {**_nullable(_TEXT), "description": "The image's licence (name or URL)."},
                "highlight": {
                    "type": "boolean",
                    "description": "The city's editorial team recommends this event today (see `highlight` "
                    "and `sort=highlights`).",
                },
                "occurrences": {
                    "type": "array",
                    "items": _ref("Occurrence"),
                    "description": "In a list: the occurrences matching the filters; alone: all.",
                },
                "sources": {
                    "type": "array",
                    "items": _ref("SourceRef"),
                    "description": "Every source record merged into this event.",
                },
                "updated": _TIME,
                "links": _object({"self": _TEXT}),
                "feeds": _ref("FeedLinks"),
            }
        ),
        "EventPage": _object(
            {
                "events": {"type": "array", "items": _ref("Event")},
                "next": {**_nullable(_TEXT), "description": "URL of the next page; null on the last page."},
                "count": count,
                "feeds": {**_ref("FeedLinks"), "description": "A feed with the same filters."},
            }
        ),
        "VenueList": _object({"venues": {"type": "array", "items": _ref("Venue")}, "count": count}),
        "Category": _object(
            {
                "slug": _TEXT,
                "labels": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Label by language (de, en).",
                },
                "feeds": _ref("FeedLinks"),
            }
        ),
        "CategoryList": _object({"categories": {"type": "array", "items": _ref("Category")}, "count": count}),
        "Run": _object(
            {
                "id": _INT,
                "started": _TIME,
                "finished": _nullable(_TIME),
                "status": _TEXT,
                "trigger": _TEXT,
                "counts": _object(
                    {
                        name: {**_INT, "minimum": 0}
                        for name in ("listings", "added", "updated", "unchanged", "cancelled", "rejected")
                    }
                ),
                "error": _nullable(_TEXT),
            }
        ),
        "Source": _object(
            {
                "name": _TEXT,
                "kind": _TEXT,
                "schedule": {
                    "type": "string",
                    "description": "e.g. interval:6h, a cron expression, or manual.",
                },
                "health": {"type": "string", "enum": [h.value for h in Health]},
                "consecutive_failures": {**_INT, "minimum": 0},
                "records": {**_INT, "minimum": 0, "description": "Active source records."},
                "last_run": _nullable(_ref("Run")),
                "last_success": _nullable(_TIME),
                "next_run": _nullable(_TIME),
            }
        ),
        "SourceList": _object({"sources": {"type": "array", "items": _ref("Source")}, "count": count}),
        "Status": _object({"status": _TEXT}, required=["status"]),
    }


def _parameter_schema(spec: ParameterSpec) -> Schema:
    text = {"type": "string", "minLength": 1, "maxLength": spec.max_length, "pattern": _NO_CONTROL}
    kinds: dict[str, Schema] = {
        "instant": {
            "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
        },
        "slug": text,
        "text": text,
        "language": {
            "type": "string",
            "maxLength": spec.max_length,
            "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        },
        "flag": {"type": "boolean"},
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        "cursor": {"type": "string", "maxLength": spec.max_length, "pattern": "^[A-Za-z0-9_-]+$"},
        "sort": {"type": "string", "enum": list(SORTS), "default": "next"},
    }
    single = kinds[spec.kind]
    if spec.repeatable:
        return {"type": "array", "items": single, "maxItems": 50}
    return single


def _query(names: tuple[str, ...]) -> list[Schema]:
    found = []
    for name in names:
        spec = PARAMETERS[name]
        parameter: Schema = {
            "name": name,
            "in": "query",
            "required": False,
            "description": spec.description,
            "schema": _parameter_schema(spec),
        }
        if spec.repeatable:
            parameter |= {"style": "form", "explode": True}
        found.append(parameter)
    return found


def _path(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": _NO_CONTROL},
    }


_CACHE_HEADERS = {
    "ETag": {"description": "Entity tag of the body; send it back in If-None-Match.", "schema": _TEXT},
    "Last-Modified": {"description": "When the data shown last changed (HTTP date).", "schema": _TEXT},
    "Cache-Control": {"description": "How long caches may keep the response.", "schema": _TEXT},
}


def _problem(description: str) -> Schema:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref("Problem")}}}


def _get(
    summary: str,
    description: str,
    ok: Schema,
    *,
    media_type: str = "application/json",
    parameters: list[Schema] | None = None,
    not_found: str | None = None,
    moved: bool = False,
    gone: bool = False,
    tag: str = "API",
) -> Schema:
    responses: dict[str, Schema] = {
        "200": {"description": "OK", "headers": _CACHE_HEADERS, "content": {media_type: {"schema": ok}}},
        "304": {
            "description": "Not modified: the copy If-None-Match / If-Modified-Since names is current.",
            "headers": _CACHE_HEADERS,
        },
        "400": _problem("Bad input: an unknown parameter, a malformed value, or `from` after `to`."),
    }
    if moved:
        responses["308"] = {
            "description": "The event was merged into another; Location names it.",
            "headers": {"Location": {"schema": _TEXT}},
        }
    if not_found:
        responses["404"] = _problem(not_found)
    if gone:
        responses["410"] = _problem("The city's editorial team took this event off the calendar.")
    operation: Schema = {
        "summary": summary,
        "description": description,
        "tags": [tag],
        "parameters": parameters or [],
        "responses": responses,
    }
    return {"get": operation}


def _feed_text() -> Schema:
    return {"type": "string", "description": "An iCalendar (RFC 5545) feed with a Europe/Berlin VTIMEZONE."}


@cache
def _document(base_url: str, extensions: tuple[Extension, ...]) -> str:
    return json.dumps(_build(base_url, extensions))


def openapi_document(base_url: str, extensions: Sequence[Extension]) -> Schema:
    """The OpenAPI 3.1 document for a server at ``base_url`` with ``extensions`` (a fresh copy)."""
    document: Schema = json.loads(_document(base_url, tuple(extensions)))
    return document


def _build(base_url: str, extensions: tuple[Extension, ...]) -> Schema:
    filters = _query(FILTER_NAMES)
    event_id = _path("id", "Event id.")
    feed_note = (
        "One VEVENT per occurrence; UID, SEQUENCE and LAST-MODIFIED let clients update in place. "
        "A date the editorial team hid leaves the feed (no VEVENT, not STATUS:CANCELLED). "
        "Subscribe with the same URL and the webcal:// scheme."
    )
    paths: dict[str, Schema] = {
        "/api/v1/events": _get(
            "List events",
            "Events with at least one occurrence matching the filters, sorted by their next occurrence in "
            "the window (with `sort=highlights`, the editors' highlights first), one page at a time "
            "(follow `next`). Events and dates the editorial team hid are never listed.",
            _ref("EventPage"),
            parameters=filters + _query(LIST_NAMES + PAGE_NAMES),
        ),
        "/api/v1/events/{id}": _get(
            "One event",
            "An event with all its occurrences. A merged event's old id answers 308; an event the "
            "editorial team took off the calendar answers 410.",
            _ref("Event"),
            parameters=[event_id],
            not_found="No event has this id.",
            moved=True,
            gone=True,
        ),
        "/api/v1/changes": _get(
            "Changes since a cursor",
            "Every change of what the public sees, in commit order: created, updated (with the fields), "
            "cancelled, rescheduled, hidden, merged and deleted (tombstones, kept for 90 days by default). "
            "Ask again with since=cursor; the cursor is a database sequence, never a time.",
            _ref("ChangePage"),
            parameters=openapi_parameters(),
        ),
        "/api/v1/venues": _get("List venues", "Every venue.", _ref("VenueList")),
        "/api/v1/venues/{slug}": _get(
            "One venue",
            "A venue by its slug.",
            _ref("Venue"),
            parameters=[_path("slug", "Venue slug.")],
            not_found="No venue has this slug.",
        ),
        "/api/v1/categories": _get(
            "List categories", "Category slugs with German and English labels.", _ref("CategoryList")
        ),
        "/api/v1/sources": _get(
            "List sources", "Every source with its schedule, health and last run.", _ref("SourceList")
        ),
        "/feeds/events.ics": _get(
            "Feed of events",
            f"Events matching the filters. {feed_note}",
            _feed_text(),
            media_type=ICAL_MEDIA_TYPE,
            parameters=filters,
            tag="Feeds",
        ),
        "/feeds/venues/{slug}.ics": _get(
            "Feed of a venue",
            f"Events at one venue; the filters narrow it further. {feed_note}",
            _feed_text(),
            media_type=ICAL_MEDIA_TYPE,
            parameters=[_path("slug", "Venue slug."), *filters],
            not_found="No venue has this slug.",
            tag="Feeds",
        ),
        "/feeds/categories/{slug}.ics": _get(
            "Feed of a category",
            f"Events of one category; the filters narrow it further. {feed_note}",
            _feed_text(),
            media_type=ICAL_MEDIA_TYPE,
            parameters=[_path("slug", "Category slug."), *filters],
            not_found="No category has this slug.",
            tag="Feeds",
        ),
        "/events/{id}.ics": _get(
            "One event as iCalendar",
            f"Every occurrence of one event. {feed_note}",
            _feed_text(),
            media_type=ICAL_MEDIA_TYPE,
            parameters=[event_id],
            not_found="No event has this id.",
            moved=True,
            tag="Feeds",
        ),
        "/openapi.json": _get(
            "This document", "The OpenAPI 3.1 description of the API.", {"type": "object"}, tag="Service"
        ),
        "/api/docs": _get(
            "Documentation",
            "A readable page built from this document.",
            _TEXT,
            media_type="text/html",
            tag="Service",
        ),
        "/healthz": _get("Liveness", "The process answers.", _ref("Status"), tag="Service"),
    }
    paths["/readyz"] = _get(
        "Readiness",
        "The database answers and its schema is current.",
        _object({"status": _TEXT, "schema": _TEXT}),
        tag="Service",
    )
    paths["/open-data/"] = _get(
        "Open data: the manifest of the full exports",
        "The files of the last nightly export (schema.org JSON-LD, CSV with one row per date, iCalendar; "
        "gzip) with their size, SHA-256 and record count, the CSV columns, the data licence, and the "
        "change-feed cursor of the exported state: load a file, then follow /api/v1/changes from it.",
        {"type": "object"},
        not_found="No export has been written yet.",
        tag="Open data",
    )
    for suffix, media_type, syntax in (
        ("jsonld", "application/ld+json", "JSON-LD"),
        ("ttl", "text/turtle", "Turtle"),
    ):
        paths[f"/open-data/catalog.{suffix}"] = _get(
            f"Open data: the DCAT-AP.de catalogue ({syntax})",
            "The datasets and their distributions (API, change feed, iCalendar, exports) with publisher, "
            "contact point, licence, update frequency, temporal and spatial coverage, for open-data portals.",
            {"type": "object"} if suffix == "jsonld" else _TEXT,
            media_type=media_type,
            tag="Open data",
        )
    paths["/open-data/{name}"] = _get(
        "Open data: one export file",
        "A file the manifest lists, gzip-compressed, under a stable URL; its ETag is its SHA-256.",
        {"type": "string", "format": "binary"},
        media_type="application/gzip",
        parameters=[_path("name", "File name from the manifest, e.g. occurrences.csv.gz.")],
        not_found="No such export file, or no export yet.",
        tag="Open data",
    )
    paths["/api/v1/changes"]["get"]["responses"]["410"] = _problem(
        "The changes after this cursor are no longer kept: load a full export again."
    )
    paths["/readyz"]["get"]["responses"]["503"] = _problem("The database is unreachable or outdated.")
    components: Schema = {"schemas": {**_schemas(), **openapi_schemas()}}
    for extension in extensions:
        _merge(extension, paths, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "stadtkalender API",
            "version": "1",
            "description": (
                "Events in Dortmund from venues, the city and ticket shops, merged. Times are Europe/Berlin. "
                "Every GET has ETag and Last-Modified; send If-None-Match or If-Modified-Since to get 304. "
                "Errors are RFC 9457 problem details."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": base_url}],
        "tags": [
            {"name": "API", "description": "JSON"},
            {"name": "Feeds", "description": "iCalendar"},
            {"name": "Open data", "description": "Full exports for reusers, with licence and manifest"},
            {"name": "Service", "description": "Documentation and health"},
        ],
        "paths": paths,
        "components": components,
    }


def _merge(extension: Extension, paths: dict[str, Schema], components: Schema) -> None:
    """Describe an extension's routes too (its own module keeps its paths and components)."""
    if extension.openapi_paths is not None:
        paths.update(extension.openapi_paths())
    if extension.openapi_components is not None:
        for section, entries in extension.openapi_components().items():
            components.setdefault(section, {}).update(entries)
