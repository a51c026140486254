"""Museum für Kunst und Kulturgeschichte (MKK): its view of the dortmund.de city calendar.

The MKK has no site of its own (it is ``dortmund.de/mkk``); its exhibitions and tours are entries
of the city calendar, filtered by institution, in the same markup — so this is the
:class:`~sources.dortmund_de.DortmundDeSource` adapter with another start URL. The filter
parameter (``?einrichtung=mkk``) is an assumption; see tests/fixtures/README.md.
"""

from __future__ import annotations

from sources.dortmund_de import DortmundDeSource


class MkkSource(DortmundDeSource):
    """Exhibitions and tours of the MKK (Hansastraße 3)."""

    name = "mkk"
    venue = "Museum für Kunst und Kulturgeschichte"
    start_urls = ("https://www.dortmund.de/veranstaltungskalender/?einrichtung=mkk",)
    schedule = "cron:20 5 * * *"
    places = ("Museum für Kunst und Kulturgeschichte", "MKK", "Hansastraße 3")
