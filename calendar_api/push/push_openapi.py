"""The OpenAPI 3.1 description of the push endpoints, for merging into ``/openapi.json``.

:func:`openapi_paths` gives the path items (schemas inline, so they merge without name clashes);
:func:`openapi_components` the ``pushToken`` bearer security scheme they refer to.
"""

from __future__ import annotations

from typing import Any

from aggregator.formats.schemaorg.vocabulary import AVAILABILITY, EVENT_TYPES, PREFIXES, STATUS, iri
from calendar_api.ical_feed import ICAL_MEDIA_TYPE
from calendar_api.problems import PROBLEM_MEDIA_TYPE
from calendar_api.push.handlers import PREFIX
from calendar_api.push.push_problems import PUSH_PROBLEMS
from calendar_api.push.validate import MAX_ID, MAX_RECORDS

Schema = dict[str, Any]
SECURITY_SCHEME = "pushToken"
_RESULTS = ["created", "updated", "unchanged", "cancelled", "missing", "rejected", "not_written"]

_FAULT: Schema = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "examples": ["$[3].startDate", "VEVENT[2].DTEND"]},
        "id": {"type": ["string", "null"]},
        "reason": {"type": "string"},
    },
    "required": ["path", "reason"],
}
_PROBLEM: Schema = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": _FAULT},
        "records": {"type": "array", "items": {"type": "object"}},
        "run_id": {"type": "integer"},
        "retry_after": {"type": "integer"},
    },
    "required": ["type", "title", "status", "detail"],
}
_OUTCOME: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "Your id (@id or UID; a series' dates add #date)."},
        "result": {"enum": _RESULTS},
        "path": {"type": "string"},
        "event_id": {"type": "string"},
        "occurrence_id": {"type": "string"},
        "missing_runs": {
            "type": "integer",
            "description": "sync: syncs in a row this record was missing from",
        },
    },
    "required": ["id", "result"],
}
_WRITE_RESULT: Schema = {
    "type": "object",
    "properties": {
        "source": {"type": "string", "examples": ["push:konzerthaus-dortmund"]},
        "run_id": {"type": "integer"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "records": {"type": "array", "items": _OUTCOME},
    },
    "required": ["source", "run_id", "counts", "records"],
}


def _names(table: dict[str, Any]) -> Schema:
    """A schema.org enumeration: each name bare or with one of the prefixes the reader accepts."""
    names = list(table)
    return {
        "enum": [*names, *(prefix + name for prefix in PREFIXES for name in names)],
        "examples": [iri(names[0])],
    }


_PLACE: Schema = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "properties": {
                "@type": {"const": "Place"},
                "name": {"type": "string"},
                "address": {"anyOf": [{"type": "string"}, {"type": "object"}]},
                "url": {"type": "string", "format": "uri"},
                "geo": {
                    "type": "object",
                    "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
                },
            },
        },
    ]
}
_PRICE: Schema = {"type": ["number", "string"]}
_PRICE_SPECIFICATION: Schema = {
    "type": "object",
    "properties": {
        "price": _PRICE,
        "minPrice": _PRICE,
        "maxPrice": _PRICE,
        "priceCurrency": {"type": "string"},
    },
}
_OFFER: Schema = {
    "type": "object",
    "properties": {
        "@type": {"enum": ["Offer", "AggregateOffer"]},
        "price": _PRICE,
        "lowPrice": _PRICE,
        "highPrice": _PRICE,
        "priceSpecification": {
            "anyOf": [_PRICE_SPECIFICATION, {"type": "array", "items": _PRICE_SPECIFICATION}]
        },
        "priceCurrency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "url": {"type": "string", "format": "uri"},
        "availability": _names(AVAILABILITY),
        "seller": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        "validFrom": {"type": "string", "format": "date-time"},
        "name": {"type": "string"},
    },
}
_LABELS: Schema = {
    "anyOf": [
        {"type": "string", "description": "comma-separated"},
        {"type": "array", "items": {"type": "string"}},
    ]
}
_EVENT: Schema = {
    "type": "object",
    "description": "A schema.org Event. Unknown properties are ignored; known ones must have these types. "
    "A date-time without offset is Berlin time; a date alone is an all-day event (endDate "
    "inclusive). Without location the event is at the token's venue.",
    "properties": {
        "@context": {},
        "@type": {"anyOf": [{"enum": sorted(EVENT_TYPES)}, {"type": "array"}]},
        "@id": {
            "type": "string",
            "maxLength": MAX_ID,
            "description": "The event's stable id in your system (required unless `identifier` or the "
            "URL gives it).",
        },
        "name": {"type": "string", "maxLength": 500},
        "startDate": {"type": "string"},
        "endDate": {"type": "string"},
        "description": {"type": "string"},
        "disambiguatingDescription": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "image": {"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}]},
        "inLanguage": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        "organizer": {"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}]},
        "keywords": _LABELS,
        "genre": _LABELS,
        "eventStatus": _names(STATUS),
        "identifier": {"type": ["string", "integer"], "description": "Stands in for a missing @id."},
        "previousStartDate": {"type": "string"},
        "location": {"anyOf": [_PLACE, {"type": "array", "items": _PLACE}]},
        "offers": {"anyOf": [_OFFER, {"type": "array", "items": _OFFER}]},
        "isAccessibleForFree": {"type": "boolean"},
        "superEvent": {"anyOf": [{"type": "string"}, {"type": "object"}]},
    },
    "required": ["@type", "name", "startDate"],
}
_MANY: Schema = {
    "anyOf": [
        _EVENT,
        {"type": "array", "items": _EVENT},
        {
            "type": "object",
            "properties": {"@graph": {"type": "array", "items": _EVENT}},
            "required": ["@graph"],
        },
    ]
}
_CALENDAR: Schema = {"type": "string", "description": "A VCALENDAR; every VEVENT needs UID and SUMMARY."}


def _problem(description: str) -> Schema:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM}}}


def _body(event: Schema) -> Schema:
    return {
        "required": True,
        "content": {
            "application/ld+json": {"schema": event},
            "application/json": {"schema": event},
            ICAL_MEDIA_TYPE: {"schema": _CALENDAR},
        },
    }


def _responses(ok: dict[str, str], *, body: bool = True, read: bool = False) -> Schema:
    result = {"application/json": {"schema": _WRITE_RESULT}}
    responses: Schema = {code: {"description": text, "content": result} for code, text in ok.items()}
    responses["401"] = {
        **_problem("Missing, unknown or revoked token (with a WWW-Authenticate challenge)."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    }
    responses["429"] = {
        **_problem("Over the token's rate limit."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
    if read:
        responses["400"] = _problem(
            "A query parameter (limit, after, before) is not a whole number in its documented range."
        )
    if not read:
        responses["403"] = _problem(
            "A read-only token, or an event at (or stored at) a venue this token "
            "does not write for; nothing was written."
        )
        responses["500"] = _problem("The write failed; nothing was written.")
    if body:
        responses["400"] = _problem("Not JSON / not iCalendar, or a bad Content-Length.")
        responses["413"] = _problem(
            "Body over the limit (push.max_body_bytes, default 5 MB), or a list of "
            f"more than {MAX_RECORDS} records (refused before any is read)."
        )
        responses["415"] = _problem("Not application/ld+json, application/json or text/calendar.")
        responses["422"] = _problem("Invalid records: every bad field with its path; nothing was written.")
    return responses


def _id_parameter() -> Schema:
    return {
        "name": "venue_event_id",
        "in": "path",
        "required": True,
        "description": "Your id of the event (@id or UID), URL-encoded.",
        "schema": {"type": "string", "maxLength": MAX_ID},
    }


def _page(name: str, description: str, high: int, *, low: int = 1) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "integer", "minimum": low, "maximum": high},
    }


def openapi_paths() -> dict[str, Any]:
    """The push endpoints as OpenAPI 3.1 path items, keyed by their full paths."""
    security: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
    tags = ["push"]
    one = {
        "get": {
            "summary": "One of your events as stored",
            "tags": tags,
            "security": security,
            "parameters": [_id_parameter()],
            "responses": {
                "200": {"description": "The stored records of this id (each date of a series)."},
                **_responses({}, body=False, read=True),
                "404": _problem("No event with this id."),
            },
        },
        "put": {
            "summary": "Create or replace one event",
            "tags": tags,
            "security": security,
            "description": "The body is this event's complete current state (its @id/UID must match the URL "
            "or be absent); dates of its series that are not sent are cancelled.",
            "parameters": [_id_parameter()],
            "requestBody": _body(_EVENT),
            "responses": {
                **_responses({"200": "Updated or unchanged.", "201": "Created."}),
                "404": _problem(
                    "The path carries no event id (an empty id, or one that is not URL-encoded)."
                ),
            },
        },
        "delete": {
            "summary": "Cancel one event",
            "tags": tags,
            "security": security,
            "description": "Marks the event (every date of its series) cancelled; its history is kept. "
            "Repeating it changes nothing.",
            "parameters": [_id_parameter()],
            "responses": {
                **_responses({"200": "Cancelled (or already cancelled: unchanged)."}, body=False),
                "404": _problem("No event with this id."),
            },
        },
    }
    return {
        f"{PREFIX}/events": {
            "post": {
                "summary": "Create or update events",
                "tags": tags,
                "security": security,
                "description": "One or many schema.org Events, or a text/calendar body. Creates or updates "
                "by your id; idempotent. All or nothing: one bad record rejects the request "
                "(422).",
                "requestBody": _body(_MANY),
                "responses": _responses({"200": "Every record's result."}),
            },
            "get": {
                "summary": "Your events",
                "tags": tags,
                "security": security,
                "parameters": [
                    _page("limit", "Page size (default 100).", 500),
                    _page("after", "Continue after this record number (from `next`).", 2**62, low=0),
                ],
                "responses": {
                    "200": {"description": "A page of your stored records."},
                    **_responses({}, body=False, read=True),
                },
            },
        },
        f"{PREFIX}/events/{{venue_event_id}}": one,
        f"{PREFIX}/sync": {
            "post": {
                "summary": "Replace your whole programme",
                "tags": tags,
                "security": security,
                "description": "Events not sent are marked missing and cancelled once missing from "
                "ingest.missing_runs_before_cancel (default 2) syncs in a row. A sync that would "
                "drop a large share of your future events at once is held back (409) and changes "
                "nothing until an operator confirms its run.",
                "requestBody": _body(_MANY),
                "responses": {
                    **_responses({"200": "Every record's result, including missing ones."}),
                    "409": _problem("Held back by the mass-cancellation guard; run_id names the held run."),
                },
            }
        },
        f"{PREFIX}/log": {
            "get": {
                "summary": "Your audit log",
                "tags": tags,
                "security": security,
                "parameters": [
                    _page("limit", "Page size (default 50).", 500),
                    _page("before", "Entries older than this id (from `next`).", 2**62),
                ],
                "responses": {
                    "200": {"description": "Write attempts by your venue's tokens, newest first."},
                    **_responses({}, body=False, read=True),
                },
            }
        },
    }


def openapi_components() -> dict[str, Any]:
    """The components the push paths need: the bearer security scheme."""
    return {
        "securitySchemes": {
            SECURITY_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "description": "A venue token from `stadtkalender tokens issue VENUE --name NAME`.",
            }
        }
    }


def problem_types() -> dict[str, str]:
    """The push problem type slugs and titles (for the docs page)."""
    return dict(PUSH_PROBLEMS)
