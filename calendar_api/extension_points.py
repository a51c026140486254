"""The extension points: what a part may add to the app, the command line and the OpenAPI document.

In the spirit of datasette's ``hookspecs.py``, every hook is declared here, once. A part is an
:class:`Extension` offering some of them; the built-in parts are listed in one tuple,
:data:`stadtkalender.extensions.EXTENSIONS` (the wiring above this package, since one of them belongs
to the scheduler). :func:`calendar_api.app.create_app`, :func:`calendar_api.openapi.openapi_document`
and :func:`stadtkalender.cli.build_parser` loop over such a list, in its order.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from aggregator.clock import Clock
from aggregator.config import Settings
from aggregator.health import SourceInfo

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_commands`` adds its subcommands to (``ArgumentParser.add_subparsers()``)."""


class ExtensionRuntime(Protocol):
    """What a part's routes may use of the runtime."""

    settings: Settings
    factory: sessionmaker[Session]

    @property
    def specs(self) -> Mapping[str, SourceInfo]: ...


@dataclass(frozen=True, slots=True)
class Extension:
    """One part of stadtkalender and the hooks it offers; a hook left ``None`` is not offered."""

    name: str
    """What the part is called (``web``, ``push``, ``metrics``, ``scheduler``)."""
    routes: Callable[[ExtensionRuntime, Clock], Sequence[BaseRoute]] | None = None
    """routes(runtime, clock): routes mounted after the API's own (so ``/events/{id}.ics`` stays the feed)."""
    add_commands: Callable[[SubParsers], None] | None = None
    """add_commands(subparsers): subcommands of ``stadtkalender``, each with a ``handler(args) -> int``."""
    openapi_paths: Callable[[], dict[str, Any]] | None = None
    """openapi_paths(): OpenAPI path items of the part's routes, merged into the document's ``paths``."""
    openapi_components: Callable[[], dict[str, Any]] | None = None
    """openapi_components(): OpenAPI components by section (``securitySchemes``, …), merged in."""
    observe_request: Callable[[str, str, int, float], None] | None = None
    """observe_request(route template, method, status, seconds): called once per answered HTTP request."""
    feed_cache_hit: Callable[[], None] | None = None
    """feed_cache_hit(): called once per feed served from the rendered-feed cache."""
