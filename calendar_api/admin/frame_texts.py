"""The texts of the console's frame: layout, navigation, and the guard's refusals (German, English)."""

from __future__ import annotations

from calendar_api.admin.console import Texts

FRAME_TEXTS: Texts = {
    "console_name": ("Redaktion · Stadtkalender", "Editorial console · Stadtkalender"),
    "portal_name": ("Veranstaltungsorte · Stadtkalender", "Venues · Stadtkalender"),
    "skip": ("Zum Inhalt springen", "Skip to content"),
    "main_nav": ("Hauptnavigation", "Main navigation"),
    "other_language_label": ("English", "Deutsch"),
    "signed_in_as": ("Angemeldet als {name}", "Signed in as {name}"),
    "sign_out": ("Abmelden", "Sign out"),
    "public_site": ("Öffentliche Seite", "Public site"),
    "error_title": ("Das hat nicht geklappt", "That did not work"),
    "back_to_console": ("Zurück zur Übersicht", "Back to the overview"),
    "problem_signed_out": (
        "Bitte melden Sie sich an (oder Ihre Sitzung ist abgelaufen).",
        "Please sign in (or your session has expired).",
    ),
    "problem_forbidden": (
        "Ihr Konto darf diese Seite nicht öffnen.",
        "Your account may not open this page.",
    ),
    "problem_csrf": (
        "Das Formular war veraltet oder kam nicht von dieser Seite. Bitte laden Sie die Seite neu und "
        "versuchen Sie es noch einmal.",
        "The form was stale or did not come from this site. Please reload the page and try again.",
    ),
    "problem_too_large": (
        "Die Datei ist zu groß (höchstens 2 MB).",
        "The file is too large (at most 2 MB).",
    ),
    "problem_key_only_api": (
        "Ein Schlüssel im Authorization-Header gilt nur für die JSON-API unter /api/v1/admin.",
        "A key in the Authorization header is accepted by the JSON API under /api/v1/admin only.",
    ),
    "problem_bad_key": (
        "Dieser API-Schlüssel gilt nicht (mehr).",
        "This API key is not (or no longer) valid.",
    ),
    "page_of": ("Seite {page} von {pages}", "Page {page} of {pages}"),
    "previous": ("Zurück", "Previous"),
    "next": ("Weiter", "Next"),
    "filter": ("Filtern", "Filter"),
    "none_yet": ("Noch keine Einträge.", "No entries yet."),
}
