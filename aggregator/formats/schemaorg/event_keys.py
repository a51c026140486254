"""Which event a JSON-LD Event node is: its record id and the key of the series (production) it belongs to."""

from __future__ import annotations

import hashlib
import re

from aggregator.formats.schemaorg.event_reader import as_list, plain_string
from aggregator.formats.schemaorg.graph import Graph
from aggregator.types import JSON

_DATE_IN_URL = re.compile(
    r"([-_]?)(?<!\d)(\d{1,2}[-._]\d{1,2}[-._]\d{4}|\d{4}-\d{2}-\d{2}(?:T[\d:]+)?)(?!\d)([-_]?)"
)


def base_record_id(graph: Graph, event: JSON) -> str:
    """The event's key: ``@id``, ``identifier``, URL plus start, else a hash of name, start and place."""
    node_id = graph.url(event.get("@id"))
    if node_id:
        return node_id
    identifier = plain_string(event.get("identifier"))
    if identifier:
        return identifier
    url, start = graph.url(event.get("url")), plain_string(event.get("startDate"))
    if url:
        return f"{url}#{start}" if start else url
    location = graph.resolve(as_list(event.get("location"))[0]) if as_list(event.get("location")) else None
    place = plain_string(location.get("name")) if isinstance(location, dict) else plain_string(location)
    basis = "|".join(text or "" for text in (plain_string(event.get("name")), start, place))
    return "jsonld-" + hashlib.sha1(basis.encode()).hexdigest()[:16]


def series_key(graph: Graph, event: JSON) -> str | None:
    """The production's key: the super event's ``@id``/URL, else the event's own without a date."""
    for parent in as_list(event.get("superEvent")):
        key = graph.url(graph.resolve(parent))
        if key:
            return key
    own = graph.url(event.get("@id")) or graph.url(event.get("url"))
    return _undated(own) if own else None


def _undated(url: str) -> str:
    """A URL without the dates in it (and one separator each), for a series key."""
    undated = _DATE_IN_URL.sub(lambda match: match[1] if match[3] else "", url)
    return re.sub(r"(?<!:)//+", "/", undated)
