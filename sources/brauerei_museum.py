"""Brauerei-Museum Dortmund: its view of the dortmund.de city calendar.

The museum has no site of its own (it is ``dortmund.de/brauereimuseum``); its tours are entries
of the city calendar, filtered by institution, in the same markup — so this is the
:class:`~sources.dortmund_de.DortmundDeSource` adapter with another start URL. The filter
parameter (``?einrichtung=brauereimuseum``) is an assumption; see tests/fixtures/README.md.
"""

from __future__ import annotations

from sources.dortmund_de import DortmundDeSource


class BrauereiMuseumSource(DortmundDeSource):
    """Tours and special days of the Brauerei-Museum (Steigerstraße 16)."""

    name = "brauerei_museum"
    venue = "Brauerei-Museum Dortmund"
    start_urls = ("https://www.dortmund.de/veranstaltungskalender/?einrichtung=brauereimuseum",)
    schedule = "cron:25 5 * * *"
    places = ("Brauerei-Museum", "Steigerstraße 16")
