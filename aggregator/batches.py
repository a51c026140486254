"""Batched queries over a whole run's ids: one ``IN (...)`` query per chunk instead of one query per row."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")

ID_CHUNK = 5000
"""Ids per ``IN (...)`` list, below the limits on bound parameters (SQLite 32,766, PostgreSQL 65,535)."""


def chunks(ids: Collection[T]) -> Iterator[list[T]]:
    """``ids`` in lists of at most :data:`ID_CHUNK`, for ``IN`` queries over a whole run."""
    ordered = list(ids)
    for start in range(0, len(ordered), ID_CHUNK):
        yield ordered[start : start + ID_CHUNK]


def existing_ids(session: Session, column: InstrumentedAttribute[str], ids: Collection[str]) -> set[str]:
    """Which of ``ids`` the table of primary key ``column`` already holds: one query per chunk, not a
    ``Session.get`` (and its autoflush) per row."""
    found: set[str] = set()
    for part in chunks(ids):
        found.update(session.scalars(select(column).where(column.in_(part))))
    return found
