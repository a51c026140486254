"""RSS and Atom feeds whose items carry event dates (not news feeds).

An item is an event when it names its start in one of the documented event vocabularies:

- the RSS event module (``xmlns:ev="http://purl.org/rss/1.0/modules/event/"``): ``ev:startdate``,
  ``ev:enddate`` (W3C date-times), ``ev:location``, ``ev:organizer``, ``ev:type``;
- xCal in a feed (``xmlns:xCal="urn:ietf:params:xml:ns:xcal"``): ``xCal:dtstart``, ``xCal:dtend``
  (iCalendar basic form ``20261206T193000`` or ISO), ``xCal:location``.

``pubDate``/``updated`` is when the item was posted, never the event's date: an item without an event
date is rejected, and a feed without any is a news feed (the probe says so). Items give ``title``,
``link``, ``guid``/``id`` (the record id), ``description``/``summary``/``content`` and ``category``; a
location is read as "name, address".
XML is parsed without entities, DTDs or network access.

A feed is added in ``settings.toml`` without code::

    [sources.some_club]
    type = "rss"
    url = "https://club.example/events/feed/"
    venue = "Some Club"
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from lxml.etree import _Element as Element

from aggregator.formats.html_text import html_to_text
from aggregator.formats.schemaorg.event_reader import lenient_moment
from aggregator.listing import Listing, Rejection
from aggregator.types import BERLIN
from aggregator.window import OutsideCount
from sources.base import Document, LayoutChanged, Source, SourceResult
from sources.platforms._document import source_window
from sources.platforms.eventim_xml import parse_xml

_BASIC = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(Z)?)?$")
_START_TAGS = ("startdate", "dtstart")
_END_TAGS = ("enddate", "dtend")


def feed_items(root: Element) -> list[Element]:
    """The items of an RSS (``channel/item``, RSS 1.0 ``item``) or Atom (``entry``) feed."""
    return [element for element in root.iter() if element.tag in ("item", "entry")]


def is_feed(root: Element) -> bool:
    """Whether an XML root is an RSS or Atom feed."""
    return root.tag in ("rss", "feed", "RDF")


def event_moment(text: str) -> tuple[datetime, bool]:
    """An event date: W3C/ISO date-time, or iCalendar basic form (floating times are Berlin time)."""
    basic = _BASIC.match(text.strip())
    if basic is None:
        return lenient_moment(text)
    year, month, day, hour, minute, second, zulu = basic.groups()
    if hour is None:
        return lenient_moment(f"{year}-{month}-{day}")
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    if zulu:
        return lenient_moment(moment.isoformat() + "Z")
    return moment.replace(tzinfo=BERLIN), False


class RssEventsSource(Source):
    """A feed of events (RSS event module or xCal); configure ``url`` and ``venue``."""

    abstract = True
    platform: ClassVar[str] = "rss"

    def run(self) -> SourceResult:
        """Every feed's dated items that overlap the window; undated items are rejected."""
        result = SourceResult()
        outside = OutsideCount()
        window = None
        for document in self.fetch():
            window = source_window(self, document.fetched_at)
            for item in self._items(document):
                listing = self._parse_item(item, document, result.rejections)
                if listing is None or listing.start is None:
                    continue
                if outside.keeps(window, listing.start, listing.end):
                    result.listings.append(listing)
        message = outside.message(window) if window else None
        if message:
            result.warnings.append(message)
        return result

    def parse(self, document: Document) -> Iterator[Listing]:
        """The dated items of one feed (window not applied)."""
        for item in self._items(document):
            listing = self._parse_item(item, document, [])
            if listing is not None:
                yield listing

    def _items(self, document: Document) -> list[Element]:
        root = parse_xml(document, self.source_name)
        if not is_feed(root):
            raise LayoutChanged(
                self.source_name, f"not an RSS or Atom feed (root {root.tag!r})", document.url
            )
        return feed_items(root)

    def _parse_item(self, item: Element, document: Document, rejections: list[Rejection]) -> Listing | None:
        title = html_to_text(_child(item, "title")) or ""
        link = _child(item, "link") or _attribute(item, "link", "href")
        record_id = _child(item, "guid") or _child(item, "id") or link
        if not record_id:
            record_id = (
                "rss-" + hashlib.sha1(f"{title}|{_child(item, *_START_TAGS)}".encode()).hexdigest()[:16]
            )
        raw_start = _child(item, *_START_TAGS)
        if raw_start is None:
            rejections.append(Rejection(self.source_name, record_id, "item without an event date", "start"))
            return None
        try:
            start, all_day = event_moment(raw_start)
        except (ValueError, OverflowError):
            rejections.append(Rejection(self.source_name, record_id, f"event date {raw_start!r}", "start"))
            return None
        raw_end = _child(item, *_END_TAGS)
        end = None
        if raw_end:
            try:
                end = event_moment(raw_end)[0]
            except (ValueError, OverflowError):
                end = None
        place, _, address = (html_to_text(_child(item, "location")) or "").partition(",")
        return Listing(
            source=self.source_name,
            record_id=record_id,
            title=title,
            fetched_at=document.fetched_at,
            url=link,
            start=start,
            end=end if end and end >= start else None,
            all_day=all_day,
            description=html_to_text(_child(item, "description", "summary", "content", "encoded")),
            categories=[text for e in item if e.tag == "category" and (text := (e.text or "").strip())],
            organiser=html_to_text(_child(item, "organizer")),
            venue_name=place.strip() or self.options.get("venue") or self.venue,
            venue_address=address.strip() or None,
        )


def _child(item: Element, *tags: str) -> str | None:
    """The text of the first child with one of ``tags`` (namespaces stripped), in ``tags`` order."""
    for tag in tags:
        for element in item:
            if element.tag == tag and element.text and element.text.strip():
                return str(element.text).strip()
    return None


def _attribute(item: Element, tag: str, name: str) -> str | None:
    for element in item:
        if element.tag == tag and element.get(name):
            return str(element.get(name))
    return None
