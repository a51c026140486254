"""The adapter contract: what a source declares, how it is fetched and parsed, and the registry.

A source adapter subclasses :class:`Source`, declares ``name``, ``venue``, ``start_urls`` and
``schedule``, and implements :meth:`Source.parse`. Fetching is done by a :class:`Fetcher` passed in,
so tests feed recorded documents. A run is :meth:`Source.run`, which returns a :class:`SourceResult`
(listings, rejections, warnings); the instance keeps no state of a run. Subclasses with a ``name``
register themselves; a second class with the same name is an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from aggregator.formats.errors import SourceError as SourceError
from aggregator.listing import Listing, Rejection


@dataclass(slots=True)
class Document:
    """A fetched page or file: the bytes and where they came from."""

    url: str
    body: bytes
    content_type: str = ""
    status: int = 200
    fetched_at: datetime = field(kw_only=True)
    """When the document was fetched (or recorded): the "today" for year inference and windows."""

    @property
    def text(self) -> str:
        """The body decoded (charset from the content type, else UTF-8 with replacement)."""
        charset = "utf-8"
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class Fetcher(Protocol):
    """Anything that turns a URL into a :class:`Document` (live HTTP, a snapshot folder, a test).

    The runner calls :meth:`new_run` before each run of a source, then the source calls :meth:`get`
    and :meth:`now`.
    """

    def new_run(self) -> None:
        """Start a run of one source (a live client's page budget counts from zero again)."""
        ...

    def get(self, url: str) -> Document:
        """The document at ``url``, with the time it was fetched."""
        ...

    def now(self) -> datetime:
        """What today is for this fetcher's documents (the wall clock live, the recording day offline)."""
        ...


class LayoutChanged(SourceError):
    """The page no longer looks like the markup the adapter knows: fail loudly, never 'zero events'."""


@dataclass(slots=True)
class SourceResult:
    """What a run of a source (or one of its documents) gave: the listings, the records it refused
    and notes on what was odd."""

    listings: list[Listing] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, other: SourceResult) -> None:
        """Append ``other``'s listings, rejections and warnings (a document's to its run's)."""
        self.listings.extend(other.listings)
        self.rejections.extend(other.rejections)
        self.warnings.extend(other.warnings)


_REGISTRY: dict[str, type[Source]] = {}


class Source:
    """Base class of every source adapter.

    Subclasses must supply ``name`` and :meth:`parse`; multi-page sites override :meth:`fetch`,
    sources that report rejections or warnings override :meth:`read_document`.
    """

    name: ClassVar[str] = ""
    venue: ClassVar[str | None] = None
    timezone: ClassVar[str] = "Europe/Berlin"
    start_urls: ClassVar[tuple[str, ...]] = ()
    schedule: ClassVar[str] = "interval:6h"
    kind: ClassVar[str] = "venue"  # for field priority: venue, city, platform, ticketing, push, import
    places: ClassVar[tuple[str, ...]] = ()
    """Where the source's events take place (names, or a city for a city-wide source), for the
    structured-data fallback's plausibility check (``sources/fallback.py``); empty: its ``venue``."""
    abstract: ClassVar[bool] = False
    empty_page_is_error: ClassVar[bool] = False
    """True: a document without any event means the page changed (:class:`LayoutChanged`), never an
    empty programme. False: an empty page is an empty programme (the default of every platform)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False) or not cls.__dict__.get("name"):
            return
        existing = _REGISTRY.get(cls.name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(
                f"source name {cls.name!r} is taken by {existing.__module__}.{existing.__qualname__}"
            )
        _REGISTRY[cls.name] = cls

    def __init__(self, fetcher: Fetcher | None = None, options: Mapping[str, Any] | None = None) -> None:
        self.fetcher = fetcher
        self.options: dict[str, Any] = dict(options or {})

    @property
    def source_name(self) -> str:
        """The name this instance records under (configured platform sources set their own)."""
        return str(self.options.get("name") or self.name)

    def urls(self) -> tuple[str, ...]:
        """The URLs to start from (configuration may override the class's ``start_urls``)."""
        configured = self.options.get("urls") or self.options.get("url")
        if isinstance(configured, str):
            return (configured,)
        if configured:
            return tuple(configured)
        return self.start_urls

    def fetch(self) -> Iterator[Document]:
        """Fetch the documents of one run. Default: each start URL once."""
        if self.fetcher is None:
            raise SourceError(self.source_name, "no fetcher given")
        for url in self.urls():
            yield self.fetcher.get(url)

    def parse(self, document: Document) -> Iterator[Listing]:
        """Parse one document into listings. Must not fetch."""
        raise NotImplementedError(f"{type(self).__name__} must implement parse()")

    def read_document(self, document: Document) -> SourceResult:
        """One document read whole: by default the listings of :meth:`parse`.

        With ``empty_page_is_error`` a document without any listing raises :class:`LayoutChanged`.
        """
        result = SourceResult(list(self.parse(document)))
        if self.empty_page_is_error and not result.listings:
            raise LayoutChanged(self.source_name, "no events on the page", document.url)
        return result

    def run(self) -> SourceResult:
        """Fetch and read one whole run: every document's listings, rejections and warnings."""
        result = SourceResult()
        for document in self.fetch():
            result.add(self.read_document(document))
        return result


def registry() -> Mapping[str, type[Source]]:
    """Every registered source class by name (importing :mod:`sources.catalog` fills it)."""
    return dict(_REGISTRY)
