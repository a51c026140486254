"""Shared by the hostile push and API tests: the push suite's runtime and tokens, the API suite's calendar.

Imported explicitly (not a conftest), so other hostile test files are not affected.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings

_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("push", "api"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.append(str(_TESTS / _folder))

from _data import NOW as API_NOW  # noqa: E402
from _data import open_client  # noqa: E402
from _push import JSONLD, KONZERTHAUS, PushRuntime, Venue, event, give_token, make_client  # noqa: E402
from fixed_clock import NOW  # noqa: E402

__all__ = [
    "API_NOW",
    "JSONLD",
    "KONZERTHAUS",
    "NOW",
    "PushRuntime",
    "Venue",
    "event",
    "konzerthaus",
    "open_client",
    "push_runtime",
]


@pytest.fixture
def push_runtime(settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> PushRuntime:
    """A push runtime on the parametrised, emptied database, with a rate limit the tests do not reach."""
    lenient = replace(settings, push=replace(settings.push, rate_limit_per_minute=10_000))
    return PushRuntime(lenient, engine, factory)


@pytest.fixture
def push_client(push_runtime: PushRuntime) -> Iterator[TestClient]:
    """A client of the push routes alone, at the push suite's NOW."""
    with make_client(push_runtime) as client:
        yield client


@pytest.fixture
def konzerthaus(push_runtime: PushRuntime, push_client: TestClient) -> Venue:
    """The Konzerthaus's read-write token."""
    return give_token(push_runtime, push_client, KONZERTHAUS)
