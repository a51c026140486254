"""Static publishing: the standard feeds and JSON listings written as files, with .gz and .br siblings.

:func:`publish` asks the real ASGI app, in process, for every URL it publishes — the feeds of all events,
of each venue and each category (the lists come from ``/api/v1/venues`` and ``/api/v1/categories``, so
they are exactly what the API links to), the JSON listings and the widget's script and default data — and
writes the answers under a directory at the same URL paths. The bytes are the app's own: the plain file is
the identity answer, ``.gz`` and ``.br`` the app's gzip and brotli answers (compressed here only for bodies
the app sends plain because they are small). A URL with a query is written as ``PATH@QUERY`` (nginx:
``try_files $uri@$args``).

``_etags.json`` maps each URL to its file, ETag, Last-Modified and Content-Type, and keeps the data
version and Berlin day it shows. A file whose bytes did not change is not touched (its mtime and so
nginx's ETag stay); changed files are written to a temporary name and renamed; a file's mtime is its
Last-Modified. Files of URLs no longer published (a venue gone) are removed.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import brotli
from starlette.types import ASGIApp, Message

from aggregator.types import BERLIN

MANIFEST = "_etags.json"
FIXED_URLS = (
    "/feeds/events.ics",
    "/api/v1/events",
    "/api/v1/events?limit=5",  # the widget's default request
    "/api/v1/venues",
    "/api/v1/categories",
    "/embed/widget.js",
)
"""Published besides one feed per venue and per category (a URL the app answers 404, e.g. the widget
script when the web pages are not part of the app, is left out)."""
CODINGS = (("identity", ""), ("gzip", ".gz"), ("br", ".br"))


class PublishError(Exception):
    """Publishing failed: what and where."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class Answer:
    """One GET answered by the app."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class PublishReport:
    """What one :func:`publish` wrote: URLs and files written, files unchanged and files removed."""

    urls: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    removed: list[Path] = field(default_factory=list)


def file_name(url: str) -> str:
    """The path under the publishing directory for ``url`` (``/a/b?x=1`` → ``a/b@x=1``)."""
    parts = urlsplit(url)
    path = parts.path.lstrip("/")
    if not path or ".." in path.split("/"):
        raise PublishError(url, "not a publishable path")
    return f"{path}@{parts.query}" if parts.query else path


async def get(app: ASGIApp, url: str, accept_encoding: str) -> Answer:
    """GET ``url`` from ``app`` in process (an HTTP/1.1 request from nowhere, as a proxy would send it)."""
    parts = urlsplit(url)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode("ascii"),
        "root_path": "",
        "query_string": parts.query.encode("ascii"),
        "headers": [(b"host", b"publish.invalid"), (b"accept-encoding", accept_encoding.encode("ascii"))],
        "client": ("127.0.0.1", 0),
        "server": ("publish.invalid", 80),
        "state": {},
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], headers, body)


async def _urls(app: ASGIApp) -> list[str]:
    """The fixed URLs and one feed per venue and per category, as the API lists them."""
    urls = list(FIXED_URLS)
    for listing, key in (("/api/v1/venues", "venues"), ("/api/v1/categories", "categories")):
        answer = await get(app, listing, "identity")
        if answer.status != 200:
            raise PublishError(listing, f"the app answered {answer.status}")
        for item in json.loads(answer.body)[key]:
            urls.append(urlsplit(item["feeds"]["url"]).path)
    return urls


async def _fetch_all(app: ASGIApp) -> dict[str, dict[str, Answer]]:
    answers: dict[str, dict[str, Answer]] = {}
    for url in await _urls(app):
        by_coding = {coding: await get(app, url, coding) for coding, _suffix in CODINGS}
        status = by_coding["identity"].status
        if status == 404 and url in FIXED_URLS:
            continue
        if status != 200:
            raise PublishError(url, f"the app answered {status}")
        answers[url] = by_coding
    return answers


def publish(app: ASGIApp, directory: Path, *, version: str = "", day: str = "") -> PublishReport:
    """Write every published URL of ``app`` under ``directory`` (created if missing); see the module doc.

    ``version`` and ``day`` are recorded in the manifest (what :func:`due` compares). Raises
    :class:`PublishError` naming the directory or URL when something cannot be written or fetched.
    """
    _prepare(directory)
    answers = anyio.run(_fetch_all, app)
    previous = read_manifest(directory)
    report = PublishReport(urls=list(answers))
    entries: dict[str, dict[str, str]] = {}
    for url, by_coding in answers.items():
        plain = by_coding["identity"]
        name = file_name(url)
        modified = parsedate_to_datetime(plain.headers["last-modified"]).timestamp()
        for coding, suffix in CODINGS:
            target = directory / (name + suffix)
            if _write(target, _encoded(coding, by_coding[coding], plain.body), modified):
                report.written.append(target)
            else:
                report.unchanged += 1
        entries[url] = {
            "file": name,
            "etag": plain.headers["etag"],
            "last_modified": plain.headers["last-modified"],
            "content_type": plain.headers["content-type"],
        }
    for url, entry in previous.get("urls", {}).items():
        if url not in entries and isinstance(entry, dict) and isinstance(entry.get("file"), str):
            for _coding, suffix in CODINGS:
                stale = directory / (entry["file"] + suffix)
                if stale.is_file():
                    stale.unlink()
                    report.removed.append(stale)
    manifest = {"version": version, "day": day, "urls": entries}
    _write(directory / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8") + b"\n", None)
    return report


def _encoded(coding: str, answer: Answer, plain: bytes) -> bytes:
    """The app's answer in ``coding``; compressed here when the app sent a small body plain."""
    sent = answer.headers.get("content-encoding", "identity")
    if sent == coding:
        return answer.body
    if coding == "gzip":
        return gzip.compress(plain, compresslevel=9, mtime=0)
    compressed = brotli.compress(plain, quality=11)
    assert isinstance(compressed, bytes)
    return compressed


def read_manifest(directory: Path) -> dict[str, Any]:
    """The last manifest written under ``directory`` (empty when there is none or it is unreadable)."""
    try:
        found = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def due(directory: Path, version: str, day: str) -> bool:
    """Whether the published files show another data version or day than ``version`` and ``day``."""
    manifest = read_manifest(directory)
    return (manifest.get("version"), manifest.get("day")) != (version, day)


def _prepare(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise PublishError(str(directory), "exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(str(directory), f"cannot create the directory ({exc.strerror})") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PublishError(str(directory), "the directory is not writable")


def _write(target: Path, data: bytes, modified: float | None) -> bool:
    """Write ``data`` to ``target`` atomically unless it holds exactly that already; True when written."""
    try:
        if target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise PublishError(str(target), f"cannot read ({exc.strerror})") from exc
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)
            if modified is not None:
                os.utime(temporary, (modified, modified))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise PublishError(str(target), f"cannot write ({exc.strerror})") from exc
    return True


def publish_day(now: datetime) -> str:
    """The Berlin day the feeds' windows are computed from (they move at Berlin midnight)."""
    return now.astimezone(BERLIN).date().isoformat()
