"""Uploading a file in the venue portal: an .ics calendar or schema.org JSON-LD, previewed, then written.

The file is read and checked exactly as a push body (:func:`calendar_api.push.handlers.check_batch`):
size limit, strict parsing, the venue check (an event at another venue's place refuses the file).
The preview says per event whether it would be added, changed, cancelled or stay as it is; nothing is
written until the venue commits, and the commit checks the file again and writes it through
:func:`calendar_api.push.handlers.apply_write` (as ``POST /api/v1/push/events``: nothing vanishes).
The file travels from preview to commit inside the page's form (base64), not on the server.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.responses import Response

from aggregator.ingest import current_venues
from aggregator.models import SourceRecord
from aggregator.normalise.pipeline import normalise
from aggregator.serialise import content_hash
from aggregator.types import Status
from calendar_api.admin.console import PORTAL_PREFIX, VENUES, Console, Context, NavItem, Problem, Texts
from calendar_api.admin.portal_entry_pages import ingest_context, portal_write_token, write
from calendar_api.push.handlers import check_batch
from calendar_api.push.push_problems import PushProblem
from calendar_api.push.validate import JSON_TYPES

MAX_UPLOAD_BYTES = 1_000_000
"""A file larger than this is refused before it is read (a venue's programme is far smaller)."""
ICAL = "text/calendar"
JSONLD = "application/ld+json"

TEXTS: Texts = {
    "nav_portal_upload": ("Datei hochladen", "Upload a file"),
    "upload_title": ("Termine aus einer Datei", "Events from a file"),
    "upload_intro": (
        "Laden Sie eine iCalendar-Datei (.ics) oder schema.org-JSON-LD (.json, .jsonld) hoch, höchstens "
        "{size} kB. Sie sehen zuerst, was sich ändern würde; geschrieben wird erst, wenn Sie bestätigen.",
        "Upload an iCalendar file (.ics) or schema.org JSON-LD (.json, .jsonld), at most {size} kB. You "
        "see first what would change; nothing is written until you confirm.",
    ),
    "upload_file": ("Datei", "File"),
    "upload_button": ("Vorschau zeigen", "Show the preview"),
    "upload_preview": ("Vorschau: {name}", "Preview: {name}"),
    "upload_counts": (
        "{added} neu, {changed} geändert, {cancelled} abgesagt, {unchanged} unverändert",
        "{added} added, {changed} changed, {cancelled} cancelled, {unchanged} unchanged",
    ),
    "upload_commit": ("Übernehmen", "Commit"),
    "upload_discard": ("Verwerfen", "Discard"),
    "upload_refused": ("Die Datei wird nicht übernommen:", "The file is not taken:"),
    "upload_no_file": ("Wählen Sie eine Datei.", "Choose a file."),
    "upload_too_large": (
        "Die Datei ist größer als {size} kB.",
        "The file is larger than {size} kB.",
    ),
    "upload_bad_form": (
        "Die Vorschau ist beschädigt; laden Sie die Datei neu hoch.",
        "The preview is damaged; upload the file again.",
    ),
    "change_added": ("neu", "added"),
    "change_changed": ("geändert", "changed"),
    "change_cancelled": ("abgesagt", "cancelled"),
    "change_unchanged": ("unverändert", "unchanged"),
    "upload_change": ("Änderung", "Change"),
    "notice_upload_committed": ("Die Datei ist übernommen.", "The file is committed."),
}

NAV = [NavItem(f"{PORTAL_PREFIX}/upload", "nav_portal_upload", VENUES)]


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One event of the file and what committing it would do."""

    record_id: str
    title: str
    start: str
    change: str


def _kind(name: str, body: bytes) -> str:
    lowered = name.lower()
    if lowered.endswith((".ics", ".ical", ".ifb")) or body.lstrip()[:15].upper() == b"BEGIN:VCALENDAR":
        return ICAL
    return JSONLD


def preview(ctx: Context, body: bytes, kind: str) -> list[PreviewRow]:
    """What committing ``body`` would do, event by event; raises :class:`PushProblem` when it is refused."""
    token = portal_write_token(ctx)
    ictx = ingest_context(ctx)
    batch = check_batch(ictx, token, "upsert", None, body, kind, ctx.now)
    result = normalise(
        [item.listing for item in batch.items],
        venues=current_venues(ictx),
        categories=ictx.categories,
        now=ctx.now,
    )
    ids = [listing.record_id for listing in result.listings]
    with ctx.factory() as session:
        stored = {
            r.record_id: r
            for at in range(0, len(ids), 500)
            for r in session.scalars(
                select(SourceRecord).where(
                    SourceRecord.source == token.source, SourceRecord.record_id.in_(ids[at : at + 500])
                )
            )
        }
    rows = []
    for listing in result.listings:
        old = stored.get(listing.record_id)
        cancelled = listing.status == Status.CANCELLED
        was_cancelled = old is not None and (old.data or {}).get("status") == Status.CANCELLED.value
        if cancelled and not was_cancelled:
            change = "cancelled"
        elif old is None:
            change = "added"
        elif old.content_hash != content_hash(listing) or not old.active:
            change = "changed"
        else:
            change = "unchanged"
        start = ctx.when(listing.start) if listing.start else "–"
        rows.append(PreviewRow(listing.record_id, listing.title, start, change))
    return rows


def _refusal(problem: PushProblem) -> list[str]:
    errors = problem.extra.get("errors", [])[:20]
    return [problem.detail, *(f"{e.get('path', '')}: {e.get('reason', '')}" for e in errors)]


def upload_form(ctx: Context, *, status: int = 200, errors: list[str] | None = None) -> Response:
    """``/venue/upload``: choose a file."""
    return ctx.render(
        "portal_upload.html", status=status, errors=errors or [], size=MAX_UPLOAD_BYTES // 1000, rows=None
    )


def upload(ctx: Context) -> Response:
    """Read the file and show the preview (nothing is written)."""
    upload = ctx.form.get("file") if ctx.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return upload_form(ctx, status=400, errors=[ctx.t("upload_no_file")])
    body = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(body) > MAX_UPLOAD_BYTES:
        return upload_form(ctx, status=413, errors=[ctx.t("upload_too_large", size=MAX_UPLOAD_BYTES // 1000)])
    kind = _kind(upload.filename, body)
    try:
        rows = preview(ctx, body, kind)
    except PushProblem as problem:
        return upload_form(
            ctx, status=problem.status if problem.status in (403, 413, 415) else 400, errors=_refusal(problem)
        )
    counts = {
        name: sum(1 for r in rows if r.change == name)
        for name in ("added", "changed", "cancelled", "unchanged")
    }
    return ctx.render(
        "portal_upload.html",
        errors=[],
        size=MAX_UPLOAD_BYTES // 1000,
        rows=rows,
        counts=counts,
        name=upload.filename[:200],
        kind=kind,
        payload=base64.b64encode(body).decode("ascii"),
    )


def commit(ctx: Context) -> Response:
    """Check the previewed file again and write it."""
    kind = ctx.field("kind")
    try:
        body = base64.b64decode(ctx.field("payload"), validate=True)
    except (binascii.Error, ValueError):
        body = b""
    if kind not in (ICAL, *JSON_TYPES) or not body or len(body) > MAX_UPLOAD_BYTES:
        raise Problem(400, ctx.t("upload_bad_form"))
    try:
        write(ctx, "upsert", None, body, "portal.upload", content_type=kind)
    except PushProblem as problem:
        return upload_form(
            ctx, status=problem.status if problem.status in (403, 409) else 400, errors=_refusal(problem)
        )
    return ctx.done(f"{PORTAL_PREFIX}/", "upload_committed")


def register(console: Console) -> None:
    """``/venue/upload`` (the form and the preview) and ``/venue/upload/commit``."""
    console.page("/upload", upload_form, roles=VENUES, prefix=PORTAL_PREFIX)
    console.page("/upload", upload, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX, multipart=True)
    console.page("/upload/commit", commit, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
