"""The adapter contract: what a source declares, how it is fetched and parsed, and the registry.

A source adapter subclasses :class:`Source`, declares ``name``, ``venue``/``venues``, ``start_urls``
and ``schedule``, and implements :meth:`Source.parse`. Fetching is done by a :class:`Fetcher`
passed in, so tests feed recorded documents. Subclasses with a ``name`` register themselves;
a second class with the same name is an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from aggregator.listing import Listing


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
    """Anything that turns a URL into a :class:`Document` (live HTTP, a snapshot folder, a test)."""

    def get(self, url: str) -> Document:
        """The document at ``url``, with the time it was fetched."""
        ...

    def now(self) -> datetime:
        """What today is for this fetcher's documents (the wall clock live, the recording day offline)."""
        ...


class SourceError(Exception):
    """A source could not be read or parsed as a whole; the run fails with this message."""

    def __init__(self, source: str, message: str, url: str | None = None) -> None:
        self.source = source
        self.message = message
        self.url = url
        where = f" ({url})" if url else ""
        super().__init__(f"{source}: {message}{where}")


class LayoutChanged(SourceError):
    """The page no longer looks like the markup the adapter knows: fail loudly, never 'zero events'."""


_REGISTRY: dict[str, type[Source]] = {}


class Source:
    """Base class of every source adapter.

    Subclasses must supply ``name`` and :meth:`parse`; multi-page sites override :meth:`fetch`.
    """

    name: ClassVar[str] = ""
    venue: ClassVar[str | None] = None
    venues: ClassVar[tuple[str, ...]] = ()
    timezone: ClassVar[str] = "Europe/Berlin"
    start_urls: ClassVar[tuple[str, ...]] = ()
    schedule: ClassVar[str] = "interval:6h"
    kind: ClassVar[str] = "venue"  # for field priority: venue, city, platform, ticketing, push, import
    abstract: ClassVar[bool] = False

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

    def listings(self) -> Iterator[Listing]:
        """Fetch and parse one whole run."""
        for document in self.fetch():
            yield from self.parse(document)


def registry() -> Mapping[str, type[Source]]:
    """Every registered source class by name (importing :mod:`sources.catalog` fills it)."""
    return dict(_REGISTRY)
