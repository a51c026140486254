"""Cache invalidation across processes: a thread that LISTENs for commits and marks the data version stale.

Each server process runs one :class:`ChangeListener` on its own PostgreSQL connection (not one of the
pool's). Every commit that wrote data sends ``NOTIFY`` on :data:`aggregator.notify.CHANNEL`; the
listener then tells the :class:`~calendar_api.caching.Publisher`, which reads the version on its next
request. While the connection is down the publisher falls back to its short TTL, and after each
(re)connect the version is marked stale once, since commits in the gap went unheard.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

import psycopg
from sqlalchemy import Engine

from aggregator.notify import CHANNEL

_log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.1
"""Seconds before the first reconnect; doubled after each failure up to :data:`MAX_BACKOFF`."""
MAX_BACKOFF = 5.0
_WAKE_EVERY = 0.5
"""Seconds the listener waits for a notification before checking whether it should stop."""


class Listening(Protocol):
    """What the listener needs of a connection: LISTEN, and the notifications that arrive."""

    def execute(self, query: str) -> object:
        """Run ``query``."""

    def notifies(self, *, timeout: float) -> Iterable[object]:
        """Notifications arriving within ``timeout`` seconds."""

    def close(self) -> None:
        """Close the connection."""


class Stale(Protocol):
    """What the listener tells: a commit was announced, or whether it is hearing announcements at all."""

    def mark_stale(self) -> None:
        """A commit happened: the next request reads the data version again."""

    def hearing(self, active: bool) -> None:
        """Whether notifications arrive (the long TTL may be used) or not (the short one)."""


class ChangeListener:
    """A daemon thread that LISTENs on :data:`CHANNEL` and reconnects with exponential backoff."""

    def __init__(
        self,
        connect: Callable[[], Listening],
        target: Stale,
        *,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self._connect = connect
        self._target = target
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None
        self._connection: Listening | None = None
        self.connects = 0
        """How many times a connection was made (1 + reconnects)."""

    def start(self) -> None:
        """Start listening in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="stadtkalender-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait (bounded) for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def run(self) -> None:
        """Listen until stopped; failed attempts wait longer each time (capped), a lost connection
        is retried after :data:`FIRST_BACKOFF`."""
        backoff = FIRST_BACKOFF
        while not self._stop.is_set():
            try:
                connection = self._connect()
            except (psycopg.Error, OSError) as exc:
                self._lost(exc, backoff)
                if self._wait(backoff):
                    break
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = FIRST_BACKOFF
            try:
                self._hear(connection)
            except (psycopg.Error, OSError) as exc:
                self._lost(exc, backoff)
                if self._wait(backoff):
                    break
            finally:
                connection.close()
        self._target.hearing(False)

    def _hear(self, connection: Listening) -> None:
        connection.execute(f"LISTEN {CHANNEL}")
        self.connects += 1
        self._target.hearing(True)  # also marks stale: commits while not connected went unheard
        while not self._stop.is_set():
            for _notification in connection.notifies(timeout=_WAKE_EVERY):
                self._target.mark_stale()

    def _lost(self, exc: Exception, backoff: float) -> None:
        self._target.hearing(False)
        _log.warning("change listener: %s; reconnecting in %.1f s", exc, backoff)


def listener_for(engine: Engine, target: Stale) -> ChangeListener | None:
    """A listener on ``engine``'s database, or None when it is not PostgreSQL (SQLite has no NOTIFY)."""
    if engine.dialect.name != "postgresql":
        return None
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def connect() -> Listening:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)

    return ChangeListener(connect, target)
