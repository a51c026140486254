"""The audit log: every editorial action — who, when, what, and the state before and after.

Writers call :func:`record` inside the transaction that makes the change, so an action and its entry
land together or not at all. The console shows the log through :func:`entries`, filtered and paged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.models import AuditEntry

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a console account (its id and e-mail), or a named machine actor (``cli``, ``settings``)."""

    account_id: int | None
    label: str

    @classmethod
    def machine(cls, label: str) -> Actor:
        """An actor that is not an account (``cli``, ``settings``, ``scheduler``)."""
        return cls(None, label)


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    *,
    at: datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    """Add one entry to the log in ``session``'s transaction (``before``/``after`` must be JSON-able)."""
    entry = AuditEntry(
        at=at,
        account_id=actor.account_id,
        actor=actor.label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        note=note,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the log is narrowed to; empty fields do not narrow."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the log, newest first."""

    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def entries(session: Session, where: AuditFilter = AuditFilter(), *, page: int = 1) -> AuditPage:
    """The entries matching ``where``, newest first, ``PAGE_SIZE`` a page (page numbers start at 1)."""
    query = select(AuditEntry)
    if where.actor:
        query = query.where(AuditEntry.actor == where.actor.strip().lower())
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.target_type:
        query = query.where(AuditEntry.target_type == where.target_type)
    if where.target_id:
        query = query.where(AuditEntry.target_id == where.target_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    for row in rows:
        session.expunge(row)
    return AuditPage(list(rows), total, page, pages)


def actions(session: Session) -> list[str]:
    """Every action name that occurs in the log, for the filter's choices."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
