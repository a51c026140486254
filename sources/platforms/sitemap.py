"""Sitemaps (sitemaps.org 0.9): the page URLs a site lists, for sources that read one page per event.

A ``urlset`` lists pages (``url/loc``); a ``sitemapindex`` lists further sitemaps (``sitemap/loc``),
followed one level deep. Gzipped sitemaps (``.xml.gz``) are inflated up to :data:`MAX_INFLATED_BYTES`.
XML is parsed without entities, DTDs or network access.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

from sources.base import Document, Fetcher, SourceError
from sources.platforms.eventim_xml import parse_xml

MAX_SITEMAPS = 20
"""Child sitemaps of one index read at most."""

MAX_URLS = 50_000
"""Page URLs one sitemap may list (the protocol's own limit)."""

MAX_INFLATED_BYTES = 50_000_000
"""A gzipped sitemap may inflate to at most this many bytes (the protocol's limit is 50 MB)."""


def read_sitemap(document: Document, source: str) -> tuple[list[str], list[str]]:
    """``(pages, sitemaps)`` listed by one sitemap document; SourceError if it is not a sitemap."""
    root = parse_xml(replace(document, body=_inflated(document, source)), source)
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag not in ("urlset", "sitemapindex"):
        raise SourceError(source, f"not a sitemap (root element {tag!r})", document.url)
    entry = "url" if tag == "urlset" else "sitemap"
    locations = [
        text.strip()
        for element in root.iter(entry)
        for loc in element.iter("loc")
        if (text := loc.text) and text.strip().startswith(("http://", "https://"))
    ]
    if len(locations) > MAX_URLS:
        raise SourceError(source, f"sitemap lists {len(locations)} URLs, over {MAX_URLS}", document.url)
    return (locations, []) if tag == "urlset" else ([], locations)


def sitemap_pages(fetcher: Fetcher, url: str, source: str) -> list[str]:
    """Every page URL of the sitemap at ``url``, its index children's (at most :data:`MAX_SITEMAPS`) too."""
    pages, children = read_sitemap(fetcher.get(url), source)
    if len(children) > MAX_SITEMAPS:
        raise SourceError(source, f"sitemap index lists {len(children)} sitemaps, over {MAX_SITEMAPS}", url)
    for child in children:
        more, _nested = read_sitemap(fetcher.get(child), source)
        pages += more
    return list(dict.fromkeys(pages))


def _inflated(document: Document, source: str) -> bytes:
    """The body, inflated when it is gzip data; SourceError when it would inflate past the limit."""
    if not document.body.startswith(b"\x1f\x8b"):
        return document.body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(document.body, MAX_INFLATED_BYTES)
    except zlib.error as error:
        raise SourceError(source, f"broken gzip data ({error})", document.url) from None
    if inflater.unconsumed_tail:
        raise SourceError(source, f"inflates to more than {MAX_INFLATED_BYTES} bytes", document.url)
    return data
