"""The JSON-LD graph of a document: its top-level entities, the Events among them, ``@id`` references."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from aggregator.formats.schemaorg.event_reader import as_list, lenient_link
from aggregator.formats.schemaorg.vocabulary import is_event_type, type_names
from aggregator.types import JSON


class Graph:
    """The nodes of a document by ``@id`` (to resolve references) and its base URL (to make URLs absolute)."""

    def __init__(self, documents: list[Any], base_url: str | None) -> None:
        self.base_url = base_url
        self.nodes: dict[str, JSON] = {}
        stack: list[Any] = list(documents)
        while stack:  # every node with an @id and content
            value = stack.pop()
            if isinstance(value, list):
                stack.extend(value)
            elif isinstance(value, dict):
                node_id = value.get("@id")
                if isinstance(node_id, str) and len(value) > 1:
                    self.nodes.setdefault(node_id, value)
                stack.extend(value.values())

    def resolve(self, value: Any) -> Any:
        """The node a bare ``{"@id": ...}`` reference points to, else the value itself."""
        if isinstance(value, dict) and set(value) == {"@id"}:
            return self.nodes.get(str(value["@id"]), value)
        return value

    def url(self, value: Any) -> str | None:
        """An absolute URL from a string or an object with ``url``/``@id``."""
        return lenient_link(value, self.base_url, self.resolve)


def entities(documents: list[Any]) -> Iterator[Any]:
    """Top-level entities: array items, ``@graph`` members, ``ItemList`` items, ``mainEntity``."""
    stack = list(reversed(documents))
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
            continue
        if not isinstance(value, dict):
            continue
        if "@graph" in value:
            stack.append(value["@graph"])
            continue
        if is_event(value):
            yield value
            continue
        types = _types(value)
        for key in ("event", "events"):
            stack.extend(reversed(as_list(value.get(key))))
        if "ItemList" in types:
            stack.extend(reversed(as_list(value.get("itemListElement"))))
        elif "ListItem" in types and "item" in value:
            stack.append(value["item"])
        elif "mainEntity" in value:
            stack.append(value["mainEntity"])
        elif "@id" in value and len(value) == 1:
            yield value


def is_event(node: Mapping[str, Any]) -> bool:
    """Whether the node is a schema.org Event (any subtype, or another type ending in "Event")."""
    return any(is_event_type(kind) for kind in _types(node))


def _types(node: Mapping[str, Any]) -> set[str]:
    """The node's ``@type`` values without a schema.org prefix."""
    return set(type_names(node.get("@type")))
