"""Locks that keep several scheduler instances from running the same source at once.

On PostgreSQL each source run holds a session-level advisory lock on a dedicated connection
(:func:`source_lock`); an instance that cannot take it skips the run, because another instance is
running that source. The lock dies with its connection, so a killed process never leaves it behind.

SQLite has no such locks and is meant for one process: :class:`SchedulerLock` holds an exclusive
``flock`` on a file next to the database for the scheduler's lifetime, and a second scheduler refuses
to start with :class:`SchedulerAlreadyRunning`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

_NAMESPACE = b"stadtkalender.source-run:"


class SchedulerAlreadyRunning(RuntimeError):
    """Another scheduler holds the lock on this SQLite database; says which file and process."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        who = f" (process {holder})" if holder else ""
        super().__init__(
            f"another scheduler is already running on this SQLite database{who}: {path} is locked. "
            "SQLite supports one scheduler; stop the other one, or use PostgreSQL to run several."
        )


def source_lock_key(source: str, schema: str = "public") -> int:
    """A stable signed 64-bit advisory-lock key for ``source`` in ``schema`` (the same in every process).

    Advisory locks are per database, not per schema; the schema is part of the key so that two
    installations in one database (or parallel test workers) do not block each other.
    """
    name = f"{schema}/{source}".encode()
    digest = hashlib.blake2b(_NAMESPACE + name, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def source_lock(engine: Engine, source: str) -> Iterator[bool]:
    """Try to take the run lock of ``source``; yields whether it was taken (never waits).

    Only PostgreSQL locks across processes; on other databases this always yields True (a single
    scheduler is enforced by :class:`SchedulerLock`, and APScheduler runs one instance per job).
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    connection = engine.connect()
    try:
        schema = str(connection.execute(text("SELECT current_schema()")).scalar() or "")
        key = source_lock_key(source, schema)
        taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        connection.commit()
        try:
            yield taken
        finally:
            if taken:
                _unlock(connection, key, source)
    finally:
        connection.close()


def _unlock(connection: Connection, key: int, source: str) -> None:
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
    except Exception:
        # The connection is broken; discarding it ends the server session and with it the lock.
        log.warning("could not release the run lock of %s; dropping its connection", source, exc_info=True)
        connection.invalidate()


def sqlite_lock_path(url: str) -> Path | None:
    """The lock file beside a file-backed SQLite database (None for memory or other databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    database = Path(parsed.database)
    return database.with_name(database.name + ".scheduler.lock")


class SchedulerLock:
    """An exclusive, non-blocking ``flock`` held while a scheduler runs on a SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`SchedulerAlreadyRunning` at once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise SchedulerAlreadyRunning(self.path, holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Give the lock up (the file stays; its content is only informative)."""
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._handle is not None
