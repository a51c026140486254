"""The errors a reader raises when a document cannot be read as a whole."""

from __future__ import annotations

from typing import ClassVar


class SourceError(Exception):
    """A source could not be read or parsed as a whole; the run fails with this message."""

    def __init__(self, source: str, message: str, url: str | None = None) -> None:
        self.source = source
        self.message = message
        self.url = url
        where = f" ({url})" if url else ""
        super().__init__(f"{source}: {message}{where}")


class DocumentError(SourceError):
    """One document was refused whole: ``origin`` names it (URL or file name), ``reason`` says why.

    Subclasses say what the document is not (``failure``) and which source to blame when the caller
    names none (``default_source``); the message reads "<origin> <failure>: <reason>".
    """

    failure: ClassVar[str] = "cannot be read"
    default_source: ClassVar[str] = "document"

    def __init__(
        self, origin: str, reason: str, source: str | None = None, message: str | None = None
    ) -> None:
        self.origin = origin
        self.reason = reason
        if message is None:
            message = f"{origin or '<data>'} {self.failure}: {reason}"
        super().__init__(self.default_source if source is None else source, message)
