"""Calendar publishers: the public iCalendar feed behind a page, embed or subscribe link of a hosted calendar.

Each rule follows the publisher's documented public address:

- ``webcal://`` links are the same address over ``https://`` (iCloud's published calendars,
  ``webcal://pNN-caldav.icloud.com/published/2/<token>``, are such links);
- Google Calendar embeds (``calendar.google.com/calendar/embed?src=<id>``, several ``src`` allowed) and
  subscribe links (``…/calendar/render?cid=<id>``, ``…/u/0?cid=<base64 id>``) → the public feed
  ``https://calendar.google.com/calendar/ical/<id>/public/basic.ics``;
- Outlook published calendars (``outlook.office365.com/owa/calendar/<id>/<key>/calendar.html``, also on
  ``outlook.live.com`` and ``outlook.office.com``) → the same path ending ``calendar.ics``;
- Teamup calendars (``teamup.com/<key>``, keys start ``ks``) → ``https://ics.teamup.com/feed/<key>/0.ics``
  (0: every sub-calendar);
- Meetup groups (``www.meetup.com/<group>/…``) → ``https://www.meetup.com/<group>/events/ical/``.

The ``ical`` platform source accepts any of these addresses as its ``url`` (:func:`feed_url`).
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

GOOGLE_FEED = "https://calendar.google.com/calendar/ical/{id}/public/basic.ics"
TEAMUP_FEED = "https://ics.teamup.com/feed/{key}/0.ics"
MEETUP_FEED = "https://www.meetup.com/{group}/events/ical/"

_TEAMUP_KEY = re.compile(r"^/(ks[a-z0-9]{6,})(?:/|$)", re.IGNORECASE)
_MEETUP_RESERVED = frozenset(
    {
        "",
        "find",
        "topics",
        "cities",
        "apps",
        "login",
        "register",
        "lp",
        "pro",
        "help",
        "about",
        "blog",
        "de-DE",
    }
)
_GOOGLE_HOSTS = frozenset({"calendar.google.com", "www.google.com"})
_OUTLOOK_HOSTS = frozenset({"outlook.office365.com", "outlook.live.com", "outlook.office.com"})


def published_feeds(url: str) -> list[tuple[str, str]]:
    """``(publisher, feed URL)`` for every public iCalendar feed ``url`` stands for (none: ``[]``).

    Publishers: ``google``, ``outlook``, ``icloud``, ``teamup``, ``meetup``, ``webcal``.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() == "webcal":
        https = urlunsplit(("https", parts.netloc, parts.path, parts.query, ""))
        return [("icloud" if host.endswith("icloud.com") else "webcal", https)]
    if parts.scheme.lower() not in ("http", "https"):
        return []
    if host in _GOOGLE_HOSTS and parts.path.startswith("/calendar"):
        return [("google", feed) for feed in _google(parts.path, parts.query)]
    if host in _OUTLOOK_HOSTS and parts.path.startswith("/owa/calendar/") and parts.path.endswith(".html"):
        path = parts.path[: parts.path.rfind("/") + 1] + "calendar.ics"
        return [("outlook", urlunsplit(("https", parts.netloc, path, "", "")))]
    if host in ("teamup.com", "www.teamup.com"):
        key = _TEAMUP_KEY.match(parts.path)
        return [("teamup", TEAMUP_FEED.format(key=key[1]))] if key else []
    if host in ("meetup.com", "www.meetup.com"):
        group = parts.path.strip("/").split("/")[0]
        if group and group not in _MEETUP_RESERVED:
            return [("meetup", MEETUP_FEED.format(group=group))]
    return []


def feed_url(url: str) -> str:
    """The iCalendar feed to fetch for a configured ``url``: a publisher's feed, else ``url`` itself."""
    feeds = published_feeds(url)
    return feeds[0][1] if len(feeds) == 1 else url


def _google(path: str, query: str) -> list[str]:
    """The public feeds of a Google Calendar embed, subscribe link or feed address."""
    if path.startswith("/calendar/ical/") and path.endswith(".ics"):
        return [urlunsplit(("https", "calendar.google.com", path, "", ""))]
    values = parse_qs(query)
    ids = [unquote(value) for value in values.get("src", [])]
    for cid in values.get("cid", []):
        ids.append(_google_cid(cid))
    return [GOOGLE_FEED.format(id=quote(calendar, safe="")) for calendar in ids if "@" in calendar]


def _google_cid(cid: str) -> str:
    """A ``cid`` parameter: a calendar id as it is, or base64 of one (the "u/0?cid=" links)."""
    if "@" in cid:
        return cid
    try:
        decoded = base64.urlsafe_b64decode(cid + "=" * (-len(cid) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return cid
    return decoded
