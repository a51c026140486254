"""Change notification: every PostgreSQL commit that wrote data sends one ``NOTIFY`` on :data:`CHANNEL`.

The hook sits on the engine (:func:`aggregator.db.make_engine` installs it), so ingest, push writes,
console edits and anything else that commits through it are covered by one place. ``NOTIFY`` is sent
inside the transaction just before it commits, so PostgreSQL delivers it only if the commit
succeeds, and after the data is visible. Writes only to :data:`QUIET_TABLES` (counters of the
throttles, the console's sessions) send nothing: no public answer depends on them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

CHANNEL = "stadtkalender_data"
"""The one channel data changes are announced on (the payload is empty: listeners re-read the version)."""

QUIET_TABLES = frozenset({"login_failures", "push_rate_hits", "console_sessions"})
"""Tables whose writes change no public answer, so their commits are not announced."""

_WROTE = "stadtkalender_wrote"
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE")


def notify_on_commit(engine: Engine) -> None:
    """Send ``NOTIFY`` on :data:`CHANNEL` before each commit on ``engine`` that wrote data."""
    event.listen(engine, "before_cursor_execute", _note_write)
    event.listen(engine, "commit", _announce)
    event.listen(engine, "rollback", _forget)
    event.listen(engine, "checkin", _checked_in)


def wrote_data(statement: str, context: Any) -> bool:
    """Whether ``statement`` may change data outside :data:`QUIET_TABLES` (unsure counts as yes)."""
    compiled = getattr(context, "compiled", None)
    table = getattr(getattr(compiled, "statement", None), "table", None)
    dml = any(getattr(context, flag, False) for flag in ("isinsert", "isupdate", "isdelete"))
    if dml and table is not None:
        return getattr(table, "name", None) not in QUIET_TABLES
    return statement.lstrip().upper().startswith(_WRITES)


def _note_write(
    conn: Connection, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    if not conn.info.get(_WROTE) and wrote_data(statement, context):
        conn.info[_WROTE] = True


def _announce(conn: Connection) -> None:
    if conn.info.pop(_WROTE, False):
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(f"NOTIFY {CHANNEL}")
        finally:
            cursor.close()


def _forget(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool unfinished was rolled back by the pool: nothing to announce."""
    record.info.pop(_WROTE, None)
