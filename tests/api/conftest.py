"""The API tests' client: the hand-made calendar (_data.py) served on the parametrised database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _data import open_client
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings


@pytest.fixture
def client(settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The populated calendar served by the app, at _data.NOW."""
    with open_client(settings, engine, factory) as client:
        yield client
