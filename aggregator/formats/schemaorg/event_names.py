"""Event names cleaned of what sites append to them: the event's own date, time and venue name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from aggregator.types import BERLIN

NameCleaner = Callable[[str, datetime | None, str | None], str]
"""A hook ``(name, start, location name) -> title`` applied to every event name."""

_TRAILING_SEPARATORS = " \t-–—|,:;@/·•"


def clean_event_name(name: str, start: datetime | None, location: str | None) -> str:
    """Strip a trailing date (the event's own, dd.mm.yyyy and similar) and venue name from a title.

    Some sites append both to the JSON-LD ``name`` ("5. Philharmonisches Konzert: Faszination
    Stadion 16.01.2024 Konzerthaus Dortmund"); only text equal to the event's own date, time or
    location name is removed, so a title that merely ends in a date stays as it is.
    """
    suffixes: list[str] = []
    if location:
        suffixes.append(location.strip())
    if start is not None:
        local = start.astimezone(BERLIN)
        day, month, year = local.day, local.month, local.year
        suffixes += [
            f"{day:02d}.{month:02d}.{year}",
            f"{day}.{month}.{year}",
            f"{day:02d}.{month:02d}.{year % 100:02d}",
            local.date().isoformat(),
        ]
        if local.time() != time():
            clock = f"{local.hour:02d}:{local.minute:02d}"
            suffixes += [f"{clock} Uhr", clock, f"{local.hour:02d}.{local.minute:02d} Uhr"]
    text = name.strip()
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            cut = _without_suffix(text, suffix)
            if cut != text:
                text, changed = cut, True
    return text or name.strip()


def _without_suffix(text: str, suffix: str) -> str:
    """``text`` without a trailing ``suffix`` that stands apart (after a space or separator)."""
    if not suffix or not text.lower().endswith(suffix.lower()):
        return text
    head = text[: len(text) - len(suffix)]
    if head and head[-1] not in _TRAILING_SEPARATORS:
        return text
    return head.rstrip(_TRAILING_SEPARATORS)
