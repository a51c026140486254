"""What an editor may override, field by field: the check of a new value, and its stored JSON form.

Event fields: ``title``, ``subtitle``, ``description``, ``categories``, ``url``, ``image``,
``organiser`` and ``venue`` (a venue slug). Occurrence fields: ``start``, ``end``, ``status`` (a
cancellation is ``status`` ``cancelled``) and ``room``. Besides fields there are two marks only editors
set: ``hidden`` (events and occurrences, with a reason) and ``highlight`` (events, optionally until a
date). :func:`check` turns what a form or a JSON body sends into the value derivation applies;
:func:`to_json` and :func:`from_json` store it. Errors name the field, in German and English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from aggregator.normalise.limits import TEXT_LIMITS, URL_LIMITS
from aggregator.text import clean_text
from aggregator.types import BERLIN, Status
from aggregator.urls import web_url

Level = Literal["event", "occurrence"]
Kind = Literal["line", "text", "url", "categories", "venue", "instant", "status"]

EDITOR = "editor"
"""What provenance (``Event.field_sources``) names as the source of an editor's value."""
HIDDEN = "hidden"
HIGHLIGHT = "highlight"
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One overridable field: where it lives, what it holds, and whether it may be empty."""

    name: str
    level: Level
    kind: Kind
    required: bool = False
    max_length: int = 0
    attribute: str = ""
    """The model attribute it sets (``venue`` sets ``venue_slug``); the name itself when empty."""

    @property
    def column(self) -> str:
        """The attribute of :class:`~aggregator.models.Event` / ``Occurrence`` this field sets."""
        return self.attribute or self.name


EVENT_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("title", "event", "line", required=True, max_length=TEXT_LIMITS["title"]),
        FieldSpec("subtitle", "event", "line", max_length=TEXT_LIMITS["subtitle"]),
        FieldSpec("description", "event", "text", max_length=TEXT_LIMITS["description"]),
        FieldSpec("categories", "event", "categories"),
        FieldSpec("url", "event", "url", max_length=URL_LIMITS["url"]),
        FieldSpec("image", "event", "url", max_length=URL_LIMITS["image"]),
        FieldSpec("organiser", "event", "line", max_length=TEXT_LIMITS["organiser"]),
        FieldSpec("venue", "event", "venue", max_length=120, attribute="venue_slug"),
    )
}
OCCURRENCE_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("start", "occurrence", "instant", required=True),
        FieldSpec("end", "occurrence", "instant"),
        FieldSpec("status", "occurrence", "status", required=True),
        FieldSpec("room", "occurrence", "line", max_length=TEXT_LIMITS["room"]),
    )
}


class OverrideError(ValueError):
    """An editor's input was refused; ``field`` names it, the message says why (German and English)."""

    def __init__(self, field: str, en: str, de: str) -> None:
        self.field = field
        self.message = en
        self.message_de = de
        super().__init__(f"{field}: {en}")

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``de`` or anything else for English)."""
        return self.message_de if lang == "de" else self.message


def spec_of(level: Level, name: str) -> FieldSpec:
    """The spec of field ``name`` at ``level``; :class:`OverrideError` when editors cannot set it."""
    table = EVENT_FIELDS if level == "event" else OCCURRENCE_FIELDS
    spec = table.get(name)
    if spec is None:
        known = ", ".join(table)
        raise OverrideError(
            name,
            f"{name!r} is not a field an editor can set on an {level}; these are: {known}",
            f"„{name}“ ist kein Feld, das die Redaktion setzen kann; möglich sind: {known}",
        )
    return spec


def check(spec: FieldSpec, raw: Any, *, categories: Iterable[str] | None = None) -> Any:
    """The value ``raw`` (form text or JSON) means for ``spec``, checked; :class:`OverrideError` if bad.

    An empty value (``None``, ``""``, ``[]`` for categories) clears an optional field, meaning "the
    event has none" — it still wins over the sources. ``categories`` is the vocabulary's slugs.
    Naive times are Berlin wall-clock time.
    """
    if spec.kind == "categories":
        return _categories(spec, raw, categories)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.required:
            raise OverrideError(
                spec.name, f"{spec.name} cannot be empty", f"{spec.name} darf nicht leer sein"
            )
        return None
    if spec.kind == "instant":
        return parse_instant(spec.name, raw)
    if not isinstance(raw, str):
        raise OverrideError(spec.name, f"{spec.name} must be text", f"{spec.name} muss Text sein")
    if spec.kind == "status":
        return _status(spec, raw)
    if spec.kind == "url":
        url = web_url(raw)
        if url is None or len(url) > spec.max_length:
            raise OverrideError(
                spec.name,
                f"{spec.name} must be an absolute http(s) link of at most {spec.max_length} characters",
                f"{spec.name} muss ein vollständiger http(s)-Link "
                f"mit höchstens {spec.max_length} Zeichen sein",
            )
        return url
    value = clean_text(raw, lines=spec.kind == "text").strip()
    if not value:
        return check(spec, None)
    if len(value) > spec.max_length:
        raise OverrideError(
            spec.name,
            f"{spec.name} has {len(value)} characters, at most {spec.max_length} are allowed",
            f"{spec.name} hat {len(value)} Zeichen, erlaubt sind höchstens {spec.max_length}",
        )
    return value


def _categories(spec: FieldSpec, raw: Any, known: Iterable[str] | None) -> list[str]:
    if raw is None:
        items: list[Any] = []
    elif isinstance(raw, str):
        items = [part for part in raw.replace(";", ",").split(",")]
    elif isinstance(raw, list):
        items = raw
    else:
        raise OverrideError(
            spec.name,
            "categories must be a list of category slugs",
            "Kategorien müssen eine Liste von Kategorie-Kürzeln sein",
        )
    if not all(isinstance(item, str) for item in items):
        raise OverrideError(
            spec.name, "every category must be a slug (text)", "jede Kategorie muss ein Kürzel sein"
        )
    slugs = list(dict.fromkeys(item.strip() for item in items if item.strip()))
    if known is not None:
        vocabulary = set(known)
        unknown = [slug for slug in slugs if slug not in vocabulary]
        if unknown:
            names = ", ".join(unknown)
            raise OverrideError(spec.name, f"unknown categories: {names}", f"unbekannte Kategorien: {names}")
    return slugs


def _status(spec: FieldSpec, raw: str) -> str:
    known = [status.value for status in Status]
    if raw.strip() not in known:
        raise OverrideError(
            spec.name,
            f"status {raw!r} is not one of {', '.join(known)}",
            f"Status „{raw}“ ist keiner von {', '.join(known)}",
        )
    return raw.strip()


def parse_instant(name: str, raw: Any) -> datetime:
    """An aware UTC datetime from a datetime or ISO 8601 text; naive means Berlin wall-clock time."""
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise OverrideError(
                name,
                f"{name} {raw!r} is not a date and time like 2026-12-24T18:00",
                f"{name} „{raw}“ ist kein Zeitpunkt wie 2026-12-24T18:00",
            ) from None
    else:
        raise OverrideError(name, f"{name} must be a date and time", f"{name} muss ein Zeitpunkt sein")
    if not 1900 <= moment.year < 2200:
        raise OverrideError(name, f"{name} lies outside 1900–2199", f"{name} liegt außerhalb 1900–2199")
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=BERLIN)
    return moment.astimezone(UTC)


def highlight_end(until: date | str | None) -> datetime | None:
    """The instant a highlight "until ``until``" ends: the Berlin midnight after that day (None: no end)."""
    if until is None or until == "":
        return None
    if isinstance(until, str):
        try:
            until = date.fromisoformat(until.strip())
        except ValueError:
            raise OverrideError(
                "until",
                f"{until!r} is not a date like 2026-12-31",
                f"„{until}“ ist kein Datum wie 2026-12-31",
            ) from None
    if not 1900 <= until.year < 2199:
        raise OverrideError("until", "the date lies outside 1900–2198", "das Datum liegt außerhalb 1900–2198")
    return datetime.combine(until + timedelta(days=1), time(), tzinfo=BERLIN).astimezone(UTC)


def highlight_last_day(end: datetime | None) -> date | None:
    """The last Berlin day a highlight ending at ``end`` covers (the inverse of :func:`highlight_end`)."""
    return None if end is None else (end.astimezone(BERLIN) - timedelta(days=1)).date()


def check_reason(reason: Any) -> str:
    """A hide's reason, cleaned; :class:`OverrideError` when it is missing or too long."""
    text = clean_text(reason, lines=True).strip() if isinstance(reason, str) else ""
    if not text:
        raise OverrideError(
            "reason",
            "say why it is hidden (a reason is required)",
            "Bitte einen Grund für das Verbergen angeben",
        )
    if len(text) > MAX_REASON:
        raise OverrideError(
            "reason",
            f"the reason has {len(text)} characters, at most {MAX_REASON} are allowed",
            f"der Grund hat {len(text)} Zeichen, erlaubt sind höchstens {MAX_REASON}",
        )
    return text


def to_json(name: str, value: Any) -> Any:
    """``value`` of field (or mark) ``name`` as stored in the override's JSON column."""
    if name == HIGHLIGHT:
        return {"until": None if value is None else value.astimezone(UTC).isoformat()}
    if name == HIDDEN:
        return True
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def from_json(name: str, stored: Any) -> Any:
    """The value derivation applies for a stored override of ``name`` (the inverse of :func:`to_json`)."""
    if name in ("start", "end"):
        return None if stored is None else datetime.fromisoformat(str(stored)).astimezone(UTC)
    if name == HIGHLIGHT:
        until = stored.get("until") if isinstance(stored, Mapping) else None
        return None if until is None else datetime.fromisoformat(str(until)).astimezone(UTC)
    if name == HIDDEN:
        return True
    if name == "categories":
        return [str(slug) for slug in stored or []]
    return stored
