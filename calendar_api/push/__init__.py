"""The venue push API: venues send their own events, authenticated, into the same pipeline as scraped ones.

Its hooks (:mod:`calendar_api.extension_points`) are :func:`routes`, :func:`openapi_paths` and
:func:`openapi_components`; the operator's ``tokens`` commands are wiring and live in
:mod:`stadtkalender.token_commands`. See :mod:`.handlers` for the order of
checks, :mod:`.validate` for what a body may contain, :mod:`.writes` for what each write does,
:mod:`.tokens`, :mod:`.ratelimit` and :mod:`.audit` for the rest.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from aggregator.clock import Clock
from calendar_api.push.handlers import PREFIX, PushApi, PushRuntime


def routes(runtime: PushRuntime, clock: Clock) -> list[BaseRoute]:
    """The push routes with their full paths under ``/api/v1/push`` (add them to the app's routes)."""
    return PushApi(runtime, clock=clock).routes()


def openapi_paths() -> dict[str, Any]:
    """The push endpoints as OpenAPI path items (merge into the document's ``paths``)."""
    from calendar_api.push.push_openapi import openapi_paths as paths

    return paths()


def openapi_components() -> dict[str, Any]:
    """The ``pushToken`` bearer security scheme (merge into the document's ``components``)."""
    from calendar_api.push.push_openapi import openapi_components as components

    return components()


__all__ = ["PREFIX", "openapi_components", "openapi_paths", "routes"]
