"""Reading a JSON push body: schema.org Event objects with exact types, every fault with its path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from aggregator.formats.schemaorg.event_reader import StrictReader
from aggregator.formats.schemaorg.event_reader import json_path as _join
from aggregator.formats.schemaorg.event_reader import kind as _kind
from aggregator.formats.schemaorg.vocabulary import EVENT_TYPES
from aggregator.formats.schemaorg.vocabulary import schema_name as _schema_name
from aggregator.listing import Listing
from aggregator.normalise.dates import localize
from calendar_api.push.batch import (
    MAX_DURATION,
    MAX_ID,
    BodyError,
    Fault,
    Item,
    Rules,
    check_count,
    clean_line,
    out_of_range,
    too_long_event,
)


class JsonReader:
    """Reads schema.org Event objects with exact types, collecting every fault."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.faults: list[Fault] = []
        self.record_id: str | None = None
        self.seen: list[tuple[str, str | None]] = []
        self.schema = StrictReader(self)

    def problem(self, path: str, reason: str) -> None:
        """The schema.org reader's sink: its problems are faults of the record being read."""
        self.fault(path, reason)

    def fault(self, path: str, reason: str) -> None:
        """Record a fault of the record being read."""
        self.faults.append(Fault(path, reason, self.record_id))

    def read(self, body: bytes) -> tuple[list[Item], list[Fault], list[tuple[str, str | None]]]:
        """All records of ``body`` and the faults found."""
        if not body.strip():
            raise BodyError(400, "invalid-body", "the body is empty; send one Event object or a list of them")
        try:
            data = json.loads(body)
        except UnicodeDecodeError as error:
            raise BodyError(
                400, "invalid-body", f"the body is not UTF-8 text ({error.reason} at byte {error.start})"
            ) from error
        except json.JSONDecodeError as error:
            raise BodyError(
                400,
                "invalid-body",
                f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
            ) from error
        items = []
        for path, node in self._records(data):
            listing = self.event(path, node)
            if listing is not None:
                items.append(Item(path, listing))
        return items, self.faults, self.seen

    def _records(self, data: Any) -> Iterator[tuple[str, Any]]:
        single = self.rules.single_id is not None
        if isinstance(data, dict) and "@graph" in data:
            graph = data["@graph"]
            if not isinstance(graph, list):
                self.fault("$['@graph']", f"expected a list of Event objects, got {_kind(graph)}")
                return
            check_count(len(graph), "$['@graph']")
            if single:
                if len(graph) != 1:
                    self.fault("$['@graph']", f"this endpoint takes one Event object, got {len(graph)}")
                    return
                yield "$['@graph'][0]", graph[0]
                return
            yield from ((f"$['@graph'][{i}]", node) for i, node in enumerate(graph))
        elif isinstance(data, list):
            if single:
                self.fault("$", "this endpoint takes one Event object, not a list")
                return
            check_count(len(data), "$")
            yield from ((f"$[{i}]", node) for i, node in enumerate(data))
        elif isinstance(data, dict):
            yield "$", data
        else:
            self.fault("$", f"expected an Event object or a list of them, got {_kind(data)}")

    def event(self, path: str, node: Any) -> Listing | None:
        """One Event object as a listing (None when it has faults)."""
        self.record_id = None
        before = len(self.faults)
        if not isinstance(node, dict):
            self.seen.append((path, None))
            self.fault(path, f"expected an Event object, got {_kind(node)}")
            return None
        record_id = self._id(path, node)
        self.record_id = record_id
        self.seen.append((path, record_id))
        types = self._types(path, node)
        start, all_day = self._start(path, node)
        end = self._end(path, node, start, all_day)
        for unsupported, advice in (
            ("eventSchedule", "send one Event per date"),
            ("subEvent", "send each sub-event as an Event of its own"),
        ):
            if unsupported in node:
                self.fault(_join(path, unsupported), f"is not supported by the push API; {advice}")
        content = self.schema.content(path, node, labels=types)
        series_key = self._series(path, node)
        if len(self.faults) > before or record_id is None or start is None:
            return None
        return Listing(
            source=self.rules.source,
            record_id=record_id,
            fetched_at=self.rules.now,
            start=start,
            end=end,
            all_day=all_day,
            series_key=series_key,
            raw={"jsonld": node},
            **(content | {"title": content["title"] or ""}),
        )

    # fields

    def _id(self, path: str, node: dict[str, Any]) -> str | None:
        wanted = self.rules.single_id
        key = "@id" if "@id" in node or "identifier" not in node else "identifier"
        value = node.get(key)
        if value is None:
            if wanted is not None:
                return wanted
            self.fault(_join(path, "@id"), "is required: the event's own stable id in your system")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.fault(_join(path, key), f"expected text, got {_kind(value)}")
            return None
        cleaned = clean_line(value)
        if not cleaned or cleaned != value:
            self.fault(
                _join(path, key), "must be non-empty text without control characters or surrounding spaces"
            )
            return None
        if len(cleaned) > MAX_ID:
            self.fault(_join(path, key), f"is {len(cleaned)} characters long, at most {MAX_ID} are accepted")
            return None
        if wanted is not None and cleaned != wanted:
            self.fault(_join(path, key), f"{cleaned!r} does not match the id in the URL ({wanted!r})")
            return None
        return cleaned

    def _types(self, path: str, node: dict[str, Any]) -> list[str]:
        value = node.get("@type")
        where = _join(path, "@type")
        if value is None:
            self.fault(where, "is required: 'Event' or one of its schema.org subtypes")
            return []
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            self.fault(where, f"expected text or a list of texts, got {_kind(value)}")
            return []
        names = [_schema_name(v) for v in values]
        if not any(name in EVENT_TYPES for name in names):
            self.fault(
                where,
                f"unknown @type {value!r}: expected 'Event' or one of its schema.org subtypes "
                f"({', '.join(sorted(EVENT_TYPES - {'Event'})[:6])}, ...)",
            )
            return []
        return [name for name in names if name in EVENT_TYPES and name != "Event"]

    def _start(self, path: str, node: dict[str, Any]) -> tuple[datetime | None, bool]:
        if node.get("startDate") is None:
            self.fault(_join(path, "startDate"), "is required")
            return None, False
        start, all_day = self.schema.moment(_join(path, "startDate"), node["startDate"], bounded=False)
        if start is not None and not self.rules.earliest <= start <= self.rules.latest:
            self.fault(_join(path, "startDate"), out_of_range(start, self.rules))
            return None, False
        return start, all_day

    def _end(self, path: str, node: dict[str, Any], start: datetime | None, all_day: bool) -> datetime | None:
        end, end_is_date = self.schema.moment(_join(path, "endDate"), node.get("endDate"))
        if start is None:
            return None
        if end is None:
            return start + timedelta(days=1) if all_day and "endDate" not in node else None
        if end_is_date:
            end = localize(datetime.combine(end.date() + timedelta(days=1), time()))  # inclusive last day
        if end < start:
            self.fault(
                _join(path, "endDate"), f"{node['endDate']!r} is before the startDate {node['startDate']!r}"
            )
            return None
        if end - start > MAX_DURATION:
            self.fault(_join(path, "endDate"), too_long_event(end - start))
            return None
        return end

    def _series(self, path: str, node: dict[str, Any]) -> str | None:
        value = node.get("superEvent")
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get("@id")
        if not isinstance(value, str) or not clean_line(value):
            self.fault(_join(path, "superEvent"), 'expected the @id of the series (text or {"@id": …})')
            return None
        return clean_line(value)
