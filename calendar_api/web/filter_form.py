"""The filter form of the pages, turned into the JSON API's filters so both mean the same.

The form adds one thing the API does not have, a named date range (``when``: today, this weekend,
the next 7 days, or picked dates); it becomes the API's ``from``/``to``. Everything else goes through
:func:`calendar_api.filters.parse_filters` unchanged, so a bad value is refused with the same message.
Parameters the pages do not know (tracking tags, ``lang``) are ignored rather than refused: a page
URL is something people share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from aggregator.types import BERLIN
from calendar_api.filters import FILTER_NAMES, PAGE_NAMES, EventFilter, Window, berlin_midnight, parse_filters
from calendar_api.problems import invalid_parameter

WHEN_CHOICES = ("today", "weekend", "week", "dates")
LIST_FIELDS = (
    "when",
    "from",
    "to",
    "venue",
    "category",
    "district",
    "q",
    "free",
    "available",
    "highlight",
    "sort",
    "cursor",
)
EMBED_FIELDS = ("venue", "category", "district", "q", "free", "available", "highlight", "sort", "limit")
PAGE_LIMIT = 40
EMBED_LIMIT = 5
EMBED_MAX = 50
_FEED_DROPS = ("from", "to", "limit", "cursor", "sort")


@dataclass(frozen=True, slots=True)
class ListRequest:
    """One list view: the form as filled in, the API filters and window, and the matching feed query."""

    given: tuple[tuple[str, str], ...]
    form: dict[str, str]
    when: str
    filters: EventFilter
    window: Window
    query: str
    feed_query: str

    @property
    def active(self) -> bool:
        """Whether anything narrows the list (a date range or any filter)."""
        return any(name not in ("cursor", "limit") for name in self.form)

    def url(self, path: str, **changes: str | None) -> str:
        """``path`` with this request's parameters, some replaced (None removes one)."""
        kept = [(k, v) for k, v in self.given if k not in changes]
        query = urlencode(kept + [(k, v) for k, v in changes.items() if v is not None])
        return f"{path}?{query}" if query else path


def list_request(
    params: Sequence[tuple[str, str]],
    now: datetime,
    *,
    fields: Sequence[str] = LIST_FIELDS,
    limit: int = PAGE_LIMIT,
) -> ListRequest:
    """Read the page's query ``params`` at time ``now``; raises a 400 Problem for a bad value."""
    given = [(name, value.strip()) for name, value in params if name in fields and value.strip()]
    form: dict[str, str] = {}
    for name, value in given:
        form.setdefault(name, value)
    when = form.get("when", "")
    if when and when not in WHEN_CHOICES:
        raise invalid_parameter("when", f"when={when!r}: use one of {', '.join(WHEN_CHOICES)}.")
    if not when and ("from" in form or "to" in form):
        when = "dates"
    today = now.astimezone(BERLIN).date()
    window_pairs = _window_pairs(when, form, today)
    pairs = [(n, v) for n, v in given if n not in ("when", "from", "to", "limit")] + window_pairs
    if "limit" in form:
        limit = min(parse_filters([("limit", form["limit"])], ["limit"]).limit, EMBED_MAX)
    filters = parse_filters([*pairs, ("limit", str(limit))], FILTER_NAMES + PAGE_NAMES)
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    start = max(filters.start, minute) if filters.start is not None else minute
    window = Window(start, filters.end, minute if start == minute else None, berlin_midnight(today))
    feed_pairs = [(n, v) for n, v in pairs if n not in _FEED_DROPS]
    if when == "dates":
        feed_pairs += window_pairs
    feed_query = parse_filters(feed_pairs, FILTER_NAMES).query_string()
    return ListRequest(tuple(given), form, when, filters, window, filters.query_string(), feed_query)


def _window_pairs(when: str, form: dict[str, str], today: date) -> list[tuple[str, str]]:
    """``from``/``to`` (dates, Berlin days) for a named range; ``to`` includes its whole day."""
    if when == "today":
        return [("to", today.isoformat())]
    if when == "week":
        return [("to", (today + timedelta(days=6)).isoformat())]
    if when == "weekend":
        saturday, sunday = weekend(today)
        pairs = [("to", sunday.isoformat())]
        return [("from", saturday.isoformat()), *pairs] if saturday > today else pairs
    if when == "dates":
        return [(name, form[name]) for name in ("from", "to") if name in form]
    return []


def weekend(today: date) -> tuple[date, date]:
    """The Saturday and Sunday of this weekend: the coming one on weekdays, the current one at weekends."""
    saturday = today + timedelta(days=5 - today.weekday())
    return saturday, saturday + timedelta(days=1)
