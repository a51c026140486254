"""The labelled dedupe set (tests/fixtures/dedupe/labelled.json) as its sources would have listed it.

Shared by ``benchmarks/dedupe_eval.py``, which scores the matcher on it, and the tests that run ingest over it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aggregator.listing import Listing, OfferListing

LABELLED = Path(__file__).parent / "fixtures" / "dedupe" / "labelled.json"
FETCHED = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
MATCH_PAST_DAYS = "6000"
"""The labelled performances lie in 2012–2027: matching looks back over all of them."""
KINDS = {
    "konzerthaus": "venue",
    "theater_dortmund": "venue",
    "westfalenhallen": "venue",
    "dortmunder_u": "venue",
    "dortmund_de": "city",
    "visit_dortmund": "platform",
}
"""The kinds of the set's sources (the rest are platforms or the city by the settings' defaults)."""


def items(path: Path = LABELLED) -> list[dict[str, Any]]:
    """The labelled listings as stored."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return list(data["listings"])


def to_listing(item: dict[str, Any]) -> Listing:
    """A labelled item as the listing its source would have produced."""
    offers = [OfferListing(price_text=item["price_text"])] if item.get("price_text") else []
    return Listing(
        source=item["source"],
        record_id=item["record_id"],
        title=item["title"],
        fetched_at=FETCHED,
        subtitle=item.get("subtitle"),
        url=item.get("url"),
        series_key=item.get("series_key"),
        start=datetime.fromisoformat(item["start"]),
        end=datetime.fromisoformat(item["end"]) if item.get("end") else None,
        all_day=bool(item.get("all_day")),
        venue_name=item.get("venue_name"),
        room=item.get("room"),
        categories=list(item.get("categories") or []),
        offers=offers,
    )
