"""The error a reader raises when a document cannot be read as a whole."""

from __future__ import annotations


class SourceError(Exception):
    """A source could not be read or parsed as a whole; the run fails with this message."""

    def __init__(self, source: str, message: str, url: str | None = None) -> None:
        self.source = source
        self.message = message
        self.url = url
        where = f" ({url})" if url else ""
        super().__init__(f"{source}: {message}{where}")
