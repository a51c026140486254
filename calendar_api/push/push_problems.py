"""Every error the push API answers with, as RFC 9457 problem details, mapped in one place.

The push problems carry extension members where they help a venue fix its request: ``errors``
(every bad field with its path), ``records`` (each record's result), ``run_id`` (a held sync) and
``retry_after`` (the rate limit).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from calendar_api.problems import PROBLEM_MEDIA_TYPE

PUSH_PROBLEMS = {
    "push-unauthorized": "Missing or invalid token",
    "push-forbidden": "Not allowed for this token",
    "push-read-only": "Read-only token",
    "push-invalid-body": "Invalid body",
    "push-invalid-parameter": "Invalid parameter",
    "push-invalid-events": "Invalid events",
    "push-too-large": "Body too large",
    "push-too-many-events": "Too many events",
    "push-unsupported-media-type": "Unsupported media type",
    "push-rate-limited": "Too many requests",
    "push-not-found": "No such event",
    "push-held": "Sync held back",
    "push-write-failed": "Write failed",
}
"""Problem type slug → title; documented at ``/api/docs#problem-<slug>``."""

REALM = "stadtkalender push"


class PushProblem(Exception):
    """An error answer of the push API."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if kind not in PUSH_PROBLEMS:
            raise ValueError(f"unknown push problem type {kind!r}; known: {sorted(PUSH_PROBLEMS)}")
        self.status = status
        self.kind = kind
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        super().__init__(f"{status} {kind}: {detail}")

    def body(self, docs_url: str) -> dict[str, Any]:
        """The problem document."""
        return {
            "type": f"{docs_url}#problem-{self.kind}",
            "title": PUSH_PROBLEMS[self.kind],
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }

    def response(self, docs_url: str) -> Response:
        """The problem as an ``application/problem+json`` response nobody caches."""
        content = json.dumps(self.body(docs_url), ensure_ascii=False).encode("utf-8")
        headers = {"Cache-Control": "no-store", **self.headers}
        return Response(content, status_code=self.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def unauthorized(reason: str, *, presented: bool) -> PushProblem:
    """A 401 with the RFC 6750 challenge (``invalid_token`` when a token was presented)."""
    challenge = f'Bearer realm="{REALM}"'
    if presented:
        challenge += f', error="invalid_token", error_description="{reason}"'
    return PushProblem(
        401, "push-unauthorized", f"{reason[0].upper()}{reason[1:]}.", headers={"WWW-Authenticate": challenge}
    )
