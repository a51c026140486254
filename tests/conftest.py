"""Shared fixtures: the network is blocked, and storage tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import NOW
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings, load_settings
from aggregator.db import make_engine, session_factory, upgrade
from stadtkalender.runtime import NOW_VARIABLE

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
POSTGRES_URL = os.environ.get("STADTKALENDER_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
_LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0"}
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOOPBACK:
        raise RuntimeError(f"network access in tests is blocked: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _guarded_connect)
        yield


def postgres_available() -> bool:
    """True when the PostgreSQL test server answers."""
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(autouse=True)
def _the_process_stands_at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in a test see the tests' NOW as the time (``STADTKALENDER_NOW``), whatever today is."""
    monkeypatch.setenv(NOW_VARIABLE, NOW.isoformat())


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A private schema in the test database for this session (or worker), dropped afterwards."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: CI must run the PostgreSQL tests")
        pytest.skip("PostgreSQL not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _reset(engine: Any) -> None:
    from aggregator.models import Base

    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def _sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _postgres_engine(postgres_schema_url: str) -> Iterator[Any]:
    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A migrated, empty database — once on SQLite, once on PostgreSQL."""
    engine = request.getfixturevalue("_sqlite_engine" if request.param == "sqlite" else "_postgres_engine")
    _reset(engine)
    yield engine


@pytest.fixture
def factory(engine: Any) -> sessionmaker[Session]:
    """A session factory on the parametrised database."""
    return session_factory(engine)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings from the repository's settings.toml, with no database override."""
    return load_settings(REPO / "settings.toml", env={})


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite file in ``tmp_path`` that the CLI uses, with the working directory there."""
    from stadtkalender.cli import main

    path = tmp_path / "cli.db"
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    return path
