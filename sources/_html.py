"""BeautifulSoup helpers shared by the HTML adapters: parse, clean text, absolute links, required nodes."""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup, Tag

from sources.base import Document, LayoutChanged

_SPACE = re.compile(r"\s+")


def parse_html(document: Document) -> BeautifulSoup:
    """The document's HTML as a BeautifulSoup tree (lxml parser)."""
    return BeautifulSoup(document.text, "lxml")


def clean(text: str | None) -> str | None:
    """``text`` with runs of whitespace (including no-break spaces) collapsed; None when empty."""
    if text is None:
        return None
    cleaned = _SPACE.sub(" ", text).strip()
    return cleaned or None


def text_of(node: Tag | None) -> str | None:
    """The visible text of ``node`` with whitespace collapsed; None when the node is missing or empty."""
    if node is None:
        return None
    return clean(node.get_text(" "))


def select_text(root: Tag, selector: str) -> str | None:
    """The cleaned text of the first node under ``root`` matching ``selector``, else None."""
    return text_of(root.select_one(selector))


def attr(node: Tag | None, name: str) -> str | None:
    """One attribute of ``node`` as a string (multi-valued attributes joined by spaces), else None."""
    if node is None:
        return None
    value = node.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else " ".join(value)


def absolute(document: Document, href: str | None) -> str | None:
    """``href`` resolved against the document's URL; None for missing, ``#`` and ``javascript:`` links."""
    if not href or href.startswith("#") or href.lower().startswith("javascript:"):
        return None
    return urljoin(document.url, href.strip())


def require_one(root: Tag, selector: str, *, source: str, document: Document) -> Tag:
    """The first node matching ``selector``; raises :class:`LayoutChanged` naming the selector when absent."""
    node = root.select_one(selector)
    if node is None:
        raise LayoutChanged(source, f"no element matches {selector!r}", document.url)
    return node


def require_text(root: Tag, selector: str, *, source: str, document: Document) -> str:
    """The cleaned text of the first node matching ``selector`` ('' if empty); LayoutChanged when absent."""
    return text_of(require_one(root, selector, source=source, document=document)) or ""


def page_links(document: Document) -> list[str]:
    """Every ``http(s)`` link of an HTML page, absolute, without fragment, once each, in page order."""
    links: dict[str, None] = {}
    for anchor in parse_html(document).select("a[href]"):
        url = absolute(document, attr(anchor, "href"))
        if url and url.startswith(("http://", "https://")):
            links.setdefault(urldefrag(url).url, None)
    return list(links)
