"""The change feed for reusers: ``GET /api/v1/changes?since=CURSOR``, every public change in commit order.

A reuser mirrors the calendar once, then asks for the changes after the last cursor it saw, as often
as it likes; the answer's ``cursor`` is where to ask next (also when a filter left every change
out). The cursor is a database sequence (:mod:`aggregator.changes`), never a time. Deleted and merged
events stay as tombstones for ``open_data.change_retention_days``; an older cursor answers
``410 cursor-expired``. Pages are cached and carry ETag/Last-Modified like every list.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.changes import ChangeKind, StaleCursor, read_changes
from aggregator.models import Change
from aggregator.text import CONTROL_CODES, has_control_characters
from calendar_api.caching import Publisher
from calendar_api.json_shapes import berlin
from calendar_api.problems import Problem, invalid_parameter
from calendar_api.queries import DataVersion

CHANGES_PATH = "/api/v1/changes"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR = 10**18 - 1
FILTERS = {"venue": "venues", "category": "categories", "source": "sources"}
"""Query parameter → keyword of :func:`aggregator.changes.read_changes` (each repeatable: any of them)."""
MAX_FILTER_VALUES = 50
MAX_SLUG = 120


class ChangeQuery:
    """The validated query of one change-feed request."""

    def __init__(self, params: Sequence[tuple[str, str]]) -> None:
        self.since = 0
        self.limit = DEFAULT_LIMIT
        self.filters: dict[str, list[str]] = {name: [] for name in FILTERS}
        seen: set[str] = set()
        for name, value in params:
            if name in ("since", "limit"):
                if name in seen:
                    raise invalid_parameter(name, f"{name!r} is given more than once.")
                seen.add(name)
                self._number(name, value)
            elif name in FILTERS:
                self._filter(name, value)
            else:
                known = ", ".join(["since", "limit", *FILTERS])
                raise invalid_parameter(name, f"Unknown parameter {name!r}; this path takes {known}.")

    def _number(self, name: str, value: str) -> None:
        highest = MAX_CURSOR if name == "since" else MAX_LIMIT
        lowest = 0 if name == "since" else 1
        if (
            not value.isascii()
            or not value.isdigit()
            or len(value) > 18
            or not lowest <= int(value) <= highest
        ):
            what = "a cursor from an earlier answer (0: from the start)" if name == "since" else None
            raise invalid_parameter(
                name, f"{name}={value!r}: give {what or f'a whole number from {lowest} to {highest}'}."
            )
        if name == "since":
            self.since = int(value)
        else:
            self.limit = int(value)

    def _filter(self, name: str, value: str) -> None:
        if not value or len(value) > MAX_SLUG or has_control_characters(value):
            raise invalid_parameter(name, f"{name}={value!r}: give a slug of 1 to {MAX_SLUG} characters.")
        if len(self.filters[name]) >= MAX_FILTER_VALUES:
            raise invalid_parameter(name, f"At most {MAX_FILTER_VALUES} values of {name!r}.")
        self.filters[name].append(value)

    def normalised(self, since: int | None = None) -> list[tuple[str, str]]:
        """The query as sorted pairs, with ``since`` replaced when given."""
        pairs = [("since", str(self.since if since is None else since)), ("limit", str(self.limit))]
        pairs += [(name, value) for name, values in self.filters.items() for value in sorted(set(values))]
        return sorted(pairs)


def change_json(change: Change, api: str) -> dict[str, Any]:
    """One change as the feed shows it."""
    return {
        "cursor": str(change.id),
        "kind": change.kind,
        "at": berlin(change.at),
        "event": change.event_id,
        "occurrence": change.occurrence_id,
        "fields": list(change.fields),
        "data": dict(change.data),
        "event_url": f"{api}/events/{change.event_id}",
    }


class ChangeFeed:
    """The change-feed endpoint of one app."""

    def __init__(self, publisher: Publisher, base_url: str) -> None:
        self.publisher = publisher
        self.base_url = base_url.rstrip("/")

    def routes(self) -> list[Route]:
        """The route (GET and HEAD)."""
        return [Route(CHANGES_PATH, self.changes, methods=["GET"], name="api_changes")]

    def changes(self, request: Request) -> Response:
        """The changes after ``since``, oldest first, at most ``limit``, matching the filters."""
        query = ChangeQuery(request.query_params.multi_items())
        keywords = {FILTERS[name]: values for name, values in query.filters.items()}
        api = f"{self.base_url}/api/v1"

        def render(session: Session, _version: DataVersion) -> tuple[bytes, str, Any]:
            try:
                page = read_changes(session, query.since, query.limit, **keywords)
            except StaleCursor as stale:
                raise Problem(
                    410,
                    "cursor-expired",
                    f"The changes after {stale.cursor} are no longer kept (pruned up to {stale.oldest}); "
                    "load a full export and follow the feed from there.",
                    parameter="since",
                ) from stale
            body = {
                "changes": [change_json(change, api) for change in page.changes],
                "cursor": str(page.next_cursor),
                "next": f"{self.base_url}{CHANGES_PATH}?{urlencode(query.normalised(page.next_cursor))}",
            }
            encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            return encoded, "application/json", _version.time

        return self.publisher.serve(
            request,
            kind="json",
            query=urlencode(query.normalised()),
            bucket=None,
            render=render,
            cache_control="public, max-age=10",
        )


def openapi_parameters() -> list[dict[str, Any]]:
    """The query parameters of the change feed, as the OpenAPI document describes them."""
    slug = {"type": "string", "minLength": 1, "maxLength": MAX_SLUG, "pattern": f"^[^{CONTROL_CODES}]+$"}
    listed = {"type": "array", "items": slug, "maxItems": MAX_FILTER_VALUES}
    described = {
        "venue": "Venue slug; repeat for any of several.",
        "category": "Category slug; repeat for any of several.",
        "source": "Source name (see /api/v1/sources); repeat for any of several.",
    }
    return [
        {
            "name": "since",
            "in": "query",
            "required": False,
            "description": "The `cursor` of the last answer; 0 (default) starts at the oldest change kept.",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_CURSOR, "default": 0},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"Changes per answer, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        },
        *(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": text,
                "schema": listed,
                "style": "form",
                "explode": True,
            }
            for name, text in described.items()
        ),
    ]


def openapi_schemas() -> dict[str, Any]:
    """The ``Change`` and ``ChangePage`` schemas."""
    text = {"type": "string"}
    return {
        "Change": {
            "type": "object",
            "properties": {
                "cursor": {
                    **text,
                    "description": "Position of this change; ask with since=cursor for later ones.",
                },
                "kind": {
                    "type": "string",
                    "enum": [kind.value for kind in ChangeKind],
                    "description": (
                        "created, updated (see fields), cancelled and rescheduled (of one occurrence), "
                        "hidden, unhidden, merged (data.into names the surviving event), deleted (a "
                        "tombstone: of the event, or with an occurrence id of that one date)."
                    ),
                },
                "at": {"type": "string", "format": "date-time"},
                "event": text,
                "occurrence": {"type": ["string", "null"]},
                "fields": {
                    "type": "array",
                    "items": text,
                    "description": "For updated: what changed (event fields, or of the occurrence named).",
                },
                "data": {
                    "type": "object",
                    "description": (
                        "Details: into (merged), previous_start and start (rescheduled), added and "
                        "removed occurrence ids (updated occurrences)."
                    ),
                },
                "event_url": {
                    **text,
                    "description": "The event in the API (308 once merged, 404 once deleted).",
                },
            },
            "required": ["cursor", "kind", "at", "event", "occurrence", "fields", "data", "event_url"],
        },
        "ChangePage": {
            "type": "object",
            "properties": {
                "changes": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
                "cursor": {**text, "description": "Ask with since=cursor next (also when changes is empty)."},
                "next": {**text, "description": "The URL to ask next."},
            },
            "required": ["changes", "cursor", "next"],
        },
    }
