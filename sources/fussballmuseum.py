"""Deutsches Fußballmuseum: the events page, read as schema.org Events in JSON-LD.

LAYOUT UNKNOWN: no markup of fussballmuseum.de was found (only an old 2016 news page). The
adapter assumes the events page carries its programme as JSON-LD (an ``ItemList`` of Events, as
reconstructed in tests/fixtures/fussballmuseum) and is the JSON-LD platform source with this
page as its URL; re-record before production. A page without JSON-LD events raises
:class:`~sources.base.LayoutChanged` instead of giving an empty programme (``empty_page_is_error``).
"""

from __future__ import annotations

from sources.platforms.jsonld import JsonLdSource


class FussballmuseumSource(JsonLdSource):
    """Events of the Deutsches Fußballmuseum (Platz der Deutschen Einheit 1)."""

    name = "fussballmuseum"
    venue = "Deutsches Fußballmuseum"
    start_urls = ("https://www.fussballmuseum.de/veranstaltungen/",)
    schedule = "cron:45 5 * * *"
    empty_page_is_error = True
