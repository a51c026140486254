"""Bytes to text: what each reader makes of byte-order marks, BOM-less UTF-16 and bytes that are not UTF-8."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

import pytest

from aggregator.formats.decoding import decode
from aggregator.formats.schemaorg.json_blocks import NotAnEventDocument
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from sources.platforms.detect import ImportFailed, detect_format, import_listings

FETCHED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TEXT = "BEGIN:VCALENDAR\r\nSUMMARY:Café\r\n"
EVENT = (
    '{"@type": "Event", "name": "Café Müller", "startDate": "2026-03-05T20:00", "location": {"name": "X"}}'
)


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
        codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"),
        codecs.BOM_UTF8 + TEXT.encode(),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("utf-16-le"),
        TEXT.encode("utf-16-be"),
        TEXT.encode(),
    ],
    ids=[
        "utf-32-le",
        "utf-32-be",
        "utf-8-bom",
        "utf-16-le",
        "utf-16-be",
        "utf-16-le-no-bom",
        "utf-16-be-no-bom",
        "utf-8",
    ],
)
def test_the_calendar_decoder_honours_boms_and_guesses_utf16(data: bytes) -> None:
    notes: list[str] = []
    assert decode(data, notes) == TEXT and notes == []


def test_the_calendar_decoder_reads_other_bytes_as_windows_1252_and_says_so() -> None:
    notes: list[str] = []
    assert decode(TEXT.encode("cp1252"), notes) == TEXT
    assert notes == ["the file is not UTF-8; read as Windows-1252"]


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + EVENT.encode(),
        codecs.BOM_UTF16_LE + EVENT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + EVENT.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + EVENT.encode("utf-32-le"),
        EVENT.encode("cp1252"),
    ],
    ids=["utf-8-bom", "utf-16-le", "utf-16-be", "utf-32-le", "cp1252"],
)
def test_the_json_ld_reader_honours_boms_and_falls_back_to_windows_1252_quietly(data: bytes) -> None:
    result = parse_jsonld(data, source="s", fetched_at=FETCHED_AT)
    assert [listing.title for listing in result.listings] == ["Café Müller"]
    assert not any("UTF-8" in warning for warning in result.warnings)


def test_the_json_ld_reader_does_not_guess_utf16_without_a_bom() -> None:
    with pytest.raises(NotAnEventDocument, match="it is not valid JSON"):
        parse_jsonld(EVENT.encode("utf-16-le"), source="s", fetched_at=FETCHED_AT)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "ical"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "ical"),
        (codecs.BOM_UTF8 + EVENT.encode(), "jsonld"),
        (TEXT.encode("utf-16-le"), "unknown"),
    ],
    ids=["utf-32-bom", "utf-16-bom", "utf-8-bom", "utf-16-no-bom"],
)
def test_format_sniffing_honours_boms_only(data: bytes, kind: str) -> None:
    assert detect_format(data) == kind


def test_format_sniffing_replaces_bytes_that_are_not_utf8() -> None:
    with pytest.raises(ImportFailed, match="starts with '\ufffdt\ufffd'"):
        import_listings(b"\xe9t\xe9", source="s", fetched_at=FETCHED_AT, window=(FETCHED_AT, FETCHED_AT))


def test_the_options_name_each_difference() -> None:
    utf16 = "BEGIN:VCALENDAR".encode("utf-16-le")
    assert decode(utf16, guess_utf16=False) == utf16.decode("utf-8")
    assert decode(b"\xe9t\xe9", fallback="replace") == "\ufffdt\ufffd"
    assert decode(b"\xe9t\xe9") == "été"
    assert (
        decode(codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), guess_utf16=False, fallback="replace") == TEXT
    )
