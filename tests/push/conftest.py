"""Fixtures for the push API: a runtime on the parametrised database, tokens, and a client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from _push import DOMICIL, KONZERTHAUS, PushRuntime, Venue, give_token, make_client
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings


@pytest.fixture
def push_settings(settings: Settings) -> Settings:
    """Settings with a rate limit high enough for the tests that do not test it."""
    return replace(settings, push=replace(settings.push, rate_limit_per_minute=10_000))


@pytest.fixture
def runtime(push_settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> PushRuntime:
    """A runtime on the parametrised, emptied database."""
    return PushRuntime(push_settings, engine, factory)


@pytest.fixture
def client(runtime: PushRuntime) -> Iterator[TestClient]:
    """A client of the push routes, at NOW."""
    with make_client(runtime) as client:
        yield client


@pytest.fixture
def konzerthaus(runtime: PushRuntime, client: TestClient) -> Venue:
    """The Konzerthaus's read-write token."""
    return give_token(runtime, client, KONZERTHAUS)


@pytest.fixture
def domicil(runtime: PushRuntime, client: TestClient) -> Venue:
    """domicil's read-write token."""
    return give_token(runtime, client, DOMICIL)
