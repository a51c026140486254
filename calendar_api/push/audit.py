"""The audit trail of the push API: one :class:`~aggregator.models.PushLog` row per write attempt.

Every write a valid token attempts is logged, whatever its answer (created, rejected, forbidden,
held ...), with the token's name, its source and venues, the method, path, status and a summary
of what changed per record. Requests without a valid token (401) and refused by the rate limit
(429) are not logged: they have no token to log under, or would let a flood write rows.
The log entry is written after the change, in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import PushLog
from calendar_api.push.tokens import PushToken

MAX_SUMMARY_RECORDS = 2000
"""A summary keeps this many per-record entries (and says how many more there were)."""


def record_write(
    factory: sessionmaker[Session],
    token: PushToken,
    *,
    method: str,
    path: str,
    status: int,
    summary: dict[str, Any],
    now: datetime,
) -> int:
    """Log one write attempt; returns the log entry's id."""
    summary = {**summary, "venues": list(token.venues)}
    records = summary.get("records")
    if isinstance(records, list) and len(records) > MAX_SUMMARY_RECORDS:
        summary["records"] = records[:MAX_SUMMARY_RECORDS]
        summary["records_omitted"] = len(records) - MAX_SUMMARY_RECORDS
    with factory() as session, session.begin():
        entry = PushLog(
            token_id=token.id,
            token_name=token.name,
            source=token.source,
            at=now,
            method=method,
            path=path[:500],
            status=status,
            summary=summary,
        )
        session.add(entry)
        session.flush()
        return entry.id


@dataclass(slots=True)
class LogPage:
    """One page of a source's log, newest first; ``next_before`` continues it."""

    entries: list[dict[str, Any]]
    next_before: int | None


def read_log(
    factory: sessionmaker[Session], source: str, *, limit: int, before: int | None = None
) -> LogPage:
    """The newest ``limit`` entries of ``source`` (older than entry ``before`` when given)."""
    with factory() as session:
        query = select(PushLog).where(PushLog.source == source)
        if before is not None:
            query = query.where(PushLog.id < before)
        rows = list(session.scalars(query.order_by(PushLog.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return LogPage([_entry(row) for row in rows], rows[-1].id if more and rows else None)


def _entry(row: PushLog) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "token": row.token_name,
        "source": row.source,
        "method": row.method,
        "path": row.path,
        "status": row.status,
        "summary": row.summary,
    }
