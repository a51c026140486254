"""Length limits on a listing's text: one normalisation step, so scraping, import and push all get them.

Every later step (categories, venue matching, dedupe) and the database see at most these many
characters per field. Over-long text is cut at a word boundary where one is near and ends in "…";
an over-long URL is dropped, since a cut one would lead nowhere. Each cut or drop adds a warning.
The limits are those the push API documents (``calendar_api/push/validate.py``) and the columns hold.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aggregator.listing import Listing, OfferListing
from aggregator.normalise.steps import StepContext
from aggregator.normalise.titles import match_key

TEXT_LIMITS: dict[str, int] = {
    "title": 500, "subtitle": 1000, "description": 50_000, "organiser": 300, "venue_name": 300,
    "venue_address": 300, "room": 200, "status_text": 300, "language": 20, "date_text": 1000,
    "time_text": 1000, "image_credit": 300, "image_licence": 300,
}  # fmt: skip
"""Characters kept of each text field of a listing."""

URL_LIMITS: dict[str, int] = {"url": 1000, "image": 1000, "venue_url": 1000}
"""Longest URL kept per field; a longer one is dropped."""

OFFER_TEXT_LIMITS: dict[str, int] = {"price_text": 300, "availability_text": 300, "vendor": 300}
OFFER_URL_LIMIT = 1000
CATEGORY_LABEL_LIMIT = 300
"""Characters kept of one raw category label."""

ELLIPSIS = "…"
_WORD_BOUNDARY_SLACK = 0.8  # cut at the last space if it keeps at least 80 % of the limit


def cap_lengths(listing: Listing, ctx: StepContext | None = None) -> Listing:
    """Cut text fields to :data:`TEXT_LIMITS`, drop URLs longer than :data:`URL_LIMITS`, with a warning each.

    Returns ``listing`` itself when nothing is too long. The step needs nothing from ``ctx``.
    """
    changes: dict[str, object] = {}
    warnings: list[str] = []
    for name, limit in TEXT_LIMITS.items():
        value = getattr(listing, name)
        if value is not None and (len(value) > limit or (name == "title" and len(match_key(value)) > limit)):
            changes[name] = _keyed(value, limit) if name == "title" else truncate(value, limit)
            warnings.append(f"{name} cut from {len(value)} to {limit} characters")
    for name, limit in URL_LIMITS.items():
        value = getattr(listing, name)
        if value is not None and len(value) > limit:
            changes[name] = None
            warnings.append(f"{name} of {len(value)} characters dropped (at most {limit})")
    if any(len(label) > CATEGORY_LABEL_LIMIT for label in listing.categories):
        changes["categories"] = [truncate(label, CATEGORY_LABEL_LIMIT) for label in listing.categories]
        warnings.append(f"category labels cut to {CATEGORY_LABEL_LIMIT} characters")
    offers = [_capped_offer(offer, index, warnings) for index, offer in enumerate(listing.offers)]
    if any(new is not old for new, old in zip(offers, listing.offers, strict=True)):
        changes["offers"] = offers
    if not changes:
        return listing
    return listing.evolve(**changes, warnings=[*listing.warnings, *warnings])


def _keyed(title: str, limit: int) -> str:
    """``title`` cut so that its match key (ligatures spelt out: "ﬃ" is "ffi") fits ``limit`` too."""
    cut = truncate(title, limit)
    while len(match_key(cut)) > limit:
        cut = truncate(cut[:-1], len(cut) * 9 // 10)
    return cut


def truncate(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, ending in "…" when cut (at a space if one is near)."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ")
    if space >= limit * _WORD_BOUNDARY_SLACK:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def _capped_offer(offer: OfferListing, index: int, warnings: list[str]) -> OfferListing:
    """One offer within :data:`OFFER_TEXT_LIMITS` and :data:`OFFER_URL_LIMIT` (the same offer if it was)."""
    changes: dict[str, Any] = {}
    for name, limit in OFFER_TEXT_LIMITS.items():
        value = getattr(offer, name)
        if value is not None and len(value) > limit:
            changes[name] = truncate(value, limit)
            warnings.append(f"offers[{index}].{name} cut from {len(value)} to {limit} characters")
    if offer.url is not None and len(offer.url) > OFFER_URL_LIMIT:
        changes["url"] = None
        length = len(offer.url)
        warnings.append(f"offers[{index}].url of {length} characters dropped (at most {OFFER_URL_LIMIT})")
    return replace(offer, **changes) if changes else offer
