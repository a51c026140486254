"""The built-in parts, listed once: the app, the command line and the OpenAPI document loop over them.

The hooks a part may offer are declared in :mod:`calendar_api.extension_points`. The list lives here, in
the wiring, because it names parts of both the API and the scheduler, which never import each other.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from aggregator import metrics
from aggregator.clock import Clock
from aggregator.venue_feeds import FeedRegistration
from calendar_api import admin, push, web
from calendar_api.app import metrics_routes
from calendar_api.extension_points import Extension, ExtensionRuntime
from stadtkalender import (
    open_data_commands,
    probe_commands,
    publish_commands,
    scheduler_commands,
    token_commands,
    user_commands,
    webhook_commands,
)
from stadtkalender.feed_checks import feed_checker
from stadtkalender.runtime import Runtime

WEB = Extension("web", routes=web.routes)
"""The public HTML pages and the embeddable widget."""

SCHEDULER = Extension("scheduler", add_commands=scheduler_commands.add_commands)
"""The ``scheduler`` and ``housekeeping`` commands."""

PUSH = Extension(
    "push",
    routes=push.routes,
    add_commands=token_commands.add_commands,
    openapi_paths=push.openapi_paths,
    openapi_components=push.openapi_components,
)
"""The venues' push API, its part of the OpenAPI document, and the operator's ``tokens`` commands."""

METRICS = Extension(
    "metrics",
    routes=metrics_routes,
    observe_request=metrics.observe_request,
    feed_cache_hit=metrics.feed_cache_hit,
)
"""``/metrics`` for Prometheus, counting every request by route template and every feed cache hit."""

USERS = Extension("users", add_commands=user_commands.add_commands)
"""The operator's ``users`` commands: accounts of the editorial console."""


def _admin_routes(runtime: ExtensionRuntime, clock: Clock) -> list[BaseRoute]:
    """The console, with the venue portal's feed check built here from ``sources.probe``."""
    feeds = FeedRegistration(feed_checker(runtime.settings, clock))
    if isinstance(runtime, Runtime):
        feeds = FeedRegistration(feeds.check, runtime.refresh_sources)
    return admin.routes(runtime, clock, feeds=feeds)


ADMIN = Extension(
    "admin",
    routes=_admin_routes,
    openapi_paths=admin.openapi_paths,
    openapi_components=admin.openapi_components,
)
"""The editorial console (``/admin``) and its JSON API (``/api/v1/admin``)."""

PROBE = Extension("probe", add_commands=probe_commands.add_commands)
"""The ``probe`` command: a venue's sources of events found by its URL, saved as a source table."""

OPEN_DATA = Extension("open-data", add_commands=open_data_commands.add_commands)
"""The ``open-data export`` command (the exports' routes and the change feed are the API's own)."""
WEBHOOKS = Extension("webhooks", add_commands=webhook_commands.add_commands)
"""The ``webhooks`` commands: register, list, see the delivery log, enable again."""
PUBLISH = Extension("publish", add_commands=publish_commands.add_commands)
"""The ``publish`` command: feeds and JSON listings as static files (the scheduler's job is in the wiring)."""

EXTENSIONS: tuple[Extension, ...] = (
    WEB,
    SCHEDULER,
    PUSH,
    METRICS,
    USERS,
    ADMIN,
    PROBE,
    OPEN_DATA,
    WEBHOOKS,
    PUBLISH,
)
"""Every built-in part, in the order its routes are mounted and its commands listed."""
