"""The web tests' calendar: one SQLite database per module, filled once, served at a frozen "now"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from calendar_rows import Runtime
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from web_data import NOW, populate, web_settings

from aggregator.db import make_engine, session_factory, upgrade


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
    from stadtkalender.extensions import EXTENSIONS

    engine, factory = web_db
    app = create_app(Runtime(web_settings(), engine, factory), clock=lambda: NOW, extensions=EXTENSIONS)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
