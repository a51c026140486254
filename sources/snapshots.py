"""Offline fetching from a snapshot folder — the fixture format of every source.

A snapshot folder holds the recorded files and ``urls.json``, a JSON object mapping each URL to
its file, either as ``{"file": "programm.html", "content_type": "text/html; charset=utf-8"}``
or as just the file name (the content type is then guessed from the extension)::

    tests/fixtures/<source>/urls.json
    tests/fixtures/<source>/programm.html

:func:`sources.record.record` writes this format from a live run.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aggregator.config import Settings
from sources.base import Document, SourceError

URLS_FILE = "urls.json"
_SOURCE = "snapshot"

_EXTRA_TYPES = {
    ".ics": "text/calendar; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class SnapshotMissing(SourceError):
    """The snapshot folder has no file recorded for the requested URL."""

    def __init__(self, url: str, folder: Path) -> None:
        self.folder = folder
        super().__init__(_SOURCE, f"no snapshot of this URL in {folder}/{URLS_FILE}", url)


@dataclass(frozen=True, slots=True)
class SnapshotEntry:
    """One recorded URL: the file (relative to the folder) and its content type."""

    file: str
    content_type: str
    fetched_at: datetime | None = None


def guess_content_type(file_name: str) -> str:
    """The content type for a recorded file name, from its extension."""
    suffix = Path(file_name).suffix.lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(file_name)
    return guessed or "application/octet-stream"


def read_index(folder: Path) -> dict[str, SnapshotEntry]:
    """Read ``folder/urls.json`` (an absent file is an empty index); SourceError if malformed."""
    path = folder / URLS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(_SOURCE, f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SourceError(_SOURCE, f"{path} must be a JSON object mapping URL to file")
    index: dict[str, SnapshotEntry] = {}
    for url, value in data.items():
        if isinstance(value, str):
            index[url] = SnapshotEntry(value, guess_content_type(value))
        elif isinstance(value, dict) and isinstance(value.get("file"), str):
            content_type = value.get("content_type") or guess_content_type(value["file"])
            fetched_at = _instant(value.get("fetched_at"), path)
            index[url] = SnapshotEntry(value["file"], str(content_type), fetched_at)
        else:
            raise SourceError(_SOURCE, f"{path}: entry for {url!r} needs a file name", url)
    return index


def _instant(value: object, path: Path) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(str(value))
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise SourceError(_SOURCE, f"{path}: fetched_at {value!r} is not an ISO instant with a zone")
    return instant


def _entry_data(entry: SnapshotEntry) -> dict[str, str]:
    data = {"file": entry.file, "content_type": entry.content_type}
    if entry.fetched_at is not None:
        data["fetched_at"] = entry.fetched_at.isoformat()
    return data


def write_index(folder: Path, index: dict[str, SnapshotEntry]) -> None:
    """Write ``folder/urls.json`` sorted by URL: file, content type and (if known) when it was fetched."""
    data = {url: _entry_data(e) for url, e in sorted(index.items())}
    (folder / URLS_FILE).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class SnapshotFetcher:
    """A :class:`~sources.base.Fetcher` that serves recorded files instead of the network.

    Each document says it was fetched when it was recorded (the entry's ``fetched_at`` in ``urls.json``,
    else ``recorded_at``), so a replay reads the pages exactly as on that day (the year of "Sa 12. Dez",
    the window), whatever today is.
    """

    def __init__(self, folder: Path, recorded_at: datetime) -> None:
        if recorded_at.tzinfo is None:
            raise ValueError(f"recorded_at must be aware, not {recorded_at!r}")
        self.folder = Path(folder)
        self.recorded_at = recorded_at
        self._index: dict[str, SnapshotEntry] | None = None

    @property
    def index(self) -> dict[str, SnapshotEntry]:
        """The URL → file map of the folder (read once)."""
        if self._index is None:
            if not (self.folder / URLS_FILE).exists():
                raise SourceError(_SOURCE, f"{self.folder} has no {URLS_FILE}")
            self._index = read_index(self.folder)
        return self._index

    def get(self, url: str) -> Document:
        """The recorded document for ``url``; :class:`SnapshotMissing` if it was never recorded."""
        entry = self.index.get(url)
        if entry is None:
            raise SnapshotMissing(url, self.folder)
        path = self.folder / entry.file
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise SourceError(_SOURCE, f"snapshot file {path} unreadable: {exc}", url) from exc
        return Document(
            url=url,
            body=body,
            content_type=entry.content_type,
            fetched_at=entry.fetched_at or self.recorded_at,
        )

    def new_run(self) -> None:
        """Nothing to reset: a replay has no per-run budget."""

    def now(self) -> datetime:
        """The day the snapshot was taken: today, for a replay."""
        return self.recorded_at


def snapshot_dir(settings: Settings, source_name: str) -> Path:
    """The snapshot folder of ``source_name``: ``<ingest.snapshots_dir>/<source_name>``."""
    return settings.project_path(settings.ingest.snapshots_dir) / source_name
