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

:func:`compare_titles` gives the score and the deciding rule behind :func:`same_production` (the
editorial review queue shows the matcher's near misses with them). :func:`same_time` compares instants
within a tolerance, or local (Europe/Berlin) dates when one side is all-day or has no time.
:func:`occurrence_match_score` combines venue, room (:func:`rooms_compatible`), time and title into a
score, or ``None`` when the pair must not merge. :func:`production_key` groups one
source's listings into productions when the source has no ``series_key``.

The modules: :mod:`.words` (the word lists), :mod:`.title_analysis` (one title cleaned and reduced to
tokens, qualifiers and numbers) and :mod:`.rules` (the functions named here).
"""
