"""A venue's web server on loopback for the feed tests: fixed pages by path, anything else 404."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from page_host import Page, serving


def ics(*events: tuple[str, str, str, str | None]) -> bytes:
    """A calendar of (uid, Berlin start ``YYYYMMDDTHHMMSS``, title, location or None) events."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Konzerthaus//DE"]
    for uid, start, title, location in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART;TZID=Europe/Berlin:{start}", f"SUMMARY:{title}"]
        lines += [f"LOCATION:{location}"] if location else []
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@contextmanager
def venue_site(pages: Mapping[str, bytes]) -> Iterator[str]:
    """Serve ``pages`` (path → body; ``.ics`` as text/calendar, the rest as HTML) at the yielded base URL."""

    def page(path: str, body: bytes) -> Page:
        kind = "text/calendar" if path.endswith(".ics") else "text/html"
        return 200, {"Content-Type": f"{kind}; charset=utf-8"}, body

    with serving({path: page(path, body) for path, body in pages.items()}) as url:
        yield url
