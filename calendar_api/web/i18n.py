"""The pages' two languages: message texts, the choice of language, and dates and prices per language.

German is the default; ``?lang=en`` or an ``Accept-Language`` header preferring English switches to
English. Dates are shown in Europe/Berlin with German or British English names and order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from aggregator.types import BERLIN

Lang = Literal["de", "en"]
LANGUAGES: tuple[Lang, ...] = ("de", "en")
DEFAULT: Lang = "de"

_WEEKDAYS: dict[Lang, tuple[str, ...]] = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_WEEKDAYS_SHORT: dict[Lang, tuple[str, ...]] = {
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS: dict[Lang, tuple[str, ...]] = {
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_MONTHS_SHORT: dict[Lang, tuple[str, ...]] = {
    "de": ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

MESSAGES: dict[str, dict[Lang, str]] = {
    "site_name": {"de": "Stadtkalender Dortmund", "en": "Dortmund city calendar"},
    "tagline": {
        "de": "Was ist los in Dortmund? Konzerte, Theater, Ausstellungen und mehr an einem Ort.",
        "en": "What's on in Dortmund? Concerts, theatre, exhibitions and more in one place.",
    },
    "skip": {"de": "Zum Inhalt springen", "en": "Skip to content"},
    "other_language": {"de": "English", "en": "Deutsch"},
    "other_language_label": {"de": "Switch to English", "en": "Auf Deutsch anzeigen"},
    "filters": {"de": "Veranstaltungen filtern", "en": "Filter events"},
    "when": {"de": "Zeitraum", "en": "When"},
    "when_all": {"de": "Alle kommenden", "en": "All upcoming"},
    "when_today": {"de": "Heute", "en": "Today"},
    "when_weekend": {"de": "Dieses Wochenende", "en": "This weekend"},
    "when_week": {"de": "Nächste 7 Tage", "en": "Next 7 days"},
    "when_dates": {"de": "Daten wählen", "en": "Pick dates"},
    "from": {"de": "Von", "en": "From"},
    "to": {"de": "Bis", "en": "To"},
    "venue": {"de": "Veranstaltungsort", "en": "Venue"},
    "category": {"de": "Kategorie", "en": "Category"},
    "district": {"de": "Stadtbezirk", "en": "District"},
    "any_venue": {"de": "Alle Orte", "en": "All venues"},
    "any_category": {"de": "Alle Kategorien", "en": "All categories"},
    "any_district": {"de": "Alle Stadtbezirke", "en": "All districts"},
    "free_only": {"de": "Nur Eintritt frei", "en": "Free admission only"},
    "available_only": {"de": "Nur mit freien Plätzen", "en": "Still available only"},
    "highlight_only": {"de": "Nur Tipps der Redaktion", "en": "Editors' picks only"},
    "highlights_first": {"de": "Tipps der Redaktion zuerst", "en": "Editors' picks first"},
    "highlight": {"de": "Tipp der Redaktion", "en": "Editors' pick"},
    "highlights_heading": {"de": "Tipps der Redaktion", "en": "Editors' picks"},
    "search": {"de": "Suche", "en": "Search"},
    "search_hint": {"de": "Titel, Beschreibung oder Ort", "en": "Title, description or venue"},
    "apply": {"de": "Anzeigen", "en": "Show events"},
    "reset": {"de": "Filter zurücksetzen", "en": "Reset filters"},
    "results": {"de": "Veranstaltungen", "en": "Events"},
    "page_title": {"de": "Veranstaltungen in Dortmund", "en": "Events in Dortmund"},
    "no_results": {
        "de": "Keine Veranstaltungen gefunden. Versuchen Sie andere Filter.",
        "en": "No events found. Try other filters.",
    },
    "more": {"de": "Weitere Veranstaltungen", "en": "More events"},
    "today": {"de": "Heute", "en": "Today"},
    "tomorrow": {"de": "Morgen", "en": "Tomorrow"},
    "all_day": {"de": "ganztägig", "en": "all day"},
    "until": {"de": "bis {date}", "en": "until {date}"},
    "time_suffix": {"de": " Uhr", "en": ""},
    "n_dates": {"de": "{n} Termine", "en": "{n} dates"},
    "next_dates": {"de": "Nächste Termine", "en": "Next dates"},
    "status_cancelled": {"de": "Abgesagt", "en": "Cancelled"},
    "status_postponed": {"de": "Verschoben", "en": "Postponed"},
    "status_rescheduled": {"de": "Verlegt", "en": "Rescheduled"},
    "availability_sold_out": {"de": "Ausverkauft", "en": "Sold out"},
    "availability_few_left": {"de": "Nur noch wenige Karten", "en": "Few tickets left"},
    "availability_waiting_list": {"de": "Warteliste", "en": "Waiting list"},
    "availability_free": {"de": "Eintritt frei", "en": "Free admission"},
    "availability_available": {"de": "Karten erhältlich", "en": "Tickets available"},
    "availability_not_bookable_online": {"de": "Karten nicht online buchbar", "en": "Not bookable online"},
    "free": {"de": "Eintritt frei", "en": "Free"},
    "subscribe_title": {"de": "Diese Auswahl abonnieren", "en": "Subscribe to this selection"},
    "subscribe_text": {
        "de": "Die gefilterten Termine als Kalender-Abo: Änderungen und Absagen "
        "erscheinen automatisch in Ihrem Kalender.",
        "en": "The filtered events as a calendar subscription: changes and cancellations "
        "show up in your calendar automatically.",
    },
    "subscribe": {"de": "Abonnieren (webcal)", "en": "Subscribe (webcal)"},
    "google": {"de": "Zu Google Kalender hinzufügen", "en": "Add to Google Calendar"},
    "feed_url": {"de": "Adresse des Kalender-Feeds zum Kopieren", "en": "Calendar feed address to copy"},
    "event_dates": {"de": "Termine", "en": "Dates"},
    "past_dates": {"de": "Vergangene Termine", "en": "Past dates"},
    "add_to_calendar": {"de": "In den Kalender eintragen (.ics)", "en": "Add to calendar (.ics)"},
    "tickets_at": {"de": "Karten bei {vendor}", "en": "Tickets from {vendor}"},
    "price": {"de": "Preis", "en": "Price"},
    "room": {"de": "Saal", "en": "Room"},
    "was": {"de": "ursprünglich {date}", "en": "originally {date}"},
    "place": {"de": "Ort", "en": "Venue"},
    "map": {"de": "Auf OpenStreetMap anzeigen", "en": "Show on OpenStreetMap"},
    "venue_website": {"de": "Website des Veranstaltungsorts", "en": "Venue website"},
    "accessibility": {"de": "Barrierefreiheit", "en": "Accessibility"},
    "about": {"de": "Beschreibung", "en": "Description"},
    "organiser": {"de": "Veranstalter", "en": "Organiser"},
    "event_website": {"de": "Website der Veranstaltung", "en": "Event website"},
    "sources": {"de": "Quellen", "en": "Sources"},
    "sources_text": {"de": "Diese Angaben stammen von:", "en": "This information comes from:"},
    "image_credit": {"de": "Bild", "en": "Image"},
    "licence": {"de": "Lizenz", "en": "Licence"},
    "back": {"de": "Zurück zur Übersicht", "en": "Back to all events"},
    "not_found_title": {"de": "Nicht gefunden", "en": "Not found"},
    "not_found": {
        "de": "Diese Veranstaltung gibt es nicht (mehr).",
        "en": "This event does not exist (any more).",
    },
    "gone_title": {"de": "Nicht mehr im Kalender", "en": "No longer listed"},
    "gone": {
        "de": "Die Redaktion hat diese Veranstaltung aus dem Kalender genommen.",
        "en": "The editorial team has taken this event off the calendar.",
    },
    "bad_request_title": {"de": "Ungültige Anfrage", "en": "Invalid request"},
    "bad_request": {
        "de": "Ein Filter oder Link dieser Seite ist ungültig:",
        "en": "A filter or link of this page is not valid:",
    },
    "error_title": {"de": "Fehler", "en": "Error"},
    "server_error": {
        "de": "Diese Seite konnte gerade nicht erstellt werden; der Fehler wurde protokolliert.",
        "en": "This page could not be made just now; the error has been logged.",
    },
    "footer_api": {"de": "Offene Daten: JSON-API", "en": "Open data: JSON API"},
    "footer_widget": {"de": "Kalender auf Ihrer Website einbinden", "en": "Embed the calendar on your site"},
    "footer_all_feed": {"de": "Alle Termine als Kalender-Feed", "en": "All events as a calendar feed"},
    "embed_label": {"de": "Veranstaltungen", "en": "Events"},
    "embed_all": {"de": "Alle Termine im Stadtkalender", "en": "All events in the city calendar"},
    "embed_empty": {"de": "Zurzeit keine Termine.", "en": "No upcoming events."},
    "builder_title": {"de": "Kalender-Widget einbinden", "en": "Embed the calendar widget"},
    "builder_intro": {
        "de": "Wählen Sie aus, welche Termine das Widget zeigt, und kopieren Sie den Code "
        "in Ihre Seite. Das Widget passt sich über CSS-Variablen an Ihr Design an.",
        "en": "Choose which events the widget shows and copy the code into your page. "
        "The widget adapts to your design through CSS custom properties.",
    },
    "builder_limit": {"de": "Anzahl der Termine", "en": "Number of events"},
    "builder_lang": {"de": "Sprache des Widgets", "en": "Widget language"},
    "builder_update": {"de": "Code erzeugen", "en": "Make the code"},
    "builder_snippet": {"de": "Code für Ihre Seite", "en": "Code for your page"},
    "builder_iframe": {"de": "Ohne JavaScript: als iframe", "en": "Without JavaScript: as an iframe"},
    "builder_preview": {"de": "Vorschau", "en": "Preview"},
    "builder_copy": {"de": "Kopieren", "en": "Copy"},
    "builder_copied": {"de": "Kopiert", "en": "Copied"},
    "builder_theme": {
        "de": "Farben und Schrift anpassen, zum Beispiel:",
        "en": "Adjust colours and font, for example:",
    },
    "german": {"de": "Deutsch", "en": "German"},
    "english": {"de": "Englisch", "en": "English"},
}


def month_name(month: int, lang: Lang) -> str:
    """The name of ``month`` (1–12) in ``lang``."""
    return _MONTHS[lang][month - 1]


def pick_language(explicit: str | None, accept_language: str | None) -> tuple[Lang, bool]:
    """The page language and whether the URL chose it: ``?lang=`` first, then ``Accept-Language``."""
    if explicit is not None:
        chosen = explicit.strip().lower()[:2]
        if chosen in LANGUAGES:
            return _as_lang(chosen), True
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip().replace(" ", "")
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    for _quality, _position, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return _as_lang(primary), False
        if primary == "*":
            break
    return DEFAULT, False


def _as_lang(code: str) -> Lang:
    return "en" if code == "en" else "de"


@dataclass(frozen=True, slots=True)
class Texts:
    """Message texts and date, time and price formats of one language."""

    lang: Lang

    def __call__(self, key: str, **values: object) -> str:
        """The message ``key``, with ``{name}`` placeholders filled from ``values``."""
        try:
            text = MESSAGES[key][self.lang]
        except KeyError as exc:
            raise KeyError(f"no {self.lang!r} text for message {key!r}") from exc
        return text.format(**values) if values else text

    def long_date(self, day: date) -> str:
        """``Samstag, 28. März 2026`` / ``Saturday 28 March 2026``."""
        weekday, month = _WEEKDAYS[self.lang][day.weekday()], _MONTHS[self.lang][day.month - 1]
        if self.lang == "de":
            return f"{weekday}, {day.day}. {month} {day.year}"
        return f"{weekday} {day.day} {month} {day.year}"

    def day_heading(self, day: date, today: date) -> str:
        """A day's heading in the list: the long date, led by "Heute"/"Morgen" when it is."""
        text = self.long_date(day)
        if day == today:
            return f"{self('today')}, {text}"
        if (day - today).days == 1:
            return f"{self('tomorrow')}, {text}"
        return text

    def short_date(self, day: date) -> str:
        """``Sa., 28.03.`` / ``Sat 28 Mar`` (as the widget's ``Intl.DateTimeFormat`` writes them)."""
        weekday = _WEEKDAYS_SHORT[self.lang][day.weekday()]
        if self.lang == "de":
            return f"{weekday}, {day.day:02d}.{day.month:02d}."
        return f"{weekday} {day.day} {_MONTHS_SHORT['en'][day.month - 1]}"

    def medium_date(self, day: date) -> str:
        """``28. März 2026`` / ``28 Mar 2026``."""
        if self.lang == "de":
            return f"{day.day}. {_MONTHS['de'][day.month - 1]} {day.year}"
        return f"{day.day} {_MONTHS_SHORT['en'][day.month - 1]} {day.year}"

    def clock(self, instant: datetime) -> str:
        """The Berlin wall-clock time, 24-hour: ``20:00``."""
        local = instant.astimezone(BERLIN)
        return f"{local.hour:02d}:{local.minute:02d}"

    def time_range(self, start: datetime, end: datetime | None, all_day: bool) -> str:
        """``20:00–22:00 Uhr`` / ``20:00–22:00``, ``ganztägig`` for all-day occurrences."""
        if all_day:
            return self("all_day")
        text = self.clock(start)
        same_day = end is not None and end.astimezone(BERLIN).date() == start.astimezone(BERLIN).date()
        if end is not None and end > start and same_day:
            text += f"–{self.clock(end)}"
        return text + self("time_suffix")

    def money(self, amount: Decimal, currency: str = "EUR") -> str:
        """``19,50 €`` / ``€19.50``; whole amounts without decimals."""
        symbol = _CURRENCY_SYMBOLS.get(currency, currency)
        whole = amount == amount.to_integral_value()
        number = f"{int(amount)}" if whole else f"{amount:.2f}"
        if self.lang == "de":
            return f"{number.replace('.', ',')}\u00a0{symbol}"
        return f"{symbol}{number}" if len(symbol) == 1 else f"{symbol}\u00a0{number}"


_CURRENCY_SYMBOLS: Mapping[str, str] = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}
