"""Deutsches Fußballmuseum: the events page, read as schema.org Events in JSON-LD.

LAYOUT UNKNOWN: no markup of fussballmuseum.de was found (only an old 2016 news page). The
adapter assumes the events page carries its programme as JSON-LD (an ``ItemList`` of Events, as
reconstructed in tests/fixtures/fussballmuseum) and is the JSON-LD platform source with this
page as its URL; re-record before production. A page without JSON-LD events raises
:class:`~sources.base.LayoutChanged` instead of giving an empty programme.
"""

from __future__ import annotations

from collections.abc import Iterator

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.platforms.jsonld import JsonLdSource, NotAnEventDocument


class FussballmuseumSource(JsonLdSource):
    """Events of the Deutsches Fußballmuseum (Platz der Deutschen Einheit 1)."""

    name = "fussballmuseum"
    venue = "Deutsches Fußballmuseum"
    start_urls = ("https://www.fussballmuseum.de/veranstaltungen/",)
    schedule = "cron:45 5 * * *"

    def parse(self, document: Document) -> Iterator[Listing]:
        """The page's JSON-LD events; LayoutChanged when it has none."""
        try:
            listings = list(super().parse(document))
        except NotAnEventDocument as exc:
            raise LayoutChanged(self.name, f"no JSON-LD ({exc.reason})", document.url) from exc
        if self.last_result is not None and not self.last_result.events:
            raise LayoutChanged(self.name, "JSON-LD without any Event", document.url)
        return iter(listings)
