"""Fixtures for the console: the whole app on the parametrised database, and a signed-in client per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _console import EMAILS, ConsoleRuntime, client_for, make_accounts, sign_in
from argon2 import PasswordHasher
from fixed_clock import clock as make_clock
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator import accounts
from aggregator.clock import FixedClock
from aggregator.config import Settings


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny argon2 parameters: the shipped ones take tens of milliseconds a hash."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock; tests move it."""
    return make_clock()


@pytest.fixture
def runtime(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: FixedClock
) -> ConsoleRuntime:
    """A runtime on the parametrised, emptied database, with one account per role."""
    runtime = ConsoleRuntime(settings, engine, factory)
    make_accounts(factory, clock)
    return runtime


@pytest.fixture
def anonymous(runtime: ConsoleRuntime, clock: FixedClock) -> Iterator[TestClient]:
    """A client that has not signed in."""
    with client_for(runtime, clock) as client:
        yield client


def _signed_in(runtime: ConsoleRuntime, clock: FixedClock, role: str) -> Iterator[TestClient]:
    with client_for(runtime, clock) as client:
        answer = sign_in(client, EMAILS[role])
        assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture
def as_admin(runtime: ConsoleRuntime, clock: FixedClock) -> Iterator[TestClient]:
    """A client signed in as the admin."""
    yield from _signed_in(runtime, clock, "admin")


@pytest.fixture
def as_editor(runtime: ConsoleRuntime, clock: FixedClock) -> Iterator[TestClient]:
    """A client signed in as the editor."""
    yield from _signed_in(runtime, clock, "editor")


@pytest.fixture
def as_venue(runtime: ConsoleRuntime, clock: FixedClock) -> Iterator[TestClient]:
    """A client signed in as the Konzerthaus's venue account."""
    yield from _signed_in(runtime, clock, "venue")
