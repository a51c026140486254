"""Record ids made unique within one document: a repeated id gets the start, then ``~2``, ``~3``, …"""

from __future__ import annotations

from datetime import UTC

from aggregator.listing import Listing


def make_record_ids_unique(listings: list[Listing], warnings: list[str], *, separator: str, why: str) -> None:
    """Give listings that share a record id the start time (after ``separator``) as a suffix, in place.

    ``why`` ends the one warning per repeated id: ``record id 'x' <why>``.
    """
    seen: set[str] = set()
    next_number: dict[str, int] = {}  # where the "~N" search resumes: 100,000 equal ids stay linear
    for index, listing in enumerate(listings):
        record_id = listing.record_id
        if record_id in seen and listing.start is not None:
            start = listing.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            record_id = f"{record_id}{separator}{start}"
        number = next_number.get(listing.record_id, 2)
        while record_id in seen:
            record_id, number = f"{listing.record_id}~{number}", number + 1
        next_number[listing.record_id] = number
        if record_id != listing.record_id:
            message = f"record id {listing.record_id!r} {why}"
            if message not in warnings:
                warnings.append(message)
            listings[index] = listing.evolve(record_id=record_id)
        seen.add(record_id)
