"""The editorial console: ``/admin`` (HTML, German and English) and ``/api/v1/admin`` (JSON).

How a part of the console plugs in — one module per part, listed once in :data:`PAGE_MODULES`:

- ``TEXTS``: message key → (German, English). Keys ``notice_<name>`` are the notices a handler may
  show after a redirect (``ctx.done(url, "<name>")``).
- ``NAV`` (optional): :class:`~calendar_api.admin.console.NavItem` entries for the navigation.
- ``register(console)``: adds the part's URLs with ``console.page(path, handler, roles=…, methods=…)``
  (under ``/admin``; ``prefix=PORTAL_PREFIX`` puts a page of the venue portal under ``/venue``) and
  ``console.api(…)`` (under ``/api/v1/admin``). Roles come from
  :mod:`calendar_api.admin.console` (``EDITORS``, ``ADMINS``, ``EVERYONE``); the guard checks them,
  handlers never do. A handler is ``handler(ctx: Context) -> Response``; it reads ``ctx.field(name)``
  (form or JSON), renders ``ctx.render("x.html", **values)`` (templates in ``templates/``, extending
  ``_console.html``; every form carries ``<input type="hidden" name="{{ csrf_field }}"
  value="{{ csrf_token }}">``), refuses with ``raise Problem(400, message, field=…)``, audits with
  :func:`aggregator.audit.record` (``ctx.actor``, ``at=ctx.now``) in the transaction of the change,
  and answers a form with ``ctx.done(url, notice)``.
- ``OPENAPI_PATHS`` (optional): OpenAPI path items of the part's JSON API (keys under
  ``/api/v1/admin``), merged into ``/api/openapi.json``.

The example to copy: :mod:`calendar_api.admin.audit_pages` (a filtered, paged list, HTML and JSON).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from starlette.routing import BaseRoute

from aggregator.clock import Clock
from aggregator.venue_feeds import FeedRegistration
from calendar_api.admin import (
    account_pages,
    audit_pages,
    event_pages,
    home_pages,
    invitation_pages,
    login_pages,
    people_pages,
    portal_edit_pages,
    portal_entry_pages,
    portal_feed_pages,
    portal_pages,
    portal_token_pages,
    portal_upload_pages,
    review_pages,
    source_pages,
    venue_pages,
    webhook_pages,
)
from calendar_api.admin.console import Console, ConsoleRuntime
from calendar_api.admin.frame_texts import FRAME_TEXTS

PAGE_MODULES: tuple[ModuleType, ...] = (
    login_pages,
    home_pages,
    review_pages,
    source_pages,
    event_pages,
    venue_pages,
    audit_pages,
    account_pages,
    people_pages,
    invitation_pages,
    portal_pages,
    portal_entry_pages,
    portal_edit_pages,
    portal_upload_pages,
    portal_feed_pages,
    portal_token_pages,
    webhook_pages,
)
"""Every part of the console, in the order of the navigation."""


def build_console(runtime: ConsoleRuntime, clock: Clock, *, feeds: FeedRegistration | None = None) -> Console:
    """The console with every part's URLs registered (the security tests enumerate them).

    ``feeds`` is how the venue portal checks feed URLs; the wiring builds it (the API never fetches).
    """
    console = Console(
        runtime,
        clock,
        texts=[FRAME_TEXTS, *(module.TEXTS for module in PAGE_MODULES)],
        nav=[item for module in PAGE_MODULES for item in getattr(module, "NAV", ())],
        feeds=feeds,
    )
    for module in PAGE_MODULES:
        module.register(console)
    return console


def routes(
    runtime: ConsoleRuntime, clock: Clock, *, feeds: FeedRegistration | None = None
) -> list[BaseRoute]:
    """The console's routes, for the ``admin`` extension."""
    return build_console(runtime, clock, feeds=feeds).routes()


def openapi_paths() -> dict[str, Any]:
    """Every part's OpenAPI path items."""
    paths: dict[str, Any] = {}
    for module in PAGE_MODULES:
        paths.update(getattr(module, "OPENAPI_PATHS", {}))
    return paths


def openapi_components() -> dict[str, Any]:
    """How the admin API authenticates: the session cookie, or a personal key."""
    return {
        "securitySchemes": {
            "consoleSession": {
                "type": "apiKey",
                "in": "cookie",
                "name": "sk_session",
                "description": "The console's session cookie; every request but GET also needs the "
                "x-csrftoken header matching the csrftoken cookie.",
            },
            "personalKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal API key (skp_…) made on /admin/account; it acts as its account.",
            },
        }
    }
