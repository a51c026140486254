"""The demo's notice: the snapshots' dates were moved forward, said on every page and in every feed."""

from __future__ import annotations

from datetime import date
from typing import Literal

from aggregator.config import DemoSettings

_TEXTS = {
    "de": ("Demo: Termine aus Momentaufnahmen vom {day}, um {weeks} {unit} verschoben.", ("Woche", "Wochen")),
    "en": ("Demo: events from snapshots of {day}, moved {weeks} {unit} forward.", ("week", "weeks")),
}


def demo_notice(demo: DemoSettings, lang: Literal["de", "en"]) -> str | None:
    """The notice in ``lang``, or ``None`` when no shift is active.

    Raises ``ValueError`` naming the setting when ``demo.snapshots_current_on`` is not an ISO day.
    """
    if not demo.shift_weeks:
        return None
    try:
        day = date.fromisoformat(demo.snapshots_current_on)
    except ValueError as exc:
        raise ValueError(
            f"setting demo.snapshots_current_on: not a day like 2026-11-21: {demo.snapshots_current_on!r}"
        ) from exc
    from calendar_api.web.i18n import month_name  # the web package itself imports this module

    text, (one, many) = _TEXTS[lang]
    shown = f"{day:%d.%m.%Y}" if lang == "de" else f"{day.day} {month_name(day.month, 'en')} {day.year}"
    return text.format(day=shown, weeks=demo.shift_weeks, unit=one if demo.shift_weeks == 1 else many)
