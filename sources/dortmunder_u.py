"""Dortmunder U / Museum Ostwall: a WordPress site, read through "The Events Calendar" (Tribe) REST API.

Why Tribe: event pages live at ``/event/<slug>/`` — the plugin's default single-event path — on a
WordPress site (``/page/N``, ``/category/…``). Against it: the programme page filters with its own
parameters (``/programm/?ins=…``, ``/archiv/?aud=…``), which may mean a theme's own post type. Not
verified against the live site; the first ``stadtkalender record dortmunder_u`` settles it (without
the plugin ``/wp-json/tribe/…`` answers 404 and the run fails loudly instead of returning nothing).

The first page asks for the API's default window (upcoming events) instead of an explicit
``start_date``, so the URL is the same every day and a recorded snapshot keeps matching.
"""

from __future__ import annotations

from sources.platforms.tribe import TribeEventsSource


class DortmunderUSource(TribeEventsSource):
    """Events of the Dortmunder U and its institutions (Museum Ostwall, Kino im U, …)."""

    name = "dortmunder_u"
    venue = "Dortmunder U"
    start_urls = ("https://dortmunder-u.de",)
    schedule = "interval:12h"
    places = ("Dortmunder U", "Kino im U", "Leonie-Reygers-Terrasse")

    def first_page_url(self) -> str:
        """``/wp-json/tribe/events/v1/events?per_page=N``: upcoming events, a URL stable across days."""
        return f"{self.api_url()}?per_page={self.options.get('per_page', self.per_page)}"
