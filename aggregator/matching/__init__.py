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
6. **Evidence in one slot** (only when the caller says ``same_slot``: one resolved venue and compatible
   hall, one Europe/Berlin day, the same start minute — or both without a time; see
   :func:`.rules.same_minute`). Titles the rules above kept apart are read again through the bilingual
   lexicon (``aggregator/data/lexicon.toml``, :func:`.title_analysis.read_across`): English words and
   phrases in the German form ("Piano Recital" → "Klavierabend", "concert performance" → "konzertant"),
   known works ("The Magic Flute" → "Die Zauberflöte"), transliterated names ("Tchaikovsky" →
   "Tschaikowsky"), stopwords of both languages and a trailing English venue phrase left out. They are
   the same performance when, read so, they are alike (*translation*); when both have the same numbered
   phrase ("6. Philharmonisches Konzert" / "6th Philharmonic Concert": *number*); when both name the same
   known work (*work*); or when the names they share — words no list knows: performers, composers,
   works — identify one performance (*names*: three or more, or two that are all one side names). A
   shared series prefix with different suffixes still says no, unless the prefix is a known work or the
   suffixes' names agree. Qualifiers, numbers and years keep titles apart in any slot; English
   qualifiers ("Family Concert", "Guided Tour", "for Children") count as German ones do everywhere, and
   "5th", "Fifth" and "V." are numbers everywhere.

Known limits: German compounds split differently ("Live Band" / "Liveband") lower the score; two
listings at a complex with several halls that both omit the hall and share three names at the same
minute are taken for one. Pairs in one slot with evidence that did not decide (one shared name, two
beside other names) go to the editorial review queue as near misses, with that evidence.

:func:`compare_titles` gives the score, the deciding rule and the evidence for and against behind
:func:`same_production` (the editorial review queue shows the matcher's near misses with them).
:func:`same_time` compares instants within a tolerance, or local (Europe/Berlin) dates when one side is
all-day or has no time. :func:`occurrence_match_score` combines venue, room (:func:`rooms_compatible`),
time and title into a score, or ``None`` when the pair must not merge; it asks :func:`compare_titles`
with ``same_slot`` when both listings are at one known venue and :func:`same_minute`.
:func:`production_key` groups one source's listings into productions when the source has no
``series_key``.

The modules: :mod:`.words` (the word lists and the lexicon), :mod:`.title_analysis` (one title cleaned and
reduced to tokens, qualifiers, numbers and names, and read across the lexicon) and :mod:`.rules` (the
functions named here).
"""
