"""The ASGI application factory each uvicorn worker process calls: the app from settings and environment."""

from __future__ import annotations

from starlette.applications import Starlette

from stadtkalender.extensions import EXTENSIONS
from stadtkalender.runtime import Runtime

FACTORY = "stadtkalender.asgi:create"
"""The import string uvicorn is given for ``serve --workers N`` (with ``factory=True``)."""


def create() -> Starlette:
    """The whole application, wired as ``stadtkalender serve`` wires it, from ``settings.toml`` and
    ``$STADTKALENDER_*`` (each worker process builds its own runtime, pool and change listener)."""
    runtime = Runtime.open()
    from calendar_api.app import create_app

    return create_app(runtime, clock=runtime.clock, extensions=EXTENSIONS)
