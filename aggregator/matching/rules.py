"""Matching rules: whether two titles, starts, rooms and listings name the same production and performance."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from rapidfuzz import fuzz

from aggregator.listing import Listing
from aggregator.matching.title_analysis import Title, analyse, is_content, token_qualifies
from aggregator.text import fold_key
from aggregator.types import BERLIN

DEFAULT_THRESHOLD = 88.0
"""Minimum :func:`title_similarity` for two titles to name the same production."""

DEFAULT_TOLERANCE_MINUTES = 20
"""Two start times this close are the same performance (sources round, or give the door time)."""

_NUMBER_RE = re.compile(r"(?<!\w)(\d+)(?!\w)")


def title_similarity(a: str, b: str) -> float:
    """Return how alike two titles are, 0..100, after folding and dropping noise and genre segments.

    This is the fuzzy part only; :func:`same_production` applies the hard rules before it.
    """
    return _similarity(analyse(a).tokens, analyse(b).tokens)


@dataclass(frozen=True, slots=True)
class TitleVerdict:
    """What :func:`compare_titles` found: the fuzzy score, and the hard rule that said no, if any."""

    score: float
    """:func:`title_similarity` of the titles (each alone and with its subtitle, the best), 0..100."""
    same: bool
    """:func:`same_production`'s answer at the threshold the comparison was made with."""
    rule: str | None = None
    """Which rule kept them apart despite the score: ``qualifiers``, ``numbers``, ``years`` or
    ``prefix`` (same prefix, different suffixes); ``None`` when the score decided."""


def compare_titles(
    a_title: str,
    b_title: str,
    *,
    a_subtitle: str | None = None,
    b_subtitle: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> TitleVerdict:
    """Compare two titles as :func:`same_production` does, and say why: the score and the deciding rule.

    The editorial review queue shows pairs the matcher kept apart with this score and rule.
    """
    a, b = analyse(a_title), analyse(b_title)
    score = _best_similarity(a_title, a_subtitle, b_title, b_subtitle)
    if a.qualifiers != b.qualifiers:
        return TitleVerdict(score, False, "qualifiers")
    if a.numbers and b.numbers and a.numbers != b.numbers:
        return TitleVerdict(score, False, "numbers")
    if a.years and b.years and a.years != b.years:
        return TitleVerdict(score, False, "years")
    a_sub = analyse(a_subtitle).tokens if a_subtitle else ()
    b_sub = analyse(b_subtitle).tokens if b_subtitle else ()
    verdict = _prefix_verdict(a, b, threshold, a_sub, b_sub)
    if verdict is not None:
        return TitleVerdict(score, verdict, None if verdict else "prefix")
    return TitleVerdict(score, score >= threshold)


def same_production(
    a_title: str,
    b_title: str,
    *,
    a_subtitle: str | None = None,
    b_subtitle: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> bool:
    """Return True when two titles name the same production despite each source's wording.

    The rules are described in the module docstring: qualifiers, numbers and a shared prefix with
    different suffixes say no; otherwise the fuzzy score must reach ``threshold``.
    """
    return compare_titles(
        a_title, b_title, a_subtitle=a_subtitle, b_subtitle=b_subtitle, threshold=threshold
    ).same


def same_time(
    a_start: datetime,
    b_start: datetime,
    *,
    tolerance_minutes: int = DEFAULT_TOLERANCE_MINUTES,
    a_all_day: bool = False,
    b_all_day: bool = False,
    a_time_known: bool = True,
    b_time_known: bool = True,
) -> bool:
    """Return True when two starts can be the same performance.

    Timed starts must lie within ``tolerance_minutes`` of each other. A side that is all-day, or
    whose source gave no time (``*_time_known=False``, typically a start at local midnight),
    matches any start on the same Europe/Berlin date. Naive datetimes are taken as Berlin time.
    """
    a_local, b_local = _local(a_start), _local(b_start)
    if a_all_day or b_all_day or not a_time_known or not b_time_known:
        return a_local.date() == b_local.date()
    return abs(a_local - b_local) <= timedelta(minutes=tolerance_minutes)


def occurrence_match_score(
    a: Listing,
    b: Listing,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    tolerance_minutes: int = DEFAULT_TOLERANCE_MINUTES,
) -> float | None:
    """Score how well two listings fit as one performance, or None when they must not merge.

    None when: either has no start; both venue slugs are known and differ; both rooms are known
    and differ; the starts are not :func:`same_time` within ``tolerance_minutes``; the titles are
    not :func:`same_production` at ``threshold``.
    Otherwise a score (higher is better, at most 100) used to pick the best of several candidates:
    the mean of the title similarity and the plain word-order-free ratio of the cleaned titles (so
    the same wording beats a mere subset of words), minus half a point per minute between the
    starts, plus 5 for a room both sides name.
    """
    if a.start is None or b.start is None:
        return None
    if a.venue_slug and b.venue_slug and a.venue_slug != b.venue_slug:
        return None
    if not rooms_compatible(a.room, b.room):
        return None
    a_time_known, b_time_known = time_known(a.start, a.time_text), time_known(b.start, b.time_text)
    if not same_time(
        a.start,
        b.start,
        a_all_day=a.all_day,
        b_all_day=b.all_day,
        a_time_known=a_time_known,
        b_time_known=b_time_known,
        tolerance_minutes=tolerance_minutes,
    ):
        return None
    if not same_production(
        a.title, b.title, a_subtitle=a.subtitle, b_subtitle=b.subtitle, threshold=threshold
    ):
        return None
    exactness = fuzz.token_sort_ratio(" ".join(analyse(a.title).tokens), " ".join(analyse(b.title).tokens))
    score = (_best_similarity(a.title, a.subtitle, b.title, b.subtitle) + exactness) / 2
    if a_time_known and b_time_known and not (a.all_day or b.all_day):
        minutes = abs(_local(a.start) - _local(b.start)) / timedelta(minutes=1)
        score -= minutes / 2
    if a.room and b.room:
        score += 5.0
    return min(score, 100.0)


def production_key(listing: Listing) -> str:
    """Return a key grouping one source's listings of the same production.

    For sources without a ``series_key``: the venue (slug, else the folded venue name) and the
    folded title with dates, times, genre descriptions and sales noise removed. Numbers, years
    (also those in a dropped "Live 2017" suffix) and qualifiers stay, so "7. Philharmonisches
    Konzert", "Helene Fischer – Live 2017" and "Die Zauberflöte für Kinder" keep their own keys.
    """
    venue = listing.venue_slug or " ".join(fold_key(listing.venue_name or "").split())
    title = analyse(listing.title)
    years = [str(year) for year in sorted(title.years) if str(year) not in title.tokens]
    return f"{venue}|{' '.join((*title.tokens, *years))}"


def _local(moment: datetime) -> datetime:
    """Return ``moment`` in Berlin time; a naive datetime is taken to be Berlin time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=BERLIN)
    return moment.astimezone(BERLIN)


def time_known(start: datetime, time_text: str | None) -> bool:
    """Whether the source gave a time: a local-midnight start without time text means it did not."""
    return bool(time_text) or _local(start).time() != time(0)


def rooms_compatible(a: str | None, b: str | None) -> bool:
    """Whether two room names can be the same room ("Halle 1" and "Westfalenhalle 1" can)."""
    if not a or not b:
        return True
    a_folded, b_folded = " ".join(fold_key(a).split()), " ".join(fold_key(b).split())
    if a_folded == b_folded:
        return True
    a_numbers, b_numbers = set(_NUMBER_RE.findall(a_folded)), set(_NUMBER_RE.findall(b_folded))
    if a_numbers != b_numbers:
        return False
    return max(fuzz.token_set_ratio(a_folded, b_folded), fuzz.partial_ratio(a_folded, b_folded)) >= 90


def _best_similarity(a_title: str, a_subtitle: str | None, b_title: str, b_subtitle: str | None) -> float:
    """Best similarity over each title alone and with its subtitle appended, shared qualifiers left out."""
    a_variants = _variants(a_title, a_subtitle)
    b_variants = _variants(b_title, b_subtitle)
    return max(_similarity(a, b) for a in a_variants for b in b_variants)


def _variants(title: str, subtitle: str | None) -> list[tuple[str, ...]]:
    """The title's comparable tokens, and the same with the subtitle's appended."""
    variants = [_without_qualifiers(analyse(title).tokens)]
    if subtitle:
        variants.append(variants[0] + _without_qualifiers(analyse(subtitle).tokens))
    return variants


def _without_qualifiers(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Drop words that only name a qualifier; the categories were already compared."""
    kept = tuple(token for token in tokens if not token_qualifies(token))
    return kept or tokens


def _similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """token_set_ratio when the titles share a content word, else the stricter token_sort_ratio."""
    if not a or not b:
        return 100.0 if a == b else 0.0
    a_text, b_text = " ".join(a), " ".join(b)
    if a_text == b_text:
        return 100.0
    if any(is_content(token) for token in set(a) & set(b)):
        return float(max(fuzz.token_set_ratio(a_text, b_text), fuzz.token_sort_ratio(a_text, b_text)))
    return float(fuzz.token_sort_ratio(a_text, b_text))


def _prefix_verdict(
    a: Title, b: Title, threshold: float, a_subtitle: tuple[str, ...], b_subtitle: tuple[str, ...]
) -> bool | None:
    """Compare titles that both split into "<prefix>: <suffix>" with the same prefix.

    False when some such pair of suffixes is not similar — two evenings of one series or festival.
    True when the suffixes agree, None when no prefixes are shared. A suffix that matches the other
    side's subtitle agrees: one source wrote the episode into the title, the other into the
    subtitle ("Kopfnoten: Impressionismus …").
    """
    verdict: bool | None = None
    for a_split in a.splits:
        for b_split in b.splits:
            if a_split.prefix != b_split.prefix:
                continue
            if (
                _similarity(a_split.suffix, b_split.suffix) >= threshold
                or (b_subtitle and _similarity(a_split.suffix, b_subtitle) >= threshold)
                or (a_subtitle and _similarity(b_split.suffix, a_subtitle) >= threshold)
            ):
                verdict = True
            else:
                return False
    return verdict
