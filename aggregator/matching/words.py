"""Word lists of title matching, in folded form: qualifiers, noise, venue, genre, generic and number words."""

from __future__ import annotations

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
