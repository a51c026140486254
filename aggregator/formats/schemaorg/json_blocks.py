"""The JSON of a document: a JSON(-LD) document whole, or each ld+json block of an HTML page."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any, ClassVar

from bs4 import BeautifulSoup

from aggregator.formats.decoding import decode
from aggregator.formats.errors import DocumentError


class NotAnEventDocument(DocumentError):
    """The data holds no JSON-LD at all (no ld+json block, not JSON, or only broken JSON)."""

    failure: ClassVar[str] = "has no usable JSON-LD"
    default_source: ClassVar[str] = "jsonld"


def json_blocks(data: bytes | str, origin: str, source: str, notes: list[str]) -> list[Any]:
    """The JSON values of a JSON document, or of each ld+json block of an HTML page.

    A broken block costs only itself and is said in ``notes``; :class:`NotAnEventDocument` when
    there is no JSON at all (empty, another format, no block, or only broken ones).
    """
    text = _text(data)
    head = text.lstrip()
    if not head:
        raise NotAnEventDocument(origin, "it is empty", source)
    if head[0] in "{[":
        try:
            return [_loads(head)]
        except ValueError as error:
            raise NotAnEventDocument(origin, f"it is not valid JSON ({error})", source) from None
    if not head.startswith("<"):
        kind = (
            "an iCalendar file"
            if head[:15].upper().startswith("BEGIN:VCALENDAR")
            else "neither JSON nor HTML"
        )
        raise NotAnEventDocument(origin, f"it is {kind}", source)
    blocks = _ld_json_scripts(text)
    if not blocks:
        raise NotAnEventDocument(origin, "the page has no application/ld+json block", source)
    documents = _parse_blocks(blocks, notes)
    if not documents:
        raise NotAnEventDocument(origin, f"none of its {len(blocks)} ld+json blocks is valid JSON", source)
    return documents


def ld_json_values(page: str, notes: list[str]) -> list[Any]:
    """The JSON value of every ``application/ld+json`` block of an HTML page that parses (none: ``[]``).

    A block that is not JSON costs only itself, with a note.
    """
    return _parse_blocks(_ld_json_scripts(page), notes)


def _parse_blocks(blocks: list[str], notes: list[str]) -> list[Any]:
    values = []
    for number, block in enumerate(blocks, 1):
        try:
            values.append(_loads(block))
        except ValueError as error:
            notes.append(f"ld+json block {number} of {len(blocks)} is not valid JSON ({error}); skipped")
    return values


def _text(data: bytes | str) -> str:
    """The text of a document: BOMs honoured, UTF-8 by default, Windows-1252 as the last resort."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    return decode(data, guess_utf16=False)


def _ld_json_scripts(page: str) -> list[str]:
    """The text of every ``<script type="application/ld+json">`` element."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(page, "lxml")
    blocks = []
    for script in soup.find_all("script"):
        kind = str(script.get("type") or "").split(";")[0].strip().lower()
        if kind == "application/ld+json":
            blocks.append(script.get_text())
    return blocks


def _loads(text: str) -> Any:
    """Parse JSON leniently: control characters in strings, comment/CDATA wrappers, trailing commas."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    cleaned = re.sub(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$", "", text.strip())
    cleaned = re.sub(r",\s*([}\]])", r"\1", cleaned)
    return json.loads(cleaned, strict=False)
