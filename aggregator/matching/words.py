"""Word lists of title matching, in folded form: qualifiers, noise, venue, genre, generic and number words,
and the bilingual lexicon (``aggregator/data/lexicon.toml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregator.normalise.data_files import DataFileError, read_data_file
from aggregator.text import fold_key

QUALIFIERS: dict[str, tuple[str, ...]] = {
    "young": (
        r"fuer (?:kinder|kids|familien|die ganze familie)",
        r"kinder(?!n\b)\w+",
        r"kids",
        r"junior\w*",
        r"familien\w*",
        r"baby\w*",
        r"sitzkissen\w*",
        r"for (?:children|kids|families|the whole family)",
        r"family (?:concert|show|performance|matinee)s?",
        r"children s \w+",
    ),
    "intro": (r"\w*einfuehrung\w*", r"introduction", r"pre concert talk"),
    "tour": (r"\w*rundgang\w*", r"\w*spaziergang\w*", r"guided tours?"),  # "...führung": _TOUR_RE
    "rehearsal": (r"\w*proben?", r"rehearsals?"),
    "workshop": (r"workshops?", r"masterclass\w*", r"meisterkurs\w*"),
    "talk": (
        r"\w*gespraech\w*",
        r"\w*vortrag\w*",
        r"\w*diskussion\w*",
        r"artist talk",
        r"panel discussion",
        r"lecture",
    ),
    "opening": (
        r"\w*eroeffnung\w*",
        r"vernissage",
        r"finissage",
        r"\w*abschluss\w*",
        r"opening",
        r"closing concert",
    ),
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
"""Words that turn the same name into a different event, by category (regexes on folded text).

English qualifiers are here too ("Family Concert", "Guided Tour"): a tourism portal's English listing of a
children's version must stay apart from the evening performance however its title is read."""

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
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
}  # fmt: skip
"""Folded German and English ordinal words and their numbers ("Zweites Philharmonisches Konzert",
"Fifth Chamber Concert"); "5th" and "V." are read as numbers by the title analysis."""

CARDINAL_WORDS: dict[str, int] = {
    "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8,
    "neun": 9, "zehn": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}  # fmt: skip
"""Spelled cardinals, counted only after a series word ("Teil zwei", "Part Two")."""


class LexiconDataError(DataFileError):
    """``lexicon.toml`` is malformed; names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The bilingual lexicon, folded: what to read alike, the known works, and the words that name no one.

    Phrase keys are folded and without stopwords ("The Magic Flute" → ``("magic", "flute")``); a phrase
    is replaced by its German form, folded, stopwords kept ("für Kinder" → ``("fuer", "kinder")``), so that
    qualifiers are found in the result as in a German title.
    """

    phrases: dict[tuple[str, ...], tuple[str, ...]]
    longest: int
    """The most words a phrase key has."""
    works: frozenset[tuple[str, ...]]
    """The known works' German titles, folded, without stopwords."""
    vocabulary: frozenset[str]
    """Words that describe the kind of event or the announcement; never a name."""
    stopwords: frozenset[str]
    """German and English stopwords."""
    locatives: frozenset[str]
    venue_words: frozenset[str]


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Load the lexicon from ``path`` (default: the packaged ``lexicon.toml``)."""
    name, data = read_data_file("lexicon.toml", path, LexiconDataError)
    common = _table(name, data, "common")
    stopwords = STOPWORDS | _words(name, common, "common.stopwords")
    phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
    vocabulary: set[str] = set(_words(name, common, "common.not_names"))

    def add(entry: str, spelling: str, target: str) -> tuple[str, ...]:
        key = tuple(word for word in fold_key(spelling).split() if word not in stopwords)
        value = tuple(fold_key(target).split())
        if not key or not value:
            raise LexiconDataError(name, entry, f"{spelling!r} → {target!r} has no word to match")
        if phrases.setdefault(key, value) != value:
            raise LexiconDataError(name, entry, f"{spelling!r} is read as {phrases[key]!r} already")
        return key

    for spelling, target in _table(name, data, "words").items():
        if not isinstance(target, str):
            raise LexiconDataError(name, f"words.{spelling}", "must be a string (the German wording)")
        vocabulary.update(add(f"words.{spelling}", spelling, target))
        vocabulary.update(fold_key(target).split())
    works: set[tuple[str, ...]] = set()
    for table in ("works", "names"):
        for german, others in _table(name, data, table).items():
            if not isinstance(others, list) or not all(isinstance(other, str) for other in others):
                raise LexiconDataError(
                    name, f"{table}.{german}", "must be a list of strings (other spellings)"
                )
            canonical = add(f"{table}.{german}", german, german)
            for other in others:
                add(f"{table}.{german}", other, german)
            if table == "works":
                works.add(canonical)
    return Lexicon(
        phrases=phrases,
        longest=max((len(key) for key in phrases), default=1),
        works=frozenset(works),
        vocabulary=frozenset(vocabulary - stopwords),
        stopwords=frozenset(stopwords),
        locatives=LOCATIVE_WORDS | _words(name, common, "common.locatives"),
        venue_words=VENUE_WORDS | _words(name, common, "common.venue_words"),
    )


def _table(name: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise LexiconDataError(name, key, "must be a table")
    return table


def _words(name: str, table: dict[str, Any], entry: str) -> frozenset[str]:
    words = table.get(entry.rpartition(".")[2], [])
    if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
        raise LexiconDataError(name, entry, "must be a list of strings")
    return frozenset(token for word in words for token in fold_key(word).split())


LEXICON = load_lexicon()
"""The packaged lexicon."""
