"""Cache invalidation across processes: NOTIFY on commit, the listener, and the publisher's staleness."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from _data import NOW, SPECS, populate
from calendar_rows import Runtime
from sqlalchemy import Engine, literal_column, text, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

import calendar_api.caching
from aggregator.config import Settings
from aggregator.db import session_factory
from aggregator.models import LoginFailure, Occurrence
from aggregator.notify import CHANNEL
from calendar_api.caching import Publisher, RenderCache
from calendar_api.invalidation import FIRST_BACKOFF, ChangeListener, listener_for
from calendar_api.queries import DataVersion

# -- the listener -----------------------------------------------------------------------------


class _Target:
    """Records what the listener tells the publisher."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def mark_stale(self) -> None:
        self.told.append("stale")

    def hearing(self, active: bool) -> None:
        self.told.append("hearing" if active else "deaf")


class _Connection:
    def __init__(self, batches: list[Callable[[], list[object]]]) -> None:
        self.batches = batches
        self.executed: list[str] = []
        self.closed = False

    def execute(self, query: str) -> object:
        self.executed.append(query)
        return None

    def notifies(self, *, timeout: float) -> Iterator[object]:
        yield from self.batches.pop(0)()

    def close(self) -> None:
        self.closed = True


def _drop() -> list[object]:
    raise psycopg.OperationalError("server closed the connection unexpectedly")


def test_the_listener_reconnects_with_growing_backoff_and_marks_stale_after_each_connect() -> None:
    target = _Target()
    waits: list[float] = []
    first = _Connection([lambda: ["n1", "n2"], _drop])
    attempts: list[str] = []
    listener: ChangeListener

    def stop() -> list[object]:
        listener.stop()
        return []

    second = _Connection([lambda: ["n3"], stop])
    outcomes: list[Any] = [OSError("refused"), psycopg.OperationalError("starting up"), first, second]

    def connect() -> _Connection:
        attempts.append("connect")
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return False

    listener = ChangeListener(connect, target, wait=wait)
    listener.run()
    assert waits == [FIRST_BACKOFF, 2 * FIRST_BACKOFF, FIRST_BACKOFF]
    assert (listener.connects, len(attempts)) == (2, 4)
    assert target.told == [
        "deaf",
        "deaf",
        "hearing",
        "stale",
        "stale",
        "deaf",
        "hearing",
        "stale",
        "deaf",
    ]
    assert first.executed == second.executed == [f"LISTEN {CHANNEL}"]
    assert first.closed and second.closed


def test_a_stopped_listener_does_not_retry() -> None:
    target = _Target()

    def refuse() -> _Connection:
        raise OSError("refused")

    listener = ChangeListener(refuse, target, wait=lambda _seconds: True)
    listener.run()
    assert target.told == ["deaf", "deaf"]


def test_sqlite_has_no_listener(settings: Settings, tmp_path: Any) -> None:
    from aggregator.db import make_engine, upgrade
    from calendar_api.app import create_app

    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    upgrade(engine)
    assert listener_for(engine, _Target()) is None
    app = create_app(Runtime(settings, engine, session_factory(engine), {}), clock=lambda: NOW, extensions=())
    assert app.state.listener is None
    assert app.state.publisher.version_ttl == 1.0
    engine.dispose()


# -- the publisher ----------------------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the publisher's reads of the data version (each answers a new token)."""
    counted: list[int] = []

    def read(_factory: Any) -> DataVersion:
        counted.append(len(counted))
        return DataVersion(f"v{len(counted)}", NOW)

    monkeypatch.setattr(calendar_api.caching, "current_version", read)
    return counted


def _publisher(ttl: float = 30.0) -> Publisher:
    return Publisher(sessionmaker(), RenderCache(10), clock=lambda: NOW, version_ttl=ttl, notified_ttl=600.0)


def test_without_a_listener_the_version_is_kept_for_its_ttl_and_read_again_when_marked_stale(
    reads: list[int],
) -> None:
    publisher = _publisher()
    assert publisher.version().token == publisher.version().token == "v1"
    publisher.mark_stale()
    assert publisher.version().token == "v2"
    assert len(reads) == 2


def test_a_version_read_while_a_commit_is_announced_is_not_kept(
    reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher = _publisher()
    publisher.hearing(True)

    def read_then_commit(_factory: Any) -> DataVersion:
        reads.append(0)
        publisher.mark_stale()  # the notification arrives while the old state is being read
        return DataVersion(f"v{len(reads)}", NOW)

    monkeypatch.setattr(calendar_api.caching, "current_version", read_then_commit)
    publisher.version()
    publisher.version()
    assert len(reads) == 2


def test_hearing_uses_the_long_ttl_and_losing_the_connection_the_short_one(
    reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # the publisher's TTL clock
    publisher = _publisher(ttl=1.0)
    publisher.hearing(True)
    assert publisher.version().token == "v1"
    now[0] += 100
    assert publisher.version().token == "v1", "while commits are announced, the version is kept"
    publisher.hearing(False)
    assert publisher.version().token == "v2", "unheard commits may have happened"
    now[0] += 2
    assert publisher.version().token == "v3", "without announcements, the short TTL again"
    assert len(reads) == 3


# -- NOTIFY on commit (PostgreSQL) ------------------------------------------------------------

ON_POSTGRES = pytest.mark.parametrize(
    "engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def listening(engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection LISTENing on the channel, on the same database."""
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"LISTEN {CHANNEL}")
        yield connection


def _heard(listening: psycopg.Connection[Any], pid: int) -> int:
    """Notifications from backend ``pid`` (other test sessions share the database and channel)."""
    return sum(1 for n in listening.notifies(timeout=0.3) if n.pid == pid)


def _pid(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


@ON_POSTGRES
def test_a_commit_that_wrote_data_is_announced_once(
    engine: Engine, listening: psycopg.Connection[Any]
) -> None:
    factory = session_factory(engine)
    populate(factory)
    assert list(listening.notifies(timeout=0.3)), "populating was announced"
    with factory() as session, session.begin():
        pid = _pid(session)
        session.execute(update(Occurrence).values(room="Saal"))
        session.execute(update(Occurrence).values(room="Foyer"))
    assert _heard(listening, pid) == 1


@ON_POSTGRES
@pytest.mark.parametrize("outcome", ["read only", "rolled back", "throttle only"])
def test_no_announcement_without_a_committed_public_write(
    engine: Engine, listening: psycopg.Connection[Any], outcome: str
) -> None:
    factory = session_factory(engine)
    with factory() as session:
        pid = _pid(session)
        if outcome == "read only":
            session.execute(text("SELECT count(*) FROM events"))
            session.commit()
        elif outcome == "rolled back":
            session.execute(update(Occurrence).values(room="Saal"))
            session.rollback()
        else:
            session.add(LoginFailure(key="account:x@example.org", at=NOW))
            session.commit()
    assert _heard(listening, pid) == 0


@ON_POSTGRES
@pytest.mark.realtime
def test_a_running_app_sees_another_connections_commit_at_once(settings: Settings, engine: Engine) -> None:
    """A long TTL, yet the commit shows: the listener, not the TTL, made the version stale."""
    from calendar_api.app import create_app

    factory = session_factory(engine)
    populate(factory)
    app = create_app(Runtime(settings, engine, factory, SPECS), clock=lambda: NOW, extensions=())
    with TestClient(app) as client:
        _wait_for(lambda: app.state.listener.connects == 1)
        before = client.get("/api/v1/events/evmahler").json()["occurrences"][0]["sequence"]
        with factory() as session, session.begin():
            session.execute(  # as ingest writes a change: SEQUENCE and the change time up
                update(Occurrence).values(
                    sequence=Occurrence.sequence + 1,
                    updated_at=Occurrence.updated_at + literal_column("interval '1 second'"),
                )
            )
        _wait_for(
            lambda: client.get("/api/v1/events/evmahler").json()["occurrences"][0]["sequence"] == before + 1
        )
    assert app.state.publisher.notified_ttl == 60.0


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.01)
