"""The one URL rule of every format: a link a listing carries is an absolute http(s) URL, or none."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL = 2000
"""Longer links are not links a venue publishes (and would not fit a feed line)."""

WEB_SCHEMES = ("http", "https")


def web_url(value: str | None) -> str | None:
    """``value`` stripped when it is an absolute http(s) URL with a host, else ``None``.

    ``javascript:``, ``data:``, ``file:``, scheme-relative (``//host``) and relative links, links
    with control characters or line breaks inside, and links over :data:`MAX_URL` characters are no URL.
    """
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > MAX_URL or not text.isprintable():
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    return text if parts.scheme in WEB_SCHEMES and host else None
