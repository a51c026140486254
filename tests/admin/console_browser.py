"""What the console's browser tests share: the whole app under uvicorn on a stocked SQLite database with one
account per role, Chromium pages in German and Berlin time that fail the test on console errors, signing in
by the form, and axe-core's verdict."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _console import EMAILS, PASSWORD, make_accounts
from argon2 import PasswordHasher
from browser_kit import CHROMIUM, CHROMIUM_ARGS, axe_bundle, axe_violations, require_chromium, serve_app
from calendar_rows import Runtime
from sqlalchemy.orm import Session, sessionmaker
from web_data import web_settings

from aggregator import accounts
from aggregator.clock import FixedClock
from aggregator.config import Settings
from aggregator.db import make_engine, session_factory, upgrade

DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def console_server(
    database: Path,
    clock: FixedClock,
    fill: Callable[[sessionmaker[Session]], None],
    *,
    specs: Mapping[str, Any] | None = None,
    tune: Callable[[Settings], Settings] = lambda settings: settings,
) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """The app on a free port over a migrated database that ``fill`` stocks, plus one account per role.

    Passwords are hashed with tiny argon2 parameters meanwhile; ``version_ttl=0``, so every request sees the
    data of the last action. ``tune`` changes the settings the app gets.
    """
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS

    accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    factory = session_factory(engine)
    fill(factory)
    make_accounts(factory, clock)

    def make_app(url: str) -> Any:
        runtime = Runtime(tune(web_settings(url)), engine, factory, dict(specs or {}))
        return create_app(runtime, clock=clock, extensions=EXTENSIONS, version_ttl=0)

    server, thread, url = serve_app(make_app)
    try:
        yield url, factory
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
        accounts.HASHER = PasswordHasher()


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium (skipped, or on CI failed, when it is missing)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def pages(browser: Any, *, tolerated: str | None = None) -> Iterator[Callable[[], Any]]:
    """Makes fresh pages (each in its own context: German, Berlin time); fails on any console error but
    those containing ``tolerated`` (e.g. the 400 of a form a test refuses on purpose)."""
    errors: list[str] = []
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport=DESKTOP, locale="de-DE", timezone_id="Europe/Berlin")
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert [e for e in errors if tolerated is None or tolerated not in e] == [], errors


def sign_in(
    page: Any, app_url: str, role: str, *, email: str | None = None, password: str = PASSWORD
) -> None:
    """Sign in through the login form as the account of ``role`` (or as ``email``)."""
    page.goto(f"{app_url}/admin/login")
    page.get_by_label("E-Mail-Adresse").fill(email or EMAILS[role])
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()


@contextmanager
def signed_in_page(app_url: str, role: str = "editor") -> Iterator[Any]:
    """One page of a fresh browser, signed in as ``role``."""
    with chromium() as browser, pages(browser) as new_page:
        page = new_page()
        sign_in(page, app_url, role)
        yield page


def assert_axe_clean(page: Any) -> None:
    """axe-core finds no violation at all on the page."""
    violations = axe_violations(page, axe_bundle())
    assert violations == [], f"axe-core on {page.url}: {violations}"
