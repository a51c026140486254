"""What sources of events a fetched page (or feed) offers: the candidates a probe then reads.

Pure: it looks at one document and fetches nothing. See :mod:`sources.probe` for the kinds.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from aggregator.formats.decoding import decode
from sources._html import attr, parse_html
from sources.base import Document
from sources.platforms.eventim_xml import parse_xml
from sources.platforms.publishers import published_feeds
from sources.platforms.rss import is_feed
from sources.platforms.squarespace import is_collection, json_url
from sources.platforms.tribe import API_PATH

CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})
_ICS_PATH = re.compile(r"\.(ics|ical|ifb|vcs)$", re.IGNORECASE)
_ICAL_QUERY = frozenset({"ical", "outlook-ical"})
_ASSET = re.compile(r"\.(jpe?g|png|gif|svg|webp|pdf|css|js|zip|mp[34]|docx?|xlsx?)$", re.IGNORECASE)
_EVENT_WORDS = re.compile(
    r"event|veranstaltung|programm|termin|kalender|konzert|spielplan|show", re.IGNORECASE
)
MIN_GROUP = 2
"""Links sharing a parent path that make a group of event pages worth sampling."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible source of events: its kind, where its events are read, and the source table reading it."""

    kind: str
    url: str
    config: dict[str, Any] = field(hash=False, compare=False)
    via: str = ""


@dataclass(slots=True)
class Discovery:
    """What one document offers: candidates to read, groups of linked pages to sample, and notes."""

    candidates: list[Candidate] = field(default_factory=list)
    page_groups: list[tuple[str, list[str]]] = field(default_factory=list)
    """``(follow pattern, links)`` of same-host link groups that may be event pages, best first."""
    notes: list[str] = field(default_factory=list)

    def add(self, candidate: Candidate) -> None:
        """Add ``candidate`` unless one of the same kind and URL is there."""
        if all((c.kind, c.url) != (candidate.kind, candidate.url) for c in self.candidates):
            self.candidates.append(candidate)


def discover(document: Document) -> Discovery:
    """The candidates ``document`` offers, by what it is: a calendar, JSON, a feed or sitemap, or a page."""
    found = Discovery()
    head = decode(document.body[:2048], guess_utf16=False, fallback="replace").lstrip("\ufeff \t\r\n")
    media = document.content_type.split(";")[0].strip().lower()
    if head[:15].upper().startswith("BEGIN:VCALENDAR") or media in CALENDAR_TYPES:
        found.add(Candidate("ical", document.url, {"type": "ical", "url": document.url}, "the URL itself"))
    elif head[:1] in ("{", "["):
        _json(document, found)
    elif head.startswith("<?xml") or (head.startswith("<") and "xml" in media):
        _xml(document, found)
    elif head.startswith("<"):
        _page(document, found)
    else:
        found.notes.append(f"{document.url} is neither a page, a calendar, JSON nor XML")
    return found


def _json(document: Document, found: Discovery) -> None:
    try:
        data = json.loads(document.body)
    except ValueError:
        found.notes.append(f"{document.url} is not valid JSON")
        return
    if isinstance(data, dict) and isinstance(data.get("events"), list) and "/wp-json/" in document.url:
        found.add(Candidate("tribe", document.url, {"type": "tribe", "url": document.url}, "the URL itself"))
    elif is_collection(data):
        page = document.url.split("?")[0]
        found.add(
            Candidate("squarespace", document.url, {"type": "squarespace", "url": page}, "the URL itself")
        )
    else:
        found.add(
            Candidate("json-ld", document.url, {"type": "embedded", "url": document.url}, "the URL itself")
        )


def _xml(document: Document, found: Discovery) -> None:
    try:
        root = parse_xml(document, "probe")
    except Exception as error:  # parse_xml raises SourceError; lxml may raise more on odd input
        found.notes.append(f"{document.url}: {error}")
        return
    if is_feed(root):
        found.add(Candidate("rss", document.url, {"type": "rss", "url": document.url}, "the URL itself"))
    elif root.tag in ("urlset", "sitemapindex"):
        found.notes.append(f"{document.url} is a sitemap: probe the page that lists the events instead")
    else:
        found.notes.append(f"{document.url} is XML of an unknown kind ({root.tag})")


def _page(document: Document, found: Discovery) -> None:
    page = parse_html(document)
    text = document.text
    for link in page.select("link[rel~=alternate][href]"):
        kind = (attr(link, "type") or "").split(";")[0].strip().lower()
        href = urljoin(document.url, attr(link, "href") or "")
        if kind in CALENDAR_TYPES:
            _calendar(href, found, "<link rel=alternate type=text/calendar>")
        elif kind in FEED_TYPES:
            found.add(
                Candidate("rss", href, {"type": "rss", "url": href}, f"<link rel=alternate type={kind}>")
            )
    for element, name in ((a, "href") for a in page.select("a[href]")):
        _calendar(urljoin(document.url, (attr(element, name) or "").strip()), found, "a link on the page")
    for frame in page.select("iframe[src]"):
        _calendar(urljoin(document.url, (attr(frame, "src") or "").strip()), found, "an embedded calendar")
    _wordpress(document, page, text, found)
    if (
        "static1.squarespace.com" in text
        or "Static.SQUARESPACE_CONTEXT" in text
        or "This is Squarespace." in text
    ):
        found.add(
            Candidate(
                "squarespace",
                json_url(document.url),
                {"type": "squarespace", "url": document.url},
                "Squarespace",
            )
        )
    generator = " ".join(attr(m, "content") or "" for m in page.select("meta[name=generator]"))
    if "wix.com" in generator.lower():
        found.notes.append(
            "a Wix site: its event pages (/event-details/…) carry JSON-LD and are probed as pages"
        )
    found.page_groups = page_groups(document, page)


def _calendar(url: str, found: Discovery, via: str) -> None:
    """A link that is an iCalendar feed or a hosted calendar's page: its feed as a candidate."""
    feeds = published_feeds(url)
    for publisher, feed in feeds:
        found.add(Candidate(publisher, feed, {"type": "ical", "url": feed}, via))
    if feeds:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return
    query = parse_qs(parts.query)
    if _ICS_PATH.search(parts.path) or _ICAL_QUERY & set(query):
        feed = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        what = "The Events Calendar's iCal export" if "ical" in query else via
        found.add(Candidate("ical", feed, {"type": "ical", "url": feed}, what))


def _wordpress(document: Document, page: BeautifulSoup, text: str, found: Discovery) -> None:
    """A WordPress site (REST API link, wp-content): The Events Calendar's REST API as a candidate."""
    api = page.select_one('link[rel="https://api.w.org/"][href]')
    root = None
    if api is not None:
        root = urljoin(document.url, attr(api, "href") or "").split("/wp-json")[0]
    elif "/wp-content/" in text or "tribe-events" in text:
        parts = urlsplit(document.url)
        root = f"{parts.scheme}://{parts.netloc}"
    if root is None:
        return
    via = "The Events Calendar" if "tribe-events" in text or "/tribe/events/" in text else "a WordPress site"
    found.add(
        Candidate("tribe", root.rstrip("/") + API_PATH, {"type": "tribe", "url": root.rstrip("/")}, via)
    )


def page_groups(document: Document, page: BeautifulSoup) -> list[tuple[str, list[str]]]:
    """Same-host links grouped by parent path (``/programm/<slug>/``), biggest and most event-like first.

    Each group comes with a ``follow`` pattern: its parent path, then one more path segment.
    """
    origin = urlsplit(document.url)
    groups: dict[str, list[str]] = defaultdict(list)
    for anchor in page.select("a[href]"):
        url = urljoin(document.url, (attr(anchor, "href") or "").strip()).split("#")[0]
        parts = urlsplit(url)
        if parts.netloc != origin.netloc or parts.query or _ASSET.search(parts.path):
            continue
        segments = [segment for segment in parts.path.split("/") if segment]
        if len(segments) < 2 or url.rstrip("/") == document.url.split("#")[0].rstrip("/"):
            continue
        parent = "/" + "/".join(segments[:-1]) + "/"
        if url not in groups[parent]:
            groups[parent].append(url)
    ranked = sorted(
        ((parent, links) for parent, links in groups.items() if len(links) >= MIN_GROUP),
        key=lambda item: (not _EVENT_WORDS.search(item[0] + " ".join(item[1])), -len(item[1])),
    )
    return [(_escape(parent) + r"[^/?#]+/?$", links) for parent, links in ranked]


def _escape(path: str) -> str:
    """``path`` as a regular expression matching itself (only the characters that need it escaped)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", path)
