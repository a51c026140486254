"""Zoo Dortmund and Westfalenpark: their views of the dortmund.de city calendar.

Both are run by the city and publish under dortmund.de (the old site had a Zoo calendar,
``zoo_dortmund/zoo_vk/event.jsp?eid=…``); their events are entries of the city calendar,
filtered by institution, in the same markup — so this is the
:class:`~sources.dortmund_de.DortmundDeSource` adapter with two start URLs, one per park. The
filter parameter (``?einrichtung=…``) is an assumption; see tests/fixtures/README.md.
"""

from __future__ import annotations

from sources.dortmund_de import DortmundDeSource


class ZooWestfalenparkSource(DortmundDeSource):
    """Events in the Zoo (Mergelteichstraße 80) and the Westfalenpark (An der Buschmühle 3)."""

    name = "zoo_westfalenpark"
    start_urls = (
        "https://www.dortmund.de/veranstaltungskalender/?einrichtung=zoo",
        "https://www.dortmund.de/veranstaltungskalender/?einrichtung=westfalenpark",
    )
    schedule = "cron:30 5 * * *"
    places = ("Zoo Dortmund", "Mergelteichstraße 80", "Westfalenpark", "An der Buschmühle 3")
