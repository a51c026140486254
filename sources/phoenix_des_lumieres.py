"""Phoenix des Lumières: immersive exhibitions in the Phoenixhalle (Culturespaces, Drupal site).

LAYOUT UNKNOWN: no markup of phoenix-lumieres.com was found, only Drupal-style image paths. This
adapter reads a Drupal view of exhibition teasers (``.view-expositions article[data-history-node-id]``)
as invented in tests/fixtures/phoenix_des_lumieres; re-record before production.

An exhibition is one listing over its whole run: ``date_text`` is the period as printed
(``27.11.2026 – 04.07.2027``) and ``time_text`` the daily hours, written ``10:00 – 18:00 Uhr``
when the page says "täglich 10–18 Uhr"; hours that differ by weekday are passed on verbatim.
Normalisation turns a long run into one all-day span and a short one into daily spans.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bs4 import Tag

from aggregator.listing import Listing, OfferListing
from sources._html import absolute, attr, parse_html, require_one, require_text, select_text
from sources.base import Document, LayoutChanged, Source

_DAILY = re.compile(r"^täglich\s+(\d{1,2})(?:[:.](\d{2}))?\s*[–-]\s*(\d{1,2})(?:[:.](\d{2}))?\s*Uhr$")
_SLUG = re.compile(r"/de/(?P<slug>[a-z0-9-]+)$")


class PhoenixDesLumieresSource(Source):
    """Exhibitions and events of the Phoenix des Lumières (Phoenixplatz 4)."""

    name = "phoenix_des_lumieres"
    venue = "Phoenix des Lumières"
    start_urls = ("https://www.phoenix-lumieres.com/de/programm",)
    schedule = "cron:40 5 * * *"

    def parse(self, document: Document) -> Iterator[Listing]:
        """One listing per exhibition or event teaser of the programme view."""
        page = parse_html(document)
        view = require_one(page, ".view-expositions", source=self.name, document=document)
        for card in view.select("article[data-history-node-id]"):
            yield self._parse_card(card, document)

    def _parse_card(self, card: Tag, document: Document) -> Listing:
        """One exhibition or event teaser."""
        url = absolute(document, attr(card.select_one(".exhibition__title a[href]"), "href"))
        slug = _SLUG.search(url or "")
        hours = select_text(card, ".exhibition__hours")
        kind = select_text(card, ".exhibition__type")
        return Listing(
            source=self.source_name,
            record_id=self._parse_record_id(card, document),
            series_key=slug["slug"] if slug else None,
            title=require_text(card, ".exhibition__title", source=self.name, document=document),
            fetched_at=document.fetched_at,
            url=url,
            date_text=require_text(card, ".exhibition__period", source=self.name, document=document),
            time_text=self._parse_time_text(hours),
            subtitle=select_text(card, ".exhibition__subtitle"),
            categories=[kind] if kind else [],
            image=absolute(document, attr(card.select_one("img"), "src")),
            venue_name=self.venue,
            venue_address="Phoenixplatz 4, 44263 Dortmund",
            offers=self._parse_offers(card, document),
            status_text=select_text(card, ".exhibition__status"),
            raw={"hours": hours},
        )

    def _parse_record_id(self, card: Tag, document: Document) -> str:
        """``node-<n>`` from the Drupal node id."""
        node = attr(card, "data-history-node-id")
        if not node:
            raise LayoutChanged(self.name, "teaser without data-history-node-id", document.url)
        return f"node-{node}"

    def _parse_time_text(self, hours: str | None) -> str | None:
        """``täglich 10–18 Uhr`` → ``10:00 – 18:00 Uhr``; other wording unchanged."""
        daily = _DAILY.match(hours or "")
        if daily is None:
            return hours
        start_h, start_m, end_h, end_m = daily.groups()
        return f"{int(start_h):02d}:{start_m or '00'} – {int(end_h):02d}:{end_m or '00'} Uhr"

    def _parse_offers(self, card: Tag, document: Document) -> list[OfferListing]:
        """The ticket shop link, when the teaser has one."""
        url = absolute(document, attr(card.select_one("a.exhibition__tickets"), "href"))
        return [OfferListing(url=url, vendor="Culturespaces")] if url else []
