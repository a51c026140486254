"""Record a source's live documents as a snapshot folder (``stadtkalender record SOURCE``).

:func:`record` runs the source's own ``fetch()`` through a :class:`RecordingFetcher`, which saves
every document it hands out and merges it into ``urls.json`` (see :mod:`sources.snapshots`), so a
fixture is refreshed from the real site by one command and replayed with ``SnapshotFetcher``.
A URL recorded before keeps its file name; new files are named after the URL's path and query.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sources.base import Document, Fetcher, Source, SourceError
from sources.snapshots import SnapshotEntry, read_index, write_index

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 80
_EXTENSIONS = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/json": ".json",
    "application/ld+json": ".json",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/rss+xml": ".xml",
    "application/atom+xml": ".xml",
    "text/calendar": ".ics",
    "text/plain": ".txt",
}


def file_name_for(url: str, content_type: str) -> str:
    """A safe file name for ``url``: path and query in ``[A-Za-z0-9._-]``, extension from the type."""
    parts = urlsplit(url)
    stem = parts.path.strip("/") + (f"_{parts.query}" if parts.query else "")
    stem = _UNSAFE.sub("-", stem).strip("-.") or "index"
    extension = _extension(content_type, parts.path)
    if stem.lower().endswith(extension):
        stem = stem[: -len(extension)]
    if len(stem) > _MAX_STEM:
        stem = f"{stem[: _MAX_STEM - 9]}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    return stem + extension


def _extension(content_type: str, path: str) -> str:
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in _EXTENSIONS:
        return _EXTENSIONS[media_type]
    suffix = Path(path).suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        return suffix
    if not media_type:
        return ".html"
    return mimetypes.guess_extension(media_type) or ".bin"


class RecordingFetcher:
    """A :class:`~sources.base.Fetcher` that passes each request on and saves the answer in ``folder``."""

    def __init__(self, inner: Fetcher, folder: Path) -> None:
        self.inner = inner
        self.folder = folder
        self.index = read_index(folder)
        self.recorded: dict[str, str] = {}

    def new_run(self) -> None:
        """Start a run of the inner fetcher."""
        self.inner.new_run()

    def now(self) -> datetime:
        """The inner fetcher's now."""
        return self.inner.now()

    def get(self, url: str) -> Document:
        """Fetch ``url`` from the inner fetcher, write the body, update ``urls.json``."""
        document = self.inner.get(url)
        existing = self.index.get(url)
        name = existing.file if existing else self._unused_name(url, document.content_type)
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(document.body)
        self.index[url] = SnapshotEntry(
            name, document.content_type or (existing.content_type if existing else ""), document.fetched_at
        )
        write_index(self.folder, self.index)
        self.recorded[url] = name
        return document

    def _unused_name(self, url: str, content_type: str) -> str:
        name = file_name_for(url, content_type)
        taken = {entry.file for other, entry in self.index.items() if other != url}
        stem, dot, extension = name.rpartition(".")
        counter = 2
        while name in taken:
            name = f"{stem}-{counter}{dot}{extension}"
            counter += 1
        return name


@dataclass(slots=True)
class RecordResult:
    """What one recording wrote: URL → file, listings parsed from it, and parse errors met."""

    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    listings: int = 0
    parse_errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        errors = f", {len(self.parse_errors)} parse errors" if self.parse_errors else ""
        return f"{len(self.files)} documents, {self.listings} listings into {self.folder}{errors}"


def record(source: Source, fetcher: Fetcher, folder: Path) -> RecordResult:
    """Run ``source.fetch()`` through ``fetcher`` and save every document into ``folder``.

    Each document is also parsed to count its listings; a parse error is collected, not raised,
    because recording a page whose layout changed is exactly how an adapter gets fixed. A fetch
    error is raised (documents recorded before it stay saved).
    """
    folder.mkdir(parents=True, exist_ok=True)
    recorder = RecordingFetcher(fetcher, folder)
    result = RecordResult(folder)
    previous, source.fetcher = source.fetcher, recorder
    try:
        for document in source.fetch():
            try:
                result.listings += len(source.read_document(document).listings)
            except SourceError as exc:
                result.parse_errors.append(str(exc))
    finally:
        source.fetcher = previous
        result.files = dict(recorder.recorded)
    return result
