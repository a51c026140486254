"""Helpers of the push API tests: a runtime, token holders, event bodies, and the fixtures built on them.

``tests/push/conftest.py`` offers the fixtures to every push test; hostile tests import them by name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from fixed_clock import NOW, clock
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from aggregator.config import Settings
from aggregator.ingest import IngestContext
from calendar_api.push import routes
from calendar_api.push.tokens import issue_token

KONZERTHAUS = "konzerthaus-dortmund"
DOMICIL = "domicil"
JSONLD = "application/ld+json"


@dataclass
class PushRuntime:
    """The parts of :class:`stadtkalender.runtime.Runtime` the push API and the app use."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    specs: dict[str, Any] = field(default_factory=dict)
    ingest_context: IngestContext = field(init=False)

    def __post_init__(self) -> None:
        self.ingest_context = IngestContext(
            self.factory, self.settings, kinds={"konzerthaus": "venue"}, clock=clock()
        )


@dataclass
class Venue:
    """A venue's token and a client that sends it."""

    slug: str
    token: str
    token_id: int
    client: TestClient
    source: str

    def headers(self, content_type: str = JSONLD) -> dict[str, str]:
        """Authorization and Content-Type headers."""
        return {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        """POST ``body`` (JSON-encoded unless bytes/str) to ``/api/v1/push{path}``."""
        content = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return self.client.post(f"/api/v1/push{path}", content=content, headers=headers, **kwargs)

    def put(self, record_id: str, body: Any, **kwargs: Any) -> Any:
        """PUT one event."""
        content = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return self.client.put(f"/api/v1/push/events/{record_id}", content=content, headers=headers, **kwargs)

    def delete(self, record_id: str) -> Any:
        """DELETE one event."""
        return self.client.delete(f"/api/v1/push/events/{record_id}", headers=self.headers())

    def get(self, path: str) -> Any:
        """GET ``/api/v1/push{path}``."""
        return self.client.get(f"/api/v1/push{path}", headers=self.headers())


def title_of(record_id: str) -> str:
    """A title of its own for each id (made-up words, so that deduplication keeps them apart)."""
    digest = hashlib.sha256(record_id.encode()).digest()
    word = "".join("bcdfghklmnprstvz"[b % 16] + "aeiou"[b % 5] for b in digest[:4])
    return f"{word.capitalize()} {record_id}"


def event(
    record_id: str, day: int = 5, *, title: str | None = None, hour: int = 20, **extra: Any
) -> dict[str, Any]:
    """A schema.org MusicEvent in December 2026 (Berlin time)."""
    body: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MusicEvent",
        "@id": record_id,
        "name": title or title_of(record_id),
        "startDate": f"2026-12-{day:02d}T{hour:02d}:00:00+01:00",
    }
    body.update(extra)
    return body


def make_client(runtime: PushRuntime, clock: Callable[[], datetime] = lambda: NOW) -> TestClient:
    """The push routes alone in a Starlette app."""
    return TestClient(Starlette(routes=routes(runtime, clock)))


def give_token(
    runtime: PushRuntime, client: TestClient, *venues: str, read_only: bool = False, source: str | None = None
) -> Venue:
    """Issue a token and wrap it with ``client``."""
    token, secret = issue_token(
        runtime.factory,
        list(venues),
        name=f"test {'+'.join(venues)}",
        registry=runtime.ingest_context.venues,
        read_only=read_only,
        source=source,
        now=NOW,
    )
    return Venue(venues[0], secret, token.id, client, token.source)


def programme(n: int, prefix: str = "p", **extra: Any) -> list[dict[str, Any]]:
    """``n`` events on successive December days."""
    return [event(f"{prefix}{i}", 1 + i % 28, hour=18 + i // 28, **extra) for i in range(n)]


def later(hours: int) -> datetime:
    """:data:`NOW` plus some hours."""
    return NOW + timedelta(hours=hours)


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
