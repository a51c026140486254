"""The public HTML side: the calendar page, event pages and the embeddable widget (see :mod:`.site`)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from aggregator.clock import Clock
from calendar_api.web.site import Site, SiteRuntime


def routes(runtime: SiteRuntime, clock: Clock) -> list[BaseRoute]:
    """``/``, ``/events/{id}``, ``/embed``, ``/embed/builder``, ``/embed/widget.js`` and ``/static``."""
    return Site(runtime, clock).routes()
