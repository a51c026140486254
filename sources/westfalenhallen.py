"""Westfalenhallen Dortmund: concerts, shows and fairs (Messen) in the halls at Rheinlanddamm 200.

LAYOUT UNKNOWN: no capture, selector or feed of https://www.westfalenhallen.de/veranstaltungen/
was found. This adapter reads a typical TYPO3 event list (``.event-list > .event-item`` with a
``data-uid``) as reconstructed in tests/fixtures/westfalenhallen; it must be checked against
``stadtkalender record westfalenhallen`` before production — a different page raises
:class:`~sources.base.LayoutChanged` rather than yielding nothing.

The date line carries date and hours together ("Sa 05.12.2026 – So 06.12.2026, 10:00 – 18:00 Uhr",
multi-day fairs with daily hours); it is split at the first comma into ``date_text`` and
``time_text``. The hall ("Halle 3A") is the room. A badge (``ausverkauft``, ``abgesagt``) goes to
``status_text`` and to the offer's ``availability_text``; normalisation reads which it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bs4 import Tag

from aggregator.listing import Listing, OfferListing
from sources._html import absolute, attr, parse_html, require_one, require_text, select_text
from sources.base import Document, LayoutChanged, Source

_SLUG = re.compile(r"/veranstaltungen/detail/(?P<slug>[^/]+)/")


class WestfalenhallenSource(Source):
    """The event calendar of the Westfalenhallen (all halls)."""

    name = "westfalenhallen"
    venue = "Westfalenhallen Dortmund"
    start_urls = ("https://www.westfalenhallen.de/veranstaltungen/",)
    schedule = "interval:12h"

    def parse(self, document: Document) -> Iterator[Listing]:
        """One listing per ``.event-item`` of the calendar page."""
        page = parse_html(document)
        events = require_one(page, ".event-list", source=self.name, document=document)
        for item in events.select(".event-item"):
            yield self._parse_item(item, document)

    def _parse_item(self, item: Tag, document: Document) -> Listing:
        """One ``.event-item`` of the list."""
        link = require_one(item, ".event-item__title a[href]", source=self.name, document=document)
        url = absolute(document, attr(link, "href"))
        slug = _SLUG.search(url or "")
        date_text, time_text = self._parse_when(item, document)
        status = select_text(item, ".event-item__status")
        return Listing(
            source=self.source_name,
            record_id=self._parse_record_id(item, document),
            series_key=slug["slug"] if slug else None,
            title=require_text(item, ".event-item__title", source=self.name, document=document),
            fetched_at=document.fetched_at,
            url=url,
            date_text=date_text,
            time_text=time_text,
            subtitle=select_text(item, ".event-item__subtitle"),
            categories=self._parse_categories(item),
            image=absolute(document, attr(item.select_one("img"), "src")),
            venue_name=self.venue,
            room=select_text(item, ".event-item__location"),
            offers=self._parse_offers(item, document, status),
            status_text=status,
            raw={"admission": select_text(item, ".event-item__admission")},
        )

    def _parse_record_id(self, item: Tag, document: Document) -> str:
        """``uid-<n>`` from the item's TYPO3 record uid (``data-uid``)."""
        uid = attr(item, "data-uid")
        if not uid:
            raise LayoutChanged(self.name, ".event-item without data-uid", document.url)
        return f"uid-{uid}"

    def _parse_when(self, item: Tag, document: Document) -> tuple[str, str | None]:
        """The date line split at its first comma: ``(date or range, hours or None)``."""
        line = require_text(item, ".event-item__date", source=self.name, document=document)
        date_text, _, time_text = line.partition(", ")
        return date_text, time_text or None

    def _parse_categories(self, item: Tag) -> list[str]:
        """The category label (Konzert, Show, Messe, …)."""
        category = select_text(item, ".event-item__category")
        return [category] if category else []

    def _parse_offers(self, item: Tag, document: Document, status: str | None) -> list[OfferListing]:
        """The ticket link (mostly Eventim) with the badge as availability words."""
        url = absolute(document, attr(item.select_one("a.event-item__tickets"), "href"))
        if url is None and status is None:
            return []
        return [
            OfferListing(
                url=url, vendor="Eventim" if url and "eventim." in url else None, availability_text=status
            )
        ]
