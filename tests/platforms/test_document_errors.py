"""The refusals of a whole document share one shape: origin, reason, source and one message format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.formats.errors import DocumentError, SourceError
from aggregator.formats.icalendar import NotACalendar
from aggregator.formats.schemaorg.json_blocks import NotAnEventDocument
from sources.base import Document, LayoutChanged
from sources.platforms.detect import ImportFailed
from sources.platforms.ical import ICalFeedSource
from sources.platforms.jsonld import JsonLdSource

FETCHED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
URL = "https://a.example/feed"


@pytest.mark.parametrize(
    ("error", "source", "message"),
    [
        (NotACalendar("a.ics", "it is empty"), "ical", "a.ics is not an iCalendar file: it is empty"),
        (NotAnEventDocument("", "it is HTML"), "jsonld", "<data> has no usable JSON-LD: it is HTML"),
        (ImportFailed("b.txt", "unknown"), "import", "b.txt cannot be imported: unknown"),
    ],
    ids=["ical", "jsonld", "import"],
)
def test_each_refusal_names_origin_reason_and_default_source(
    error: DocumentError, source: str, message: str
) -> None:
    assert isinstance(error, SourceError)
    assert (error.source, error.message, error.url) == (source, message, None)
    assert error.reason == message.rsplit(": ", 1)[1]
    assert str(error) == f"{source}: {message}"


def test_a_given_source_and_message_win_over_the_defaults() -> None:
    error = ImportFailed("x.ics", "cut off", "kino", "x.ics is not an iCalendar file: cut off")
    assert (error.origin, error.reason) == ("x.ics", "cut off")
    assert str(error) == "kino: x.ics is not an iCalendar file: cut off"
    assert str(NotACalendar("x.ics", "cut off", "")) == ": x.ics is not an iCalendar file: cut off"


class _StrictFeed(ICalFeedSource):
    empty_page_is_error = True


class _StrictPage(JsonLdSource):
    empty_page_is_error = True


def _document(body: bytes) -> Document:
    return Document(url=URL, body=body, fetched_at=FETCHED_AT)


def test_a_strict_document_source_calls_data_of_another_format_a_changed_layout() -> None:
    page = _document(b"<html><body>Wartungsarbeiten</body></html>")
    with pytest.raises(LayoutChanged, match=r"^s: no iCalendar \(it ") as ical:
        _StrictFeed(options={"name": "s"}).read_document(page)
    assert isinstance(ical.value.__cause__, NotACalendar) and ical.value.url == URL
    with pytest.raises(LayoutChanged, match=r"^s: no JSON-LD \(the page has no application/ld\+json block\)"):
        _StrictPage(options={"name": "s"}).read_document(page)


def test_a_lenient_document_source_passes_the_format_error_on() -> None:
    page = _document(b"<html><body>Wartungsarbeiten</body></html>")
    with pytest.raises(NotACalendar):
        ICalFeedSource(options={"name": "s"}).read_document(page)
    with pytest.raises(NotAnEventDocument):
        JsonLdSource(options={"name": "s"}).read_document(page)


def test_a_strict_document_source_refuses_a_document_without_records() -> None:
    empty = _document(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    with pytest.raises(LayoutChanged, match=r"^s: iCalendar without any Event"):
        _StrictFeed(options={"name": "s"}).read_document(empty)
    assert ICalFeedSource(options={"name": "s"}).read_document(empty).listings == []
