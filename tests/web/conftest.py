"""The web tests' calendar: one SQLite database per module, filled once, served at a frozen "now"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from web_data import NOW, Runtime, populate

from aggregator.config import Settings, load_settings
from aggregator.db import make_engine, session_factory, upgrade

REPO = Path(__file__).resolve().parents[2]
BASE_URL = "https://kalender.example"


def web_settings(base_url: str = BASE_URL) -> Settings:
    """The repository's settings with ``base_url`` as the public address."""
    settings = load_settings(REPO / "settings.toml", env={})
    return replace(settings, server=replace(settings.server, base_url=base_url))


@pytest.fixture(scope="module")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, sessionmaker[Session]]]:
    """A migrated SQLite database with :mod:`web_data`'s calendar in it."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    populate(factory)
    yield engine, factory
    engine.dispose()


@pytest.fixture(scope="module")
def client(web_db: tuple[Any, sessionmaker[Session]]) -> Iterator[TestClient]:
    """The whole app (API, feeds and pages) at :data:`web_data.NOW`, through Starlette's test client."""
    from calendar_api.app import create_app

    engine, factory = web_db
    app = create_app(Runtime(web_settings(), engine, factory), clock=lambda: NOW)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
