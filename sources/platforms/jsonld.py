"""The JSON-LD source, configured by settings alone; it reads with aggregator.formats.schemaorg."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from aggregator.formats.errors import DocumentError
from aggregator.formats.read_result import ReadResult
from aggregator.formats.schemaorg.event_names import clean_event_name
from aggregator.formats.schemaorg.json_blocks import NotAnEventDocument
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from sources.base import Document
from sources.platforms._document import DocumentSource


class JsonLdSource(DocumentSource):
    """Pages or documents with schema.org events in JSON-LD, configured by settings alone.

    Options: ``name``, ``url``/``urls``, ``venue`` (given to every listing without a location) and
    ``past_days``/``future_days`` (the window). Subclasses may override :meth:`clean_name`.
    """

    abstract: ClassVar[bool] = True
    platform: ClassVar[str] = "jsonld"
    format_label: ClassVar[str] = "JSON-LD"
    format_error: ClassVar[type[DocumentError]] = NotAnEventDocument

    def clean_name(self, name: str, start: datetime | None, location: str | None) -> str:
        """The title for an event name; by default strips a trailing own date and venue."""
        return clean_event_name(name, start, location)

    def read(self, document: Document) -> ReadResult:
        """Parse one document (eagerly, so a broken one fails here)."""
        return parse_jsonld(
            document.body,
            source=self.source_name,
            fetched_at=document.fetched_at,
            base_url=document.url,
            window=self.window(document.fetched_at),
            clean_name=self.clean_name,
        )
