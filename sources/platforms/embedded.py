"""Events embedded in HTML pages as structured data: JSON-LD, microdata, RDFa and microformats h-event.

extruct reads microdata, RDFa (pyRdfa, with vocabulary expansion and caching off: it fetches nothing)
and microformats (mf2py, from the page's text only); JSON-LD blocks are read by the JSON-LD reader's own
lenient block parser. Microdata and RDFa are brought into the JSON-LD shape (schema.org terms without
their IRI prefix, blank nodes inlined and never used as ids), an ``h-event`` becomes a schema.org
``Event``, and one reader, :func:`aggregator.formats.schemaorg.jsonld_reader.read_schemaorg`, turns
them all into listings.

A page that carries the same event in two syntaxes gives it once: the first syntax of :data:`SYNTAXES`
that has it wins (same start, same title). A page larger than :data:`MAX_PAGE_BYTES` is not read.

A venue whose pages carry their events so is added in ``settings.toml`` without code::

    [sources.some_club]
    type = "embedded"
    url = "https://club.example/programm/"
    follow = "/programm/\\d{4}-"     # optional: read the pages the start page links to that match
    venue = "Some Club"

Options: ``url``/``urls``, ``venue``, ``follow`` (a regular expression searched in each URL; the pages on
the start page's host that it links to and that match are read too), ``sitemap`` (a sitemap URL whose
pages on that host matching ``follow`` are read instead of the links), ``max_pages`` (default 60) and the
window.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from aggregator.formats.decoding import decode
from aggregator.formats.errors import DocumentError
from aggregator.formats.read_result import ReadResult
from aggregator.formats.schemaorg.event_names import NameCleaner, clean_event_name
from aggregator.formats.schemaorg.json_blocks import ld_json_values
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld, read_schemaorg
from aggregator.listing import Listing
from aggregator.text import fold_key
from sources._html import page_links
from sources.base import Document, SourceError
from sources.platforms._document import DocumentSource
from sources.platforms.sitemap import sitemap_pages

SYNTAXES = ("json-ld", "microdata", "rdfa", "microformat")
"""The syntaxes read, in the order they win when a page carries one event in several."""

MAX_PAGE_BYTES = 5_000_000
"""A page larger than this is not read for structured data (extruct builds whole trees)."""

MAX_DEPTH = 12
"""Nesting followed when blank RDFa nodes are inlined (a cycle stops here)."""

DEFAULT_MAX_PAGES = 60

_SCHEMA_IRI = re.compile(r"^https?://schema\.org/")
_NO_EVENT = "the JSON-LD holds no Event"


class NoEmbeddedData(DocumentError):
    """The page carries no structured data of any syntax (or could not be read for it)."""

    failure: ClassVar[str] = "has no embedded structured data"
    default_source: ClassVar[str] = "embedded"


@dataclass(slots=True)
class EmbeddedResult(ReadResult):
    """One page read (see :class:`ReadResult`) and how many events each syntax held."""

    found: dict[str, int] = field(default_factory=dict, kw_only=True)
    """Events per syntax that had any, before the syntaxes were merged (``{"microdata": 12}``)."""


def embedded_values(page: str, base_url: str | None, notes: list[str]) -> dict[str, list[Any]]:
    """The structured data of an HTML page as JSON-LD-shaped values, by syntax (a syntax with none: absent).

    A syntax whose extraction fails costs only itself, with a note.
    """
    values: dict[str, list[Any]] = {}
    jsonld = ld_json_values(page, notes)
    if jsonld:
        values["json-ld"] = jsonld
    for syntax, shape in (("microdata", _microdata), ("rdfa", _rdfa), ("microformat", _microformats)):
        try:
            raw = _extract(page, base_url, syntax)
        except Exception as error:  # extruct's parsers raise anything on odd markup
            notes.append(f"{syntax} unreadable ({type(error).__name__}: {error}); skipped")
            continue
        shaped = shape(raw)
        if shaped:
            values[syntax] = shaped
    return values


def _extract(page: str, base_url: str | None, syntax: str) -> list[Any]:
    import extruct

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lxml and rdflib warn about markup they repair
        found = extruct.extract(page, base_url=base_url, syntaxes=[syntax], uniform=True, errors="strict")
    return list(found.get(syntax, []))


def parse_embedded(
    data: bytes | str,
    *,
    source: str,
    fetched_at: datetime,
    base_url: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    clean_name: NameCleaner | None = None,
    origin: str = "",
) -> EmbeddedResult:
    """Read the events an HTML page (or a JSON-LD document) embeds, in every syntax of :data:`SYNTAXES`.

    Raises :class:`NoEmbeddedData` for a page without structured data of any syntax, or one larger
    than :data:`MAX_PAGE_BYTES`; ``base_url``, ``window`` and ``clean_name`` are as for
    :func:`~aggregator.formats.schemaorg.jsonld_reader.parse_jsonld`.
    """
    origin = origin or base_url or ""
    size = len(data)
    if size > MAX_PAGE_BYTES:
        raise NoEmbeddedData(origin, f"{size} bytes is over the limit of {MAX_PAGE_BYTES}", source)
    text = data if isinstance(data, str) else decode(data, guess_utf16=False)
    text = text.lstrip("\ufeff")
    notes: list[str] = []
    head = text.lstrip()[:1]
    if head in ("{", "["):
        plain = parse_jsonld(
            text,
            source=source,
            fetched_at=fetched_at,
            base_url=base_url,
            window=window,
            clean_name=clean_name,
        )
        return EmbeddedResult(
            plain.listings,
            plain.warnings,
            plain.rejections,
            plain.records,
            plain.outside,
            found={"json-ld": len(plain.listings)} if plain.records else {},
        )
    if head != "<":
        raise NoEmbeddedData(origin, "it is not an HTML page", source)
    values = embedded_values(text, base_url, notes)
    if not values:
        raise NoEmbeddedData(origin, "no JSON-LD, microdata, RDFa or h-event on the page", source)
    result = EmbeddedResult(warnings=notes)
    seen: set[tuple[str, str]] = set()
    for syntax in SYNTAXES:
        if syntax not in values:
            continue
        read = read_schemaorg(
            values[syntax],
            source=source,
            fetched_at=fetched_at,
            base_url=base_url,
            window=window,
            clean_name=clean_name,
        )
        if not read.records:
            continue
        result.found[syntax] = read.records
        result.records += read.records
        result.rejections.extend(read.rejections)
        result.outside.extend([read.outside])
        result.warnings.extend(f"{syntax}: {w}" for w in read.warnings if w != _NO_EVENT)
        for listing in read.listings:
            key = (listing.start.isoformat() if listing.start else "", fold_key(listing.title))
            if key in seen:
                result.records -= 1
                continue
            seen.add(key)
            result.listings.append(listing.evolve(raw={**listing.raw, "syntax": syntax}))
    if not result.records:
        result.warnings.append(f"structured data ({', '.join(values)}) without any Event")
    return result


def _microdata(items: list[Any]) -> list[Any]:
    """extruct's uniform microdata items: the item id (``itemid``) becomes ``@id``."""
    return [_with_ids(item) for item in items]


def _with_ids(value: Any) -> Any:
    if isinstance(value, list):
        return [_with_ids(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: _with_ids(item) for key, item in value.items() if key not in ("id", "@context")}
    if isinstance(value.get("id"), str):
        out["@id"] = value["id"]
    return out


def _rdfa(nodes: list[Any]) -> list[Any]:
    """Expanded JSON-LD from pyRdfa, compacted to schema.org terms; blank nodes inlined where used."""
    by_id = {node["@id"]: node for node in nodes if isinstance(node, dict) and "@id" in node}
    used: set[str] = set()
    for node in nodes:
        _references(node, used)
    tops = [
        node
        for node in nodes
        if isinstance(node, dict) and not (str(node.get("@id", "")).startswith("_:") and node["@id"] in used)
    ]
    compacted = [_compact(node, by_id, 0) for node in tops]
    return [node for node in compacted if isinstance(node, dict) and node.get("@type")]


def _references(value: Any, found: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _references(item, found)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "@id" and len(value) == 1 and isinstance(item, str):
                found.add(item)
            else:
                _references(item, found)


def _compact(value: Any, nodes: dict[str, Any], depth: int) -> Any:
    if isinstance(value, list):
        items = [_compact(item, nodes, depth) for item in value]
        return items[0] if len(items) == 1 else items
    if not isinstance(value, dict):
        return value
    if "@value" in value:
        return value["@value"]
    if set(value) == {"@id"}:
        ref = str(value["@id"])
        if ref.startswith("_:") and ref in nodes and depth < MAX_DEPTH:
            return _compact(nodes[ref], nodes, depth + 1)
        return ref if not ref.startswith("_:") else None
    out: dict[str, Any] = {}
    node_id = value.get("@id")
    if isinstance(node_id, str) and not node_id.startswith("_:"):
        out["@id"] = node_id
    types = [_SCHEMA_IRI.sub("", str(kind)) for kind in _as_list(value.get("@type"))]
    if types:
        out["@type"] = types[0] if len(types) == 1 else types
    for key, item in value.items():
        if _SCHEMA_IRI.match(key):
            out[_SCHEMA_IRI.sub("", key)] = _compact(item, nodes, depth + 1)
    return out


def _microformats(items: list[Any]) -> list[Any]:
    """Every ``h-event`` (also inside an ``h-feed`` or other item's children) as a schema.org Event."""
    events: list[Any] = []
    stack = list(reversed(items))
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        stack.extend(reversed(_as_list(item.get("children"))))
        if "h-event" in _as_list(item.get("@type")):
            events.append(_h_event(item))
    return events


def _h_event(item: dict[str, Any]) -> dict[str, Any]:
    """The schema.org Event an ``h-event`` describes (name, start, end, url, summary, location, photo)."""
    event: dict[str, Any] = {"@type": "Event"}
    for key, target in (("name", "name"), ("start", "startDate"), ("end", "endDate"), ("url", "url")):
        value = _first_text(item.get(key))
        if value:
            event[target] = value
    uid = _first_text(item.get("uid"))
    if uid:
        event["identifier"] = uid
    description = _first_text(item.get("description") or item.get("summary") or item.get("content"))
    if description:
        event["description"] = description
    photo = _first_text(item.get("photo"))
    if photo:
        event["image"] = photo
    categories = [text for text in (_first_text(c) for c in _as_list(item.get("category"))) if text]
    if categories:
        event["keywords"] = categories
    location = _as_list(item.get("location"))
    if location:
        event["location"] = _h_place(location[0])
    return event


def _h_place(value: Any) -> Any:
    """A location: text stays text; an ``h-card``/``h-adr`` becomes a Place with a PostalAddress."""
    if not isinstance(value, dict):
        return value
    address = {
        target: text
        for key, target in (
            ("street-address", "streetAddress"),
            ("postal-code", "postalCode"),
            ("locality", "addressLocality"),
        )
        if (text := _first_text(value.get(key)))
    }
    place: dict[str, Any] = {"@type": "Place", "name": _first_text(value.get("name")) or value.get("value")}
    if address:
        place["address"] = {"@type": "PostalAddress", **address}
    return place


def _first_text(value: Any) -> str | None:
    """The first value of a microformats property as text (``{"value": …}`` objects unwrapped)."""
    first = _as_list(value)[0] if _as_list(value) else None
    if isinstance(first, dict):
        first = first.get("value") or first.get("html")
    return str(first).strip() or None if first is not None else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


class EmbeddedSource(DocumentSource):
    """Pages whose events are embedded as JSON-LD, microdata, RDFa or h-event, configured by settings alone.

    See the module docstring for the options.
    """

    abstract: ClassVar[bool] = True
    platform: ClassVar[str] = "embedded"
    format_label: ClassVar[str] = "structured data"
    format_error: ClassVar[type[DocumentError]] = NoEmbeddedData

    def fetch(self) -> Iterator[Document]:
        """The start pages, then the pages they link to (or the sitemap lists) that match ``follow``."""
        if self.fetcher is None:
            raise SourceError(self.source_name, "no fetcher given")
        follow = self._follow()
        limit = int(self.options.get("max_pages", DEFAULT_MAX_PAGES))
        pages: list[str] = []
        for url in self.urls():
            document = self.fetcher.get(url)
            yield document
            if follow is not None and not self.options.get("sitemap"):
                host = urlsplit(document.url).netloc
                pages += [
                    link
                    for link in page_links(document)
                    if urlsplit(link).netloc == host and follow.search(link)
                ]
        sitemap = self.options.get("sitemap")
        if sitemap:
            pages = [page for page in sitemap_pages(self.fetcher, str(sitemap), self.source_name)]
            hosts = {urlsplit(url).netloc for url in self.urls()}
            pages = [page for page in pages if urlsplit(page).netloc in hosts]
            pages = [page for page in pages if follow is None or follow.search(page)]
        wanted = list(dict.fromkeys(page for page in pages if page not in self.urls()))
        if len(wanted) > limit:
            raise SourceError(
                self.source_name, f"{len(wanted)} pages to read, more than max_pages={limit}; raise it"
            )
        for page in wanted:
            yield self.fetcher.get(page)

    def _follow(self) -> re.Pattern[str] | None:
        pattern = self.options.get("follow")
        if not pattern:
            return None
        try:
            return re.compile(str(pattern))
        except re.error as error:
            raise SourceError(
                self.source_name, f"option follow: not a regular expression ({error})"
            ) from None

    def clean_name(self, name: str, start: datetime | None, location: str | None) -> str:
        """The title for an event name; by default strips a trailing own date and venue."""
        return clean_event_name(name, start, location)

    def read(self, document: Document) -> ReadResult:
        """One page's embedded events (a page that only links to them gives none)."""
        try:
            return parse_embedded(
                document.body,
                source=self.source_name,
                fetched_at=document.fetched_at,
                base_url=document.url,
                window=self.window(document.fetched_at),
                clean_name=self.clean_name,
                origin=document.url,
            )
        except NoEmbeddedData:
            if self.empty_page_is_error or not (self.options.get("follow") or self.options.get("sitemap")):
                raise
            return ReadResult(warnings=[f"{document.url}: no structured data"])

    def parse(self, document: Document) -> Iterator[Listing]:
        """The listings of one page (see :meth:`read_document`)."""
        return iter(self.read_document(document).listings)
