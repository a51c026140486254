"""Schemathesis against the ASGI app: every documented operation, valid and invalid input, on a real calendar.

Every built-in check of schemathesis runs, listed explicitly (no server errors, documented status codes,
content types, headers and bodies, invalid input rejected, valid input accepted, missing required headers,
unsupported methods and ``Allow``, authentication not ignored, ...), over every operation, push included. One rule of this API cannot be
written in JSON Schema: a request can be made of valid parts and still be refused — ``from`` after
``to``, or a cursor this server did not hand out. For exactly those requests the "valid input is
accepted" check is replaced by checking for the documented 400 problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from _data import NOW, SPECS, populate
from calendar_rows import Runtime
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings, load_settings
from calendar_api.app import create_app
from calendar_api.filters import FILTER_NAMES, LIST_NAMES, PAGE_NAMES, parse_filters
from calendar_api.openapi import openapi_document
from calendar_api.problems import Problem
from stadtkalender.extensions import METRICS, PUSH


def _app(runtime: Runtime) -> Any:
    return create_app(runtime, clock=lambda: NOW, extensions=(PUSH, METRICS), version_ttl=0)


# The document the app serves at /openapi.json (test_served_document_is_the_one_tested checks that);
# each test points the schema at an app on its freshly populated database (SQLite and PostgreSQL).
BASE_URL = load_settings(Path(__file__).resolve().parents[2] / "settings.toml", env={}).server.base_url
schema = schemathesis.openapi.from_dict(openapi_document(BASE_URL, (PUSH,)))
load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())


@pytest.fixture
def served(settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Any:
    populate(factory, extra_events=3)
    return _app(Runtime(settings, engine, factory, SPECS))


def _query_items(query: dict[str, Any] | None) -> list[tuple[str, str]]:
    items = []
    for name, value in (query or {}).items():
        for one in value if isinstance(value, list) else [value]:
            items.append((name, str(one).lower() if isinstance(one, bool) else str(one)))
    return items


def _refused_beyond_the_schema(case: Any) -> bool:
    """Valid parts, refused as a whole: ``from`` after ``to``, or an unknown cursor."""
    items = _query_items(case.query)
    if not items or not {name for name, _value in items} <= set(FILTER_NAMES + PAGE_NAMES + LIST_NAMES):
        return False
    try:
        parse_filters(items, FILTER_NAMES + PAGE_NAMES + LIST_NAMES)
    except Problem as problem:
        return problem.parameter == "cursor" or "'from' is after 'to'" in problem.detail
    return False


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case: Any, served: Any) -> None:
    if case.method.upper() in ("GET", "HEAD") and _refused_beyond_the_schema(case):
        response = case.call_and_validate(
            app=served, checks=ALL_CHECKS, excluded_checks=[positive_data_acceptance]
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == ["application/problem+json"]
    else:
        case.call_and_validate(app=served, checks=ALL_CHECKS)


def test_every_built_in_check_runs() -> None:
    assert len(ALL_CHECKS) >= 14 and positive_data_acceptance in ALL_CHECKS


def test_served_document_is_the_one_tested(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    with TestClient(_app(Runtime(settings, engine, factory, SPECS))) as client:
        assert client.get("/openapi.json").json() == schema.raw_schema
