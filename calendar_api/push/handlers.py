"""The HTTP side of the push API: authentication, rate limit, body limit, and the endpoints.

Order of checks for every request: token (401) → rate limit (429) → for writes, read-only (403)
→ body size (413) → media type and syntax (415/400) → venues (403) → records (422) → the write
(404/403/409). Every write attempt that got past the token and the rate limit is audited.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from aggregator.clock import Clock
from aggregator.config import Settings
from aggregator.ingest import IngestContext, current_venues
from aggregator.models import SourceRecord
from calendar_api.push import writes
from calendar_api.push.audit import read_log, record_write
from calendar_api.push.push_problems import PushProblem, unauthorized
from calendar_api.push.ratelimit import SharedWindowLimiter
from calendar_api.push.tokens import AuthError, PushToken, authenticate
from calendar_api.push.validate import (
    MAX_ID,
    Batch,
    BodyError,
    ForeignVenue,
    InvalidRecords,
    Rules,
    clean_line,
    read_batch,
)

PREFIX = "/api/v1/push"
MAX_FAULTS_SHOWN = 1000
_log = logging.getLogger(__name__)


class PushRuntime(Protocol):
    """What the push API needs of :class:`stadtkalender.runtime.Runtime`."""

    settings: Settings
    factory: sessionmaker[Session]


@dataclass(slots=True)
class Answer:
    """A write's status and JSON body."""

    status: int
    body: dict[str, Any]


def apply_write(
    ctx: IngestContext,
    token: PushToken,
    action: str,
    record_id: str | None,
    body: bytes,
    content_type: str | None,
    now: datetime,
) -> Answer:
    """Check ``body`` and write it for ``token`` — the one write path of the push API and the venue portal.

    ``action`` is ``upsert`` (POST /events), ``replace`` (PUT), ``cancel`` (DELETE) or ``sync``.
    Raises :class:`PushProblem` for anything refused; then nothing was written. Runs in a worker thread.
    """
    batch = (
        None if action == "cancel" else check_batch(ctx, token, action, record_id, body, content_type, now)
    )
    try:
        if action == "upsert":
            assert batch is not None
            result = writes.upsert(ctx, token, batch, now=now)
        elif action == "replace":
            assert batch is not None and record_id is not None
            result = writes.replace_event(ctx, token, record_id, batch, now=now)
        elif action == "cancel":
            assert record_id is not None
            result = writes.cancel_event(ctx, token, record_id, now=now)
        else:
            assert batch is not None
            result = writes.sync(ctx, token, batch, now=now)
    except writes.NotFound as missing:
        raise _not_found(missing.record_id) from missing
    except writes.Forbidden as forbidden:
        errors = [{"id": rid, "reason": forbidden.reason} for rid in forbidden.records]
        raise PushProblem(
            403,
            "push-forbidden",
            f"Nothing was written: events {', '.join(forbidden.records)} are {forbidden.reason}.",
            extra={"errors": errors},
        ) from forbidden
    except writes.Held as held:
        raise PushProblem(409, "push-held", held.message, extra={"run_id": held.run_id}) from held
    except writes.WriteFailed as failed:
        raise PushProblem(
            500,
            "push-write-failed",
            f"Nothing was written: {failed.message}",
            extra={"run_id": failed.run_id},
        ) from failed
    status = 201 if action == "replace" and result.created else 200
    return Answer(
        status,
        {
            "source": result.source,
            "run_id": result.run_id,
            "counts": result.counts(),
            "records": [outcome.as_json() for outcome in result.records],
        },
    )


def check_batch(
    ctx: IngestContext,
    token: PushToken,
    action: str,
    record_id: str | None,
    body: bytes,
    content_type: str | None,
    now: datetime,
) -> Batch:
    """The body read and checked as the push API does (:func:`calendar_api.push.validate.read_batch`).

    Raises :class:`PushProblem` for a body that is refused as a whole or has bad records.
    """
    rules = Rules(
        source=token.source,
        venues=token.venues,
        registry=current_venues(ctx),  # the stored registry, with the editors' aliases
        categories=ctx.categories,
        now=now,
        single_id=record_id,
        allow_empty=action == "sync",
    )
    try:
        return read_batch(body, content_type, rules)
    except BodyError as error:
        raise PushProblem(
            error.status, f"push-{error.kind}", f"Nothing was written: {error.detail}.", extra=error.extra
        ) from error
    except ForeignVenue as foreign:
        faults = [fault.as_json() for fault in foreign.faults]
        raise PushProblem(
            403,
            "push-forbidden",
            f"Nothing was written: {len(faults)} record(s) are at a place this token does "
            f"not write for (it writes for {', '.join(token.venues)}).",
            extra={"errors": faults[:MAX_FAULTS_SHOWN]},
        ) from foreign
    except InvalidRecords as invalid:
        raise _invalid(invalid) from invalid


def _json_response(status: int, body: Any) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(
        content, status_code=status, media_type="application/json", headers={"Cache-Control": "no-store"}
    )


class PushApi:
    """The ``/api/v1/push`` endpoints for one runtime."""

    def __init__(self, runtime: PushRuntime, *, clock: Clock) -> None:
        self.settings = runtime.settings
        self.factory = runtime.factory
        context = getattr(runtime, "ingest_context", None)
        if not isinstance(context, IngestContext):
            context = IngestContext(self.factory, self.settings, clock=clock)
        self.ctx = context
        self.limiter = SharedWindowLimiter(
            self.factory, self.settings.push.rate_limit_per_minute, clock=clock
        )
        self.max_body = self.settings.push.max_body_bytes
        self.base_url = self.settings.server.base_url.rstrip("/")
        self.docs_url = f"{self.base_url}/api/docs"
        self.clock = clock

    def routes(self) -> list[BaseRoute]:
        """Routes with their full paths (``/api/v1/push/...``)."""
        one = f"{PREFIX}/events/{{venue_event_id:path}}"
        return [
            _route(f"{PREFIX}/events", "push_events", POST=self.post_events, GET=self.list_events),
            _route(one, "push_event", PUT=self.put_event, DELETE=self.delete_event, GET=self.get_event),
            _route(f"{PREFIX}/sync", "push_sync", POST=self.post_sync),
            _route(f"{PREFIX}/log", "push_log", GET=self.get_log),
        ]

    # -- writes -------------------------------------------------------------------------------

    async def post_events(self, request: Request) -> Response:
        """Create or update one or many events (JSON-LD or iCalendar)."""
        return await self._write(request, "upsert")

    async def put_event(self, request: Request) -> Response:
        """Create or replace one event by the venue's id."""
        return await self._write(request, "replace", record_id=request.path_params["venue_event_id"])

    async def delete_event(self, request: Request) -> Response:
        """Mark one event (all its dates) cancelled."""
        return await self._write(request, "cancel", record_id=request.path_params["venue_event_id"])

    async def post_sync(self, request: Request) -> Response:
        """Replace the venue's whole programme."""
        return await self._write(request, "sync")

    async def _write(self, request: Request, action: str, *, record_id: str | None = None) -> Response:
        try:
            token = await self._token(request)
        except PushProblem as problem:
            return problem.response(self.docs_url)
        now = self.clock()
        try:
            if token.read_only:
                raise PushProblem(
                    403,
                    "push-read-only",
                    "This token is read-only: it can read the log and the venue's events, not write.",
                )
            if record_id is not None:
                _check_id(record_id)
            body = b"" if action == "cancel" else await self._body(request)
            answer = await run_in_threadpool(
                self._apply, token, action, record_id, body, request.headers.get("content-type"), now
            )
        except PushProblem as problem:
            response = problem.response(self.docs_url)
            summary = {
                "error": problem.kind,
                "detail": problem.detail,
                **{k: v for k, v in problem.extra.items() if k in ("errors", "run_id")},
            }
        except Exception:
            _log.exception("push %s by token %s failed", action, token.id)
            failure = PushProblem(
                500,
                "push-write-failed",
                "The write failed and has been logged; nothing was changed. Try again.",
            )
            response = failure.response(self.docs_url)
            summary = {"error": failure.kind}
        else:
            response = _json_response(answer.status, answer.body)
            summary = {k: answer.body[k] for k in ("run_id", "counts", "records") if k in answer.body}
        await run_in_threadpool(
            record_write,
            self.factory,
            token,
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            summary=summary,
            now=self.clock(),
        )
        return response

    def _apply(
        self,
        token: PushToken,
        action: str,
        record_id: str | None,
        body: bytes,
        content_type: str | None,
        now: datetime,
    ) -> Answer:
        """Check the body and write (runs in a worker thread)."""
        return apply_write(self.ctx, token, action, record_id, body, content_type, now)

    async def _body(self, request: Request) -> bytes:
        """The request body, refused as soon as it is known to be over the limit."""
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise PushProblem(
                415,
                "push-unsupported-media-type",
                f"Content-Encoding {encoding!r} is not accepted; send the body uncompressed.",
            )
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise PushProblem(400, "push-invalid-body", f"Content-Length {declared!r} is not a number.")
            if int(declared) > self.max_body:
                raise _too_large(int(declared), self.max_body)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise _too_large(size, self.max_body, streamed=True)
            chunks.append(chunk)
        return b"".join(chunks)

    # -- reads --------------------------------------------------------------------------------

    async def list_events(self, request: Request) -> Response:
        """The token's source's records, oldest first, a page at a time."""
        try:
            token = await self._token(request)
            limit = _int_parameter(request, "limit", default=100, low=1, high=500)
            after = _int_parameter(request, "after", default=0, low=0, high=2**62)
        except PushProblem as problem:
            return problem.response(self.docs_url)
        rows = await run_in_threadpool(self._records_page, token.source, limit, after)
        more = len(rows) > limit
        rows = rows[:limit]
        next_url = None
        if more and rows:
            next_url = f"{self.base_url}{PREFIX}/events?limit={limit}&after={rows[-1].id}"
        return _json_response(
            200,
            {
                "source": token.source,
                "venues": list(token.venues),
                "events": [self._record_json(row) for row in rows],
                "next": next_url,
            },
        )

    async def get_event(self, request: Request) -> Response:
        """One event of the token's source as stored (every date of its series)."""
        record_id = request.path_params["venue_event_id"]
        try:
            token = await self._token(request)
            _check_id(record_id)
        except PushProblem as problem:
            return problem.response(self.docs_url)
        rows = await run_in_threadpool(writes.stored_records, self.ctx, token.source, record_id)
        if not rows:
            return _not_found(record_id).response(self.docs_url)
        return _json_response(
            200,
            {
                "id": record_id,
                "source": token.source,
                "records": [self._record_json(row, full=True) for row in rows],
            },
        )

    async def get_log(self, request: Request) -> Response:
        """The audit log of the token's source, newest first."""
        try:
            token = await self._token(request)
            limit = _int_parameter(request, "limit", default=50, low=1, high=500)
            before = _int_parameter(request, "before", default=None, low=1, high=2**62)
        except PushProblem as problem:
            return problem.response(self.docs_url)
        page = await run_in_threadpool(
            lambda: read_log(self.factory, token.source, limit=limit, before=before)
        )
        next_url = (
            f"{self.base_url}{PREFIX}/log?limit={limit}&before={page.next_before}"
            if page.next_before is not None
            else None
        )
        return _json_response(
            200,
            {"source": token.source, "venues": list(token.venues), "entries": page.entries, "next": next_url},
        )

    def _records_page(self, source: str, limit: int, after: int) -> list[SourceRecord]:
        with self.factory() as session:
            return list(
                session.scalars(
                    select(SourceRecord)
                    .where(SourceRecord.source == source, SourceRecord.id > after)
                    .order_by(SourceRecord.id)
                    .limit(limit + 1)
                )
            )

    def _record_json(self, record: SourceRecord, *, full: bool = False) -> dict[str, Any]:
        data = record.data or {}
        body: dict[str, Any] = {
            "id": record.record_id,
            "title": data.get("title"),
            "start": data.get("start"),
            "end": data.get("end"),
            "status": data.get("status"),
            "venue": data.get("venue_slug"),
            "active": record.active,
            "missing_runs": record.missing_runs,
            "event_id": record.event_id,
            "occurrence_id": record.occurrence_id,
            "event_url": f"{self.base_url}/api/v1/events/{record.event_id}",
            "first_seen": record.first_seen.isoformat(),
            "last_seen": record.last_seen.isoformat(),
        }
        if full:
            body["data"] = {k: v for k, v in data.items() if k not in ("raw", "_kind")}
        return body

    # -- shared -------------------------------------------------------------------------------

    async def _token(self, request: Request) -> PushToken:
        """The request's token, counted against its rate limit; raises a 401 or 429 problem."""
        try:
            token = await run_in_threadpool(
                authenticate, self.factory, request.headers.get("authorization"), now=self.clock()
            )
        except AuthError as error:
            raise unauthorized(error.reason, presented=error.presented) from error
        wait = await run_in_threadpool(self.limiter.hit, f"token:{token.id}")
        if wait is not None:
            raise PushProblem(
                429,
                "push-rate-limited",
                f"This token may make {self.limiter.limit} requests a minute; try again in {wait} s.",
                extra={"retry_after": wait},
                headers={"Retry-After": str(wait)},
            )
        return token


def _invalid(invalid: InvalidRecords) -> PushProblem:
    own = _faults_by_record(invalid)
    records = []
    for path, record_id in invalid.records[:MAX_FAULTS_SHOWN]:
        if path in own:
            records.append({"path": path, "id": record_id, "result": "rejected", "errors": own[path]})
        else:
            records.append({"path": path, "id": record_id, "result": "not_written"})
    first = invalid.faults[0]
    count = len(invalid.faults)
    detail = (
        f"Nothing was written: {count} problem(s) in the body; the first is at {first.path}: "
        f"{first.reason}. Fix every listed field and send the whole request again."
    )
    return PushProblem(
        422,
        "push-invalid-events",
        detail,
        extra={
            "errors": [fault.as_json() for fault in invalid.faults[:MAX_FAULTS_SHOWN]],
            "errors_omitted": max(0, count - MAX_FAULTS_SHOWN),
            "records": records,
        },
    )


def _faults_by_record(invalid: InvalidRecords) -> dict[str, list[dict[str, str]]]:
    """Each record's faults, by the record's path: one pass over the faults (``$[1].x`` in ``$[1]``)."""
    paths = {path for path, _record_id in invalid.records}
    own: dict[str, list[dict[str, str]]] = {}
    for fault in invalid.faults:
        record = _record_of(fault.path, paths)
        if record is not None:
            own.setdefault(record, []).append({"path": fault.path, "reason": fault.reason})
    return own


def _record_of(path: str, records: set[str]) -> str | None:
    """The record whose path is ``path`` or a prefix of it ending before ``.`` or ``[``."""
    if path in records:
        return path
    for index, char in enumerate(path):
        if char in ".[" and path[:index] in records:
            return path[:index]
    return None


def _not_found(record_id: str) -> PushProblem:
    return PushProblem(404, "push-not-found", f"This venue has no event with id {record_id!r}.")


def _too_large(size: int, limit: int, *, streamed: bool = False) -> PushProblem:
    what = f"more than {limit} bytes arrived" if streamed else f"Content-Length {size} is over the limit"
    return PushProblem(
        413,
        "push-too-large",
        f"Nothing was written: {what}; the push API accepts bodies "
        f"of at most {limit} bytes. Split the request.",
        extra={"max_body_bytes": limit},
    )


def _check_id(record_id: str) -> None:
    if not record_id or clean_line(record_id) != record_id or len(record_id) > MAX_ID:
        raise PushProblem(
            400,
            "push-invalid-parameter",
            f"The event id in the URL must be 1 to {MAX_ID} characters without control "
            "characters or surrounding spaces (URL-encode it).",
            extra={"parameter": "venue_event_id"},
        )


def _int_parameter(request: Request, name: str, *, default: int | None, low: int, high: int) -> Any:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise PushProblem(
            400,
            "push-invalid-parameter",
            f"{name} must be a whole number from {low} to {high}.",
            extra={"parameter": name},
        )
    return int(raw)


Endpoint = Callable[[Request], Awaitable[Response]]


def _route(path: str, name: str, **handlers: Endpoint) -> Route:
    """One route per path, so a 405 lists every method the path has in ``Allow``."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return Route(path, dispatch, methods=list(handlers), name=name)
