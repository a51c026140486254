"""Matching rules: whether two titles, starts, rooms and listings name the same production and performance."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from rapidfuzz import fuzz

from aggregator.listing import Listing
from aggregator.matching.title_analysis import (
    Split,
    Title,
    analyse,
    is_content,
    is_name,
    read_across,
    token_qualifies,
)
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
class Evidence:
    """One thing that spoke for or against two listings being one performance, with what it saw."""

    kind: str
    """For: ``slot`` (one venue and hall, one day, one start minute), ``score`` (the titles are alike),
    ``translation`` (alike when read through the bilingual lexicon), ``names`` (performers, composers or
    works both name), ``number`` (a numbered concert of one series), ``work`` (one known work).
    Against: ``qualifiers``, ``numbers``, ``years``, ``prefix`` (one series, different evenings),
    ``low_score`` (the titles are not alike), ``other_names`` (each side names someone the other does not)."""
    detail: str = ""
    """What was seen, folded: the score, the shared names, the numbers, the prefix."""


@dataclass(frozen=True, slots=True)
class TitleVerdict:
    """What :func:`compare_titles` found: the fuzzy score, the hard rule that said no, and the evidence."""

    score: float
    """:func:`title_similarity` of the titles (each alone and with its subtitle, the best), 0..100; in one
    slot also read through the bilingual lexicon."""
    same: bool
    """:func:`same_production`'s answer at the threshold the comparison was made with (in one slot: whether
    the evidence makes the two one performance)."""
    rule: str | None = None
    """Which rule kept them apart despite the score: ``qualifiers``, ``numbers``, ``years`` or
    ``prefix`` (same prefix, different suffixes); ``None`` when the score or the evidence decided."""
    evidence_for: tuple[Evidence, ...] = ()
    """What spoke for one production: ``slot`` first in one slot, then what decided (when ``same``) or what
    did not suffice."""
    evidence_against: tuple[Evidence, ...] = ()
    """What spoke against it (empty when ``same``)."""


def compare_titles(
    a_title: str,
    b_title: str,
    *,
    a_subtitle: str | None = None,
    b_subtitle: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    same_slot: bool = False,
) -> TitleVerdict:
    """Compare two titles as :func:`same_production` does, and say why: the score, the rule, the evidence.

    ``same_slot`` says the caller knows both listings are at one resolved venue (and compatible hall), on
    one day, and start at the same minute (or both have no time). Only then does evidence beyond the
    titles' likeness count, weighed together (see :func:`_slot_verdict`): the titles read through the
    bilingual lexicon (English, transliterations, works), names both titles share, and the number of a
    numbered concert. Qualifiers, numbers and years keep two listings apart in any slot.

    The editorial review queue shows pairs the matcher kept apart with this score, rule and evidence.
    """
    a, b = analyse(a_title), analyse(b_title)
    score = _best_similarity(a_title, a_subtitle, b_title, b_subtitle)
    slot = (Evidence("slot"),) if same_slot else ()
    hard = _hard_rule(a, b)
    if hard is not None:
        return TitleVerdict(score, False, hard.kind, slot, (hard,))
    a_sub = analyse(a_subtitle).tokens if a_subtitle else ()
    b_sub = analyse(b_subtitle).tokens if b_subtitle else ()
    prefix = _prefix_verdict(a, b, threshold, a_sub, b_sub)
    same = score >= threshold if prefix is None else prefix
    if same:
        return TitleVerdict(score, True, None, (*slot, Evidence("score", f"{score:.0f}")))
    if same_slot:
        return _slot_verdict(a_title, a_subtitle, b_title, b_subtitle, threshold, score)
    against = _prefix_evidence(a, b) if prefix is False else Evidence("low_score", f"{score:.0f}")
    return TitleVerdict(score, False, "prefix" if prefix is False else None, (), (against,))


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


def same_minute(a_start: datetime, b_start: datetime, *, a_timed: bool = True, b_timed: bool = True) -> bool:
    """Whether two starts are one slot for the evidence beyond titles: the same Europe/Berlin minute, or
    the same Berlin date when neither has a time (all-day, or no time given). A timed and an untimed
    start are not one slot."""
    if a_timed != b_timed:
        return False
    if not a_timed:
        return _local(a_start).date() == _local(b_start).date()
    return _minute(a_start) == _minute(b_start)


def _minute(moment: datetime) -> int:
    """The minute of an instant (Berlin's offsets are whole hours, so its minutes begin with UTC's)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=BERLIN)
    return int(aware.timestamp() // 60)


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
    not the same production by :func:`compare_titles` at ``threshold`` — with the evidence beyond
    the titles' likeness when both are at one known venue and :func:`same_minute`.
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
    a_timed, b_timed = a_time_known and not a.all_day, b_time_known and not b.all_day
    one_slot = (
        bool(a.venue_slug)
        and a.venue_slug == b.venue_slug
        and same_minute(a.start, b.start, a_timed=a_timed, b_timed=b_timed)
    )
    verdict = compare_titles(
        a.title,
        b.title,
        a_subtitle=a.subtitle,
        b_subtitle=b.subtitle,
        threshold=threshold,
        same_slot=one_slot,
    )
    if not verdict.same:
        return None
    decided_by_score = any(evidence.kind == "score" for evidence in verdict.evidence_for)
    read = analyse if decided_by_score else read_across
    exactness = fuzz.token_sort_ratio(" ".join(read(a.title).tokens), " ".join(read(b.title).tokens))
    score = (verdict.score + exactness) / 2
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
    return _prefix_conflict(a, b, threshold, a_subtitle, b_subtitle)[0]


def _suffixes_agree(
    a_split: Split, b_split: Split, threshold: float, a_subtitle: tuple[str, ...], b_subtitle: tuple[str, ...]
) -> bool:
    """Whether two suffixes after one prefix are alike, or one is alike to the other side's subtitle."""
    return (
        _similarity(a_split.suffix, b_split.suffix) >= threshold
        or bool(b_subtitle and _similarity(a_split.suffix, b_subtitle) >= threshold)
        or bool(a_subtitle and _similarity(b_split.suffix, a_subtitle) >= threshold)
    )


def _hard_rule(a: Title, b: Title) -> Evidence | None:
    """The rule that keeps two titles apart whatever else they share: qualifiers, numbers, years."""
    if a.qualifiers != b.qualifiers:
        return Evidence(
            "qualifiers", " / ".join(", ".join(sorted(q)) or "–" for q in (a.qualifiers, b.qualifiers))
        )
    if a.numbers and b.numbers and a.numbers != b.numbers:
        return Evidence("numbers", " / ".join(", ".join(map(str, sorted(n))) for n in (a.numbers, b.numbers)))
    if a.years and b.years and a.years != b.years:
        return Evidence("years", " / ".join(", ".join(map(str, sorted(y))) for y in (a.years, b.years)))
    return None


def _slot_verdict(
    a_title: str, a_subtitle: str | None, b_title: str, b_subtitle: str | None, threshold: float, score: float
) -> TitleVerdict:
    """Weigh the evidence beyond title likeness for two listings in one slot whose titles alone did not match.

    Read through the lexicon, the titles match when they are alike (``translation``), when both have the
    same numbered segment ("6. Philharmonisches Konzert" / "6th Philharmonic Concert": ``number``), when
    both name the same known work (``work``), or when the names they share identify one performance
    (``names``, see :func:`names_agree`). A shared prefix with different suffixes (one series, different
    evenings) says no unless the prefix is a known work or the suffixes' names agree. Anything less is a
    near miss for the review queue.
    """
    slot = Evidence("slot")
    a, b = read_across(a_title), read_across(b_title)
    hard = _hard_rule(a, b)
    if hard is not None:
        return TitleVerdict(score, False, hard.kind, (slot,), (hard,))
    a_sub = read_across(a_subtitle) if a_subtitle else None
    b_sub = read_across(b_subtitle) if b_subtitle else None
    a_extra, b_extra = (a_sub.tokens if a_sub else ()), (b_sub.tokens if b_sub else ())
    translated = max(
        _similarity(x, y) for x in _across_variants(a, a_extra) for y in _across_variants(b, b_extra)
    )
    best = max(score, translated)
    number = ", ".join(map(str, sorted(a.numbers))) if a.numbers and a.numbers == b.numbers else ""
    works = sorted(a.works & b.works)
    agree, conflict = _prefix_conflict(a, b, threshold, a_extra, b_extra)
    if agree:
        return TitleVerdict(best, True, None, (slot, Evidence("translation", f"{translated:.0f}")))
    numbered = sorted(a.numbered & b.numbered)
    if numbered:  # "6. Philharmonisches Konzert" on both sides: the number names the evening
        return TitleVerdict(best, True, None, (slot, Evidence("number", numbered[0])))
    if conflict is not None:  # one series' prefix: only what tells its evenings apart counts
        a_split, b_split = conflict
        a_names, b_names = _names(a_split.suffix, a_sub), _names(b_split.suffix, b_sub)
        prefix = set(a_split.prefix.split())
        reasons = [
            *(Evidence("work", work) for work in works if set(work.split()) <= prefix),
            *([Evidence("names", _joined(a_names & b_names))] if names_agree(a_names, b_names) else []),
        ]
        if reasons:
            return TitleVerdict(best, True, None, (slot, *reasons))
        return TitleVerdict(
            best,
            False,
            "prefix",
            (slot, *_partial(number, a_names, b_names)),
            (_prefix_evidence(a, b), *_other_names(a_names, b_names)),
        )
    if translated >= threshold:
        return TitleVerdict(best, True, None, (slot, Evidence("translation", f"{translated:.0f}")))
    a_names, b_names = _names(a.tokens, a_sub), _names(b.tokens, b_sub)
    if works or names_agree(a_names, b_names):
        names = [Evidence("names", _joined(a_names & b_names))] if names_agree(a_names, b_names) else []
        return TitleVerdict(best, True, None, (slot, *(Evidence("work", work) for work in works), *names))
    return TitleVerdict(
        best,
        False,
        None,
        (slot, *_partial(number, a_names, b_names)),
        (Evidence("low_score", f"{best:.0f}"), *_other_names(a_names, b_names)),
    )


MIN_SHARED_NAMES = 3
"""Shared names that identify one performance whatever else each title names ("Igor Levit spielt
Beethoven" / "Igor Levit: Beethoven-Sonaten"); two suffice when one title names nothing else."""


def names_agree(a_names: set[str], b_names: set[str]) -> bool:
    """Whether the names two titles share identify one performance in one slot.

    At least :data:`MIN_SHARED_NAMES` shared names, or two that are every name one side gives (a teaser
    naming only the performer: "Axel Milberg liest"). Two shared names beside others on both sides
    ("Tribute to Hans Zimmer" / "The Music of Hans Zimmer & Others") are a near miss, not a match: two
    halls of one complex can play them at the same hour.
    """
    shared = a_names & b_names
    return len(shared) >= MIN_SHARED_NAMES or (len(shared) >= 2 and shared in (a_names, b_names))


def _partial(number: str, a_names: set[str], b_names: set[str]) -> list[Evidence]:
    """Evidence for that did not suffice: a shared number, shared names."""
    shared = a_names & b_names
    return [
        *([Evidence("number", number)] if number else []),
        *([Evidence("names", _joined(shared))] if shared else []),
    ]


def _other_names(a_names: set[str], b_names: set[str]) -> list[Evidence]:
    """Evidence against: names each side gives that the other does not."""
    a_only, b_only = a_names - b_names, b_names - a_names
    return [Evidence("other_names", f"{_joined(a_only)} / {_joined(b_only)}")] if a_only and b_only else []


def _joined(words: set[str]) -> str:
    return " ".join(sorted(words))


def _across_variants(title: Title, subtitle: tuple[str, ...]) -> list[tuple[str, ...]]:
    """A title read across, alone and with its subtitle's words appended, shared qualifier words left out."""
    variants = [_without_qualifiers(title.tokens)]
    if subtitle:
        variants.append(variants[0] + _without_qualifiers(subtitle))
    return variants


def _names(tokens: tuple[str, ...], subtitle: Title | None) -> set[str]:
    """The names among a title's (or a suffix's) words and its subtitle's."""
    found = {token for token in tokens if is_name(token)}
    return found | subtitle.names if subtitle else found


def _prefix_conflict(
    a: Title, b: Title, threshold: float, a_subtitle: tuple[str, ...], b_subtitle: tuple[str, ...]
) -> tuple[bool | None, tuple[Split, Split] | None]:
    """:func:`_prefix_verdict`, and when it is False the first pair of splits whose suffixes differ."""
    verdict: bool | None = None
    for a_split in a.splits:
        for b_split in b.splits:
            if a_split.prefix != b_split.prefix:
                continue
            if not _suffixes_agree(a_split, b_split, threshold, a_subtitle, b_subtitle):
                return False, (a_split, b_split)
            verdict = True
    return verdict, None


def _prefix_evidence(a: Title, b: Title) -> Evidence:
    """The shared prefix that kept two titles apart (the longest)."""
    prefixes = {split.prefix for split in a.splits} & {split.prefix for split in b.splits}
    return Evidence("prefix", max(prefixes, key=len) if prefixes else "")
