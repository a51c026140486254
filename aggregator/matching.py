"""Decide whether two listings from different sources name the same production and performance.

These are pure functions; the dedupe engine (:mod:`aggregator.dedupe`) blocks candidate pairs by
venue and local date and asks :func:`occurrence_match_score` which candidate, if any, is the same
performance. All text comparison happens on the form of :func:`aggregator.text.fold_key` (casefolded,
ä → ae, ß → ss, other diacritics stripped, punctuation → space), so "DIE ZAUBERFLÖTE", "Die Zauberflöte"
and "Die Zauberfloete" are the same string.

How :func:`same_production` decides, in this order:

1. **Clean each title.** A date inside a title ends it: JSON-LD names such as
   "5. Philharmonisches Konzert: Faszination Stadion 16.01.2024 Konzerthaus Dortmund" append date
   and venue, so everything from the date on is dropped. Times ("19.30 Uhr") and age hints
   ("ab 14 Jahren") are removed. The title is split into *segments* at ": ", " | ", spaced dashes,
   parentheses and ". " after a word. A trailing venue phrase ("… im Dortmunder U") is cut off a
   segment; a later segment that only describes the genre ("Oper von W. A. Mozart",
   "Das Musical", "Komödie von Anton Tschechov") or only carries sales or venue noise ("Tickets",
   "Live 2026", "Konzerthaus Dortmund") is dropped. Noise words (:data:`NOISE_WORDS`: "Tickets",
   "Tagesticket", "Live", "Tour", "Premiere", "Wiederaufnahme", "UA", ...) are removed everywhere:
   a premiere is a performance of the same production.
2. **Qualifiers** (:data:`QUALIFIERS`): words that make a different event out of the same name —
   "für Kinder"/"Familienvorstellung"/"junior", "Einführung", "Öffentliche Probe", "Führung",
   "Workshop", "Nachgespräch", "Sing Along", "Eröffnung"/"Vernissage", "Parkticket"/"VIP". Each
   belongs to a category; the sets of categories on both sides must be equal. "Die Zauberflöte
   für Kinder" and "Die Zauberflöte – Familienvorstellung" share the category *young* and may
   match each other. ("Einführung", "Aufführung", "Entführung" are not guided tours.)
3. **Numbers**: arabic numbers standing alone ("5.", "Teil 2", "Vol. 2"), German ordinal words
   ("Zweites"), roman numerals ("II"; a single "I"/"V"/"X" only after a series word such as
   "Teil" or at the end of the title), "Two" after a series word, and years are compared when
   *both* titles have any: non-year numbers must be equal, and years must be equal.
   "2. Philharmonisches Konzert" is not "3. Philharmonisches Konzert"; "Helene Fischer – Live
   2026" may still be "Helene Fischer". Numbers glued to letters ("DEW21", "Halle 3A") are names.
   In the compared words a number replaces its spelling, and the series word before it goes, so
   "Teil 2" and "Part Two" read alike.
4. **Shared prefix**: when both titles split into a prefix and a suffix with the same prefix,
   suffixes that are not similar mean different evenings of one series or festival
   ("Klangvokal Festival: Eröffnungskonzert" / "…: Abschlusskonzert", "Kleiner Freitag:
   Queerslam" / "Kleiner Freitag: Bier – die Graphic Novel") and similar suffixes mean the same
   production. A suffix that matches the other side's subtitle counts as similar. A suffix on one
   side only decides nothing ("Kleiner Freitag" / "Kleiner Freitag: Queerslam").
5. **Fuzzy score** (:func:`title_similarity`): rapidfuzz ``token_set_ratio`` (a title whose words
   are all contained in the other scores 100, which covers "Mozart: Die Zauberflöte" and city
   portal teasers) — but only when the shared words include a real content word; shared
   stopwords or generic words ("Konzert", "Führung", ...) alone fall back to the stricter
   ``token_sort_ratio``. Qualifier words both sides share are left out of the comparison. The
   subtitles, when given, are tried appended to their titles; they can only help a match, never
   split one, because sources write different teasers under the same title.

Known limits: a teaser that shares only a performer's name with the venue's title ("Anne-Sophie
Mutter spielt Mozart und Previn" / "Anne-Sophie Mutter & Berliner Barock Solisten") stays
unmatched unless a subtitle bridges it; German compounds split differently ("Live Band" /
"Liveband") lower the score.

:func:`same_time` compares instants within a tolerance, or local (Europe/Berlin) dates when one
side is all-day or has no time. :func:`occurrence_match_score` combines venue, room, time and
title into a score, or ``None`` when the pair must not merge. :func:`production_key` groups one
source's listings into productions when the source has no ``series_key``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache

from rapidfuzz import fuzz

from aggregator.listing import Listing
from aggregator.normalise.datewords import MONTH_SPELLINGS, WEEKDAY_SPELLINGS
from aggregator.text import fold_key
from aggregator.types import BERLIN

DEFAULT_THRESHOLD = 88.0
"""Minimum :func:`title_similarity` for two titles to name the same production."""

DEFAULT_TOLERANCE_MINUTES = 20
"""Two start times this close are the same performance (sources round, or give the door time)."""

QUALIFIERS: dict[str, tuple[str, ...]] = {
    "young": (
        r"fuer (?:kinder|kids|familien|die ganze familie)",
        r"kinder(?!n\b)\w+",
        r"kids",
        r"junior\w*",
        r"familien\w*",
        r"baby\w*",
        r"sitzkissen\w*",
    ),
    "intro": (r"\w*einfuehrung\w*",),
    "tour": (r"\w*rundgang\w*", r"\w*spaziergang\w*"),  # "...führung" is handled by _TOUR_RE
    "rehearsal": (r"\w*proben?",),
    "workshop": (r"workshops?", r"masterclass\w*", r"meisterkurs\w*"),
    "talk": (r"\w*gespraech\w*", r"\w*vortrag\w*", r"\w*diskussion\w*"),
    "opening": (r"\w*eroeffnung\w*", r"vernissage", r"finissage", r"\w*abschluss\w*"),
    "singalong": (r"sing ?along", r"mitsing\w*"),
    "addon": (
        r"parkticket\w*",
        r"parkplatz\w*",
        r"parken",
        r"vip\w*",
        r"meet (?:and )?greet",
        r"upgrade",
        r"hospitality",
        r"gutschein\w*",
        r"aftershow\w*",
        r"fanpaket\w*",
    ),
}
"""Words that turn the same name into a different event, by category (regexes on folded text)."""

NOT_A_TOUR_PREFIXES = frozenset(
    {
        "ent", "durch", "aus", "fort", "ver", "zusammen", "ueber", "zu", "ab", "heim", "weiter",
        "nach", "an", "hin", "irre",
    }
)  # fmt: skip
"""Prefixes of "…führung" that make no guided tour: Entführung, Ausführung, Verführung, ..."""

NOT_A_TOUR_ENDINGS = ("ein", "auf", "vor")
"""Endings before "…führung" that make no tour: (Werk)einführung, (Ur)aufführung, (Film)vorführung."""

NOISE_WORDS = frozenset(
    {
        "tickets", "ticket", "karten", "live", "tour", "tournee", "premiere", "wiederaufnahme",
        "ua", "dea", "urauffuehrung", "erstauffuehrung", "derniere", "oeffentliche", "oeffentlicher",
        "oeffentliches", "oeffentlich", "konzertante", "konzertant", "auffuehrung", "zusatztermin",
        "zusatzkonzert", "neu", "ausverkauft", "abgesagt", "verlegt", "dortmund",
    }
)  # fmt: skip
"""Folded words that say how or where a production is sold or staged, not which one it is.

Words ending in "ticket(s)" ("Tagesticket", "Kombitickets") are noise too; an add-on such as a
"Parkticket" is caught as a qualifier before noise is dropped.
"""

VENUE_WORDS = frozenset(
    {
        "dortmund", "dortmunder", "konzerthaus", "opernhaus", "schauspielhaus", "theater",
        "westfalenhalle", "westfalenhallen", "halle", "oper", "u", "im", "in", "der", "die", "das",
        "dem", "kino", "foyer", "opernfoyer", "studio", "saal", "vorplatz", "museum", "ostwall",
    }
)  # fmt: skip
"""Folded words a venue name is made of: a trailing segment of only these ("Konzerthaus Dortmund")
or a trailing "im …"/"am …" phrase of only these ("Queerslam im Dortmunder U") is dropped."""

LOCATIVE_WORDS = frozenset({"im", "in", "am", "auf", "beim"})
"""Folded words that open a trailing venue phrase."""

GENRE_WORDS = frozenset(
    {
        "oper", "opera", "operette", "musical", "ballett", "tanz", "tanzstueck", "tanztheater",
        "schauspiel", "komoedie", "tragoedie", "tragedia", "dramma", "drama", "stueck", "theaterstueck",
        "singspiel", "konzertante", "konzertant", "roman", "musiktheater", "kammeroper", "grand",
        "revue", "liederabend", "sinfoniekonzert",
    }
)  # fmt: skip
"""First words of a segment that only describes the genre ("Oper von W. A. Mozart")."""

GENERIC_WORDS = frozenset(
    {
        "konzert", "konzerte", "oper", "ballett", "musical", "ausstellung", "fuehrung", "lesung",
        "kino", "film", "jazz", "party", "festival", "show", "theater", "abend", "matinee", "gala",
        "programm", "veranstaltung", "event", "live", "musik", "tag", "nacht", "dortmund",
        "dortmunder", "konzerthaus", "opernhaus", "sonderausstellung", "workshop", "familie",
        "kinder", "reihe", "special", "edition", "spezial",
    }
)  # fmt: skip
"""Folded words too common to make two titles the same production on their own."""

STOPWORDS = frozenset(
    {
        "der", "die", "das", "des", "dem", "den", "ein", "eine", "einer", "eines", "einem", "und",
        "oder", "mit", "von", "vom", "zu", "zum", "zur", "im", "in", "am", "an", "auf", "aus", "bei",
        "fuer", "nach", "ueber", "the", "a", "of", "and", "for", "with", "to", "la", "le", "les",
        "el", "il", "de", "du", "et",
    }
)  # fmt: skip

SERIES_WORDS = frozenset(
    {
        "teil", "vol", "volume", "nr", "no", "folge", "part", "kapitel", "akt", "band", "episode",
        "staffel", "runde", "chapter", "ausgabe",
    }
)  # fmt: skip
"""Words after which a single roman numeral or a spelled cardinal is a number ("Teil I")."""

ORDINAL_WORDS: dict[str, int] = {
    **dict.fromkeys(("erste", "erster", "erstes", "ersten", "erstem"), 1),
    **dict.fromkeys(("zweite", "zweiter", "zweites", "zweiten", "zweitem"), 2),
    **dict.fromkeys(("dritte", "dritter", "drittes", "dritten", "drittem"), 3),
    **dict.fromkeys(("vierte", "vierter", "viertes", "vierten", "viertem"), 4),
    **dict.fromkeys(("fuenfte", "fuenfter", "fuenftes", "fuenften", "fuenftem"), 5),
    **dict.fromkeys(("sechste", "sechster", "sechstes", "sechsten", "sechstem"), 6),
    **dict.fromkeys(("siebte", "siebter", "siebtes", "siebten", "siebente", "siebenter"), 7),
    **dict.fromkeys(("achte", "achter", "achtes", "achten", "achtem"), 8),
    **dict.fromkeys(("neunte", "neunter", "neuntes", "neunten", "neuntem"), 9),
    **dict.fromkeys(("zehnte", "zehnter", "zehntes", "zehnten", "zehntem"), 10),
    **dict.fromkeys(("elfte", "elfter", "elftes", "elften"), 11),
    **dict.fromkeys(("zwoelfte", "zwoelfter", "zwoelftes", "zwoelften"), 12),
}
"""Folded German ordinal words and their numbers ("Zweites Philharmonisches Konzert")."""

CARDINAL_WORDS: dict[str, int] = {
    "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8,
    "neun": 9, "zehn": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}  # fmt: skip
"""Spelled cardinals, counted only after a series word ("Teil zwei", "Part Two")."""

_WEEKDAY = rf"(?:\b(?:{WEEKDAY_SPELLINGS})\.?,?\s+)?"
_DATE_RE = re.compile(
    rf"{_WEEKDAY}(?:\b\d{{1,2}}\.\s?\d{{1,2}}\.(?:\s?(?:19|20)?\d{{2}}(?!\d))?"
    rf"|\b(?:19|20)\d{{2}}-\d{{2}}-\d{{2}}(?:T[\d:.+-]+Z?)?"
    rf"|\b\d{{1,2}}\.\s*(?:{MONTH_SPELLINGS})\b\.?(?:\s*(?:19|20)\d{{2}})?)",
    re.IGNORECASE,
)
_TIME_RE = re.compile(
    r"\b\d{1,2}[.:]\d{2}(?:\s*(?:Uhr|h)\b)?(?:\s*[-–]\s*\d{1,2}[.:]\d{2}(?:\s*Uhr\b)?)?|\b\d{1,2}\s*Uhr\b",
    re.IGNORECASE,
)
_AGE_RE = re.compile(
    r"\(?\s*\bab\s+\d{1,2}\s*(?:J\.|Jahren|Jahre)?\s*\)?"
    r"|\(\s*\d{1,2}\s*\+\s*\)"
    r"|\b\d{1,2}\s*-?\s*bis\s*\d{1,2}\s*-?\s*j(?:ä|ae)hrige\w*",
    re.IGNORECASE,
)
_ABBREVIATIONS = frozenset({"vol", "nr", "no", "op", "st", "dr", "prof", "bzw", "ca", "str", "inkl"})
_SEPARATOR_RE = re.compile(r"\s*[:|]\s+|\s+[-–—]\s+|\s*[()\[\]]\s*|(?<=[^\W\d_]{3})\.\s+")
_NUMBER_RE = re.compile(r"(?<!\w)(\d+)(?!\w)")
_ROMAN_RE = re.compile(r"^(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})$")
_WORD_RE = re.compile(r"[^\W_]+")
_TOUR_RE = re.compile(r"^(\w*?)fuehrung(?:en)?$")
_QUALIFIER_RES = {
    category: re.compile(r"\b(?:" + "|".join(patterns) + r")\b") for category, patterns in QUALIFIERS.items()
}
_TOKEN_QUALIFIER_RES = {
    category: re.compile("^(?:" + "|".join(patterns) + ")$") for category, patterns in QUALIFIERS.items()
}


@dataclass(frozen=True, slots=True)
class _Split:
    """A title cut into a prefix and a suffix at one separator, both folded."""

    prefix: str
    suffix: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Title:
    """What the rules need to know about one title, computed once per distinct title."""

    tokens: tuple[str, ...]
    qualifiers: frozenset[str]
    numbers: frozenset[int]
    years: frozenset[int]
    splits: tuple[_Split, ...]


def title_similarity(a: str, b: str) -> float:
    """Return how alike two titles are, 0..100, after folding and dropping noise and genre segments.

    This is the fuzzy part only; :func:`same_production` applies the hard rules before it.
    """
    return _similarity(_analyse(a).tokens, _analyse(b).tokens)


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
    a, b = _analyse(a_title), _analyse(b_title)
    if a.qualifiers != b.qualifiers:
        return False
    if a.numbers and b.numbers and a.numbers != b.numbers:
        return False
    if a.years and b.years and a.years != b.years:
        return False
    a_sub = _analyse(a_subtitle).tokens if a_subtitle else ()
    b_sub = _analyse(b_subtitle).tokens if b_subtitle else ()
    verdict = _prefix_verdict(a, b, threshold, a_sub, b_sub)
    if verdict is not None:
        return verdict
    return _best_similarity(a_title, a_subtitle, b_title, b_subtitle) >= threshold


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
    if not _rooms_compatible(a.room, b.room):
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
    exactness = fuzz.token_sort_ratio(" ".join(_analyse(a.title).tokens), " ".join(_analyse(b.title).tokens))
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
    title = _analyse(listing.title)
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


def _rooms_compatible(a: str | None, b: str | None) -> bool:
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
    variants = [_without_qualifiers(_analyse(title).tokens)]
    if subtitle:
        variants.append(variants[0] + _without_qualifiers(_analyse(subtitle).tokens))
    return variants


def _without_qualifiers(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Drop words that only name a qualifier; the categories were already compared."""
    kept = tuple(token for token in tokens if not _token_qualifies(token))
    return kept or tokens


def _token_qualifies(token: str) -> bool:
    """Whether one folded word on its own is a qualifier word ("Sonntagsführung", "Kinderkonzert")."""
    if _is_tour_word(token):
        return True
    return any(pattern.match(token) for pattern in _TOKEN_QUALIFIER_RES.values())


def _similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """token_set_ratio when the titles share a content word, else the stricter token_sort_ratio."""
    if not a or not b:
        return 100.0 if a == b else 0.0
    a_text, b_text = " ".join(a), " ".join(b)
    if a_text == b_text:
        return 100.0
    if any(_is_content(token) for token in set(a) & set(b)):
        return float(max(fuzz.token_set_ratio(a_text, b_text), fuzz.token_sort_ratio(a_text, b_text)))
    return float(fuzz.token_sort_ratio(a_text, b_text))


def _is_content(token: str) -> bool:
    """Whether a folded word can carry a title's identity (not a number, stopword or generic word)."""
    return len(token) >= 3 and not token.isdigit() and token not in STOPWORDS and token not in GENERIC_WORDS


def _prefix_verdict(
    a: _Title, b: _Title, threshold: float, a_subtitle: tuple[str, ...], b_subtitle: tuple[str, ...]
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


@lru_cache(maxsize=8192)
def _analyse(title: str) -> _Title:
    """Clean one title and extract its tokens, qualifiers, numbers and prefix/suffix splits."""
    segments = _segments(_clean(title))
    kept = _meaningful_segments(segments)
    numbers: set[int] = set()
    years = {int(word) for segment in segments for word in fold_key(segment).split() if _is_year(word)}
    segment_tokens: list[list[str]] = []
    words = [(index, word) for index, segment in enumerate(kept) for word in _WORD_RE.findall(segment)]
    for position, (index, word) in enumerate(words):
        if index == len(segment_tokens):
            segment_tokens.append([])
        tokens = segment_tokens[index]
        folded = fold_key(word)
        previous = fold_key(words[position - 1][1]) if position else ""
        number = _number(word, folded, previous, is_last=position == len(words) - 1)
        if number is not None:
            if not _is_year(folded):
                numbers.add(number)
            if tokens and tokens[-1] == previous and previous in SERIES_WORDS:
                tokens.pop()  # "Teil 2" and "Part Two" differ only in the word the number carries
            tokens.append(str(number))
        elif not _is_noise(folded):
            tokens.extend(folded.split())
    tokens = [token for part in segment_tokens for token in part]
    return _Title(
        tokens=tuple(tokens) or tuple(fold_key(" ".join(kept)).split()),
        qualifiers=_qualifiers(" ".join(fold_key(" ".join(segments)).split())),
        numbers=frozenset(numbers),
        years=frozenset(years),
        splits=_splits(segment_tokens),
    )


def _is_noise(folded: str) -> bool:
    """Whether a folded word only says how the production is sold or staged."""
    return folded in NOISE_WORDS or folded.endswith(("ticket", "tickets"))


def _clean(title: str) -> str:
    """Cut a title at an appended date; drop times and age hints."""
    text = unicodedata.normalize("NFKC", title)
    date = _DATE_RE.search(text)
    if date and text[: date.start()].strip(" -–—:,|"):
        text = text[: date.start()]
    text = _DATE_RE.sub(" ", text)
    text = _TIME_RE.sub(" ", text)
    text = _AGE_RE.sub(" ", text)
    return " ".join(text.split())


def _segments(text: str) -> list[str]:
    """Split a cleaned title at ": ", " | ", spaced dashes, parentheses and ". " after a word."""
    segments: list[str] = []
    start = 0
    for separator in _SEPARATOR_RE.finditer(text):
        if (
            separator.group().strip().startswith(".")
            and _last_word(text[: separator.start()]) in _ABBREVIATIONS
        ):
            continue
        segments.append(text[start : separator.start()])
        start = separator.end()
    segments.append(text[start:])
    return [_without_trailing_venue(segment.strip()) for segment in segments if fold_key(segment).strip()]


def _without_trailing_venue(segment: str) -> str:
    """Drop a trailing "im Dortmunder U" / "in der Westfalenhalle" phrase from a segment."""
    words = list(_WORD_RE.finditer(segment))
    for index in range(1, len(words) - 1):
        if fold_key(words[index].group()) in LOCATIVE_WORDS and all(
            fold_key(word.group()) in VENUE_WORDS for word in words[index + 1 :]
        ):
            return segment[: words[index].start()].rstrip()
    return segment


def _last_word(text: str) -> str:
    """The last word of ``text``, folded."""
    words = fold_key(text).split()
    return words[-1] if words else ""


def _meaningful_segments(segments: list[str]) -> list[str]:
    """Drop later segments that only describe the genre or carry sales and venue noise."""
    if not segments:
        return []
    kept = [segments[0]]
    for segment in segments[1:]:
        words = fold_key(segment).split()
        content = [word for word in words if word not in {"ein", "eine", "das", "der", "die"}]
        if content and content[0] in GENRE_WORDS:
            continue
        if all(_is_noise(word) or word in VENUE_WORDS or _is_year(word) for word in words):
            continue
        kept.append(segment)
    return kept


def _is_year(word: str) -> bool:
    """Whether a folded word is a year (1900–2099)."""
    return len(word) == 4 and word.isdigit() and 1900 <= int(word) <= 2099


def _number(word: str, folded: str, previous: str, *, is_last: bool) -> int | None:
    """The number a word stands for: digits, an ordinal word, a roman numeral, "zwei" after "Teil"."""
    if folded.isdigit():
        return int(folded)
    if folded in ORDINAL_WORDS:
        return ORDINAL_WORDS[folded]
    if previous in SERIES_WORDS and folded in CARDINAL_WORDS:
        return CARDINAL_WORDS[folded]
    if _ROMAN_RE.match(word) and (len(word) > 1 or previous in SERIES_WORDS or is_last):
        return _roman_value(word)
    return None


def _roman_value(numeral: str) -> int:
    """Value of a roman numeral already checked by ``_ROMAN_RE`` (I–XXXIX)."""
    values = {"I": 1, "V": 5, "X": 10}
    total = 0
    for index, char in enumerate(numeral):
        value = values[char]
        if index + 1 < len(numeral) and values[numeral[index + 1]] > value:
            total -= value
        else:
            total += value
    return total


def _qualifiers(folded: str) -> frozenset[str]:
    """Categories of qualifier words in a folded title."""
    found = {category for category, pattern in _QUALIFIER_RES.items() if pattern.search(folded)}
    if any(_is_tour_word(word) for word in folded.split()):
        found.add("tour")
    return frozenset(found)


def _is_tour_word(word: str) -> bool:
    """Whether a folded word is a guided tour ("Führung", "Sonntagsführung"), not "Einführung" etc."""
    match = _TOUR_RE.match(word)
    if match is None:
        return False
    prefix = match.group(1)
    return prefix not in NOT_A_TOUR_PREFIXES and not prefix.endswith(NOT_A_TOUR_ENDINGS)


def _splits(segment_tokens: list[list[str]]) -> tuple[_Split, ...]:
    """Every prefix/suffix cut between segments whose suffix keeps a real word (years left out)."""
    splits: list[_Split] = []
    for index in range(1, len(segment_tokens)):
        prefix = [token for part in segment_tokens[:index] for token in part]
        suffix = tuple(token for part in segment_tokens[index:] for token in part if not _is_year(token))
        if prefix and any(_is_content(token) for token in suffix):
            splits.append(_Split(prefix=" ".join(prefix), suffix=suffix))
    return tuple(splits)
