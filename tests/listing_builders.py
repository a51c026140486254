"""Listings made up for tests that need many plain ones: numbered concerts at the Konzerthaus."""

from __future__ import annotations

from datetime import datetime, timedelta

from fixed_clock import NOW

from aggregator.listing import Listing


def numbered_concert(source: str, number: int, first: datetime) -> Listing:
    """ "Konzert Nummer <number>" from ``source``, ``number`` days after ``first``, fetched at NOW."""
    return Listing(
        source=source,
        record_id=f"r{number}",
        title=f"Konzert Nummer {number}",
        fetched_at=NOW,
        start=first + timedelta(days=number),
        venue_name="Konzerthaus Dortmund",
    )
