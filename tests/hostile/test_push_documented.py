"""Every answer the push API gives to these edge cases is one its OpenAPI document declares."""

from __future__ import annotations

from typing import Any

import pytest
from _push_fixtures import Venue, client, konzerthaus, push_settings, runtime

from calendar_api.openapi import openapi_document
from calendar_api.push import PREFIX
from stadtkalender.extensions import PUSH

DOCUMENT = openapi_document("http://127.0.0.1:8080", (PUSH,))
FIXTURES = (client, konzerthaus, push_settings, runtime)  # pytest finds fixtures by their names here


def _documented(path: str, method: str) -> set[str]:
    operation: dict[str, Any] = DOCUMENT["paths"][f"{PREFIX}{path}"][method]
    return set(operation["responses"])


@pytest.mark.parametrize(
    "body", [{"@context": "https://schema.org", "@graph": []}, []], ids=["empty @graph", "empty list"]
)
def test_an_empty_sync_is_answered_as_documented(konzerthaus: Venue, body: Any) -> None:
    response = konzerthaus.post("/sync", body)
    assert str(response.status_code) in _documented("/sync", "post"), response.text


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/log", "limit=501"),
        ("/log", "limit=0"),
        ("/log", "before=-1"),
        ("/events", "limit=501"),
        ("/events", "after=-1"),
    ],
)
def test_bad_paging_is_answered_as_documented(konzerthaus: Venue, path: str, query: str) -> None:
    response = konzerthaus.client.get(f"{PREFIX}{path}?{query}", headers=konzerthaus.headers())
    assert (response.status_code, str(response.status_code) in _documented(path, "get")) == (400, True)
