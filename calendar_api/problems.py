"""RFC 9457 problem details: every error the API answers with, mapped in one place.

Handlers raise :class:`Problem` (or let Starlette raise :class:`~starlette.exceptions.HTTPException`
for unknown paths and methods); :func:`exception_handlers` turns all of them into
``application/problem+json`` responses with ``type``, ``title``, ``status``, ``detail`` and, for bad
input, the offending ``parameter``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ExceptionHandler

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPES = {
    "invalid-parameter": "Invalid parameter",
    "not-found": "Not found",
    "gone": "Gone",
    "method-not-allowed": "Method not allowed",
    "not-ready": "Service not ready",
    "cursor-expired": "Cursor expired",
    "server-error": "Internal server error",
    "http-error": "HTTP error",
}
"""Every problem type this API uses, with its title (documented at ``/api/docs#problem-<slug>``)."""

_log = logging.getLogger(__name__)


class Problem(Exception):
    """An error answer: HTTP status, a problem type slug, a human detail and optionally a parameter."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        parameter: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if kind not in PROBLEM_TYPES:
            raise ValueError(f"unknown problem type {kind!r}; known: {sorted(PROBLEM_TYPES)}")
        self.status = status
        self.kind = kind
        self.detail = detail
        self.parameter = parameter
        self.headers = dict(headers or {})
        where = f" (parameter {parameter!r})" if parameter else ""
        super().__init__(f"{status} {kind}{where}: {detail}")


def invalid_parameter(parameter: str, detail: str) -> Problem:
    """A 400 for one bad query parameter."""
    return Problem(400, "invalid-parameter", detail, parameter=parameter)


def not_found(detail: str) -> Problem:
    """A 404 for an unknown resource."""
    return Problem(404, "not-found", detail)


def gone(detail: str) -> Problem:
    """A 410 for a resource that was taken off the public calendar (an event an editor hid)."""
    return Problem(410, "gone", detail)


def problem_body(problem: Problem, docs_url: str) -> dict[str, Any]:
    """The JSON body of ``problem``; ``docs_url`` is where problem types are documented."""
    body: dict[str, Any] = {
        "type": f"{docs_url}#problem-{problem.kind}",
        "title": PROBLEM_TYPES[problem.kind],
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.parameter is not None:
        body["parameter"] = problem.parameter
    return body


def problem_response(problem: Problem, docs_url: str) -> Response:
    """``problem`` as an ``application/problem+json`` response that caches must not keep."""
    content = json.dumps(problem_body(problem, docs_url), ensure_ascii=False).encode("utf-8")
    headers = {"Cache-Control": "no-store", **problem.headers}
    return Response(content, status_code=problem.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _from_http_exception(exc: HTTPException) -> Problem:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return Problem(404, "not-found", "There is nothing at this path.", headers=headers)
    if exc.status_code == 405:
        allowed = headers.get("Allow") or headers.get("allow") or "GET, HEAD"
        return Problem(405, "method-not-allowed", f"This path only answers {allowed}.", headers=headers)
    phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else ""
    detail = exc.detail if exc.detail and exc.detail != phrase else phrase or "HTTP error"
    return Problem(exc.status_code, "http-error", detail, headers=headers)


def exception_handlers(docs_url: str) -> dict[Any, ExceptionHandler]:
    """Starlette exception handlers mapping every error to a problem response."""

    def on_problem(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc, docs_url)

    def on_http_exception(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return problem_response(_from_http_exception(exc), docs_url)

    def on_error(request: Request, exc: Exception) -> Response:
        _log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            Problem(500, "server-error", "The server failed to answer this request; it has been logged."),
            docs_url,
        )

    return {Problem: on_problem, HTTPException: on_http_exception, Exception: on_error}
