"""The pages and the widget in a real browser: Playwright driving Debian's Chromium.

The app runs under uvicorn on a free local port with the :mod:`web_data` calendar at a frozen "now";
a second server on another port (another origin) serves ``tests/web/host/``, a plain HTML page that
embeds the widget and the iframe view exactly as a site editor would. Every test fails on a JavaScript
dialog (the XSS title must stay inert) and on console errors; axe-core checks accessibility.

Screenshots go to ``artifacts/screenshots/``; with ``UPDATE_SCREENSHOTS=1`` the two the README shows
are also written to ``docs/screenshots/``.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from browser_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    axe_bundle,
    axe_violations,
    require_chromium,
    screenshot,
    serve_app,
)
from calendar_rows import Runtime
from web_data import NOW, XSS_TITLE, populate, web_settings

from aggregator.db import make_engine, session_factory, upgrade

pytestmark = pytest.mark.browser

HOST_DIR = Path(__file__).resolve().parent / "host"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 360, "height": 780}
BLOCKING = ("serious", "critical")


@dataclass
class Servers:
    """The calendar app's and the host page's addresses."""

    app: str
    host: str


@dataclass
class Watch:
    """What a page did that it must not: dialogs (script ran) and console errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's browser bundle."""
    return axe_bundle()


class _HostHandler(http.server.SimpleHTTPRequestHandler):
    """Serves ``tests/web/host/`` with ``__APP__`` replaced by the calendar's address."""

    app_url = ""

    def do_GET(self) -> None:
        name = self.path.split("?")[0].lstrip("/") or "index.html"
        path = HOST_DIR / name
        if "/" in name or not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes().replace(b"__APP__", self.app_url.encode("ascii"))
        self.send_response(200)
        self.send_header(
            "Content-Type", "image/svg+xml" if name.endswith(".svg") else "text/html; charset=utf-8"
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The app on one port and the host page on another, both on 127.0.0.1."""
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS

    host = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostHandler)
    host_url = f"http://127.0.0.1:{host.server_address[1]}"
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'web.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    populate(factory, image=f"{host_url}/poster.svg")

    def make_app(url: str) -> Any:
        return create_app(
            Runtime(web_settings(url), engine, factory), clock=lambda: NOW, extensions=EXTENSIONS
        )

    app_server, app_thread, app_url = serve_app(make_app)
    _HostHandler.app_url = app_url
    host_thread = threading.Thread(target=host.serve_forever, daemon=True)
    host_thread.start()
    yield Servers(app_url, host_url)
    app_server.should_exit = True
    app_thread.join(timeout=10)
    host.shutdown()
    host.server_close()
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Opens pages in fresh contexts (Berlin time zone, German, the browser clock at ``NOW``); after the
    test, fails if any of them showed a dialog or logged a console error."""
    watch = Watch()
    contexts: list[Any] = []

    def open_one(viewport: dict[str, int], **options: Any) -> Any:
        context = browser.new_context(
            viewport=viewport, locale="de-DE", timezone_id="Europe/Berlin", **options
        )
        contexts.append(context)
        page = context.new_page()
        page.clock.set_fixed_time(NOW)
        page.on("dialog", on_dialog)
        page.on("console", on_console)
        page.on("pageerror", lambda error: watch.errors.append(str(error)))
        return page

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: Any) -> None:
        if message.type == "error":
            watch.errors.append(f"{message.text} at {message.location}")

    yield open_one
    for context in contexts:
        context.close()
    assert not watch.dialogs, f"a script ran and opened dialogs: {watch.dialogs}"
    assert not watch.errors, f"console errors: {watch.errors}"


def _axe(page: Any, source: str) -> None:
    """Run axe-core on the page; fail on serious or critical violations."""
    blocking = [v for v in axe_violations(page, source) if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {page.url}: {blocking}"


def _shot(page: Any, name: str, *, publish: str | None = None) -> None:
    screenshot(page, name, publish=publish)


def _titles(page: Any, selector: str = ".card-title a") -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def test_calendar_page_shows_events_with_the_xss_title_as_text(
    open_page: Any, servers: Servers, axe_source: str
) -> None:
    page = open_page(DESKTOP)
    page.goto(f"{servers.app}/")
    titles = _titles(page)
    assert titles[:3] == ["Ausstellung: Licht und Schatten", "Mahler: Sinfonie Nr. 2", "Punk-Nacht"]
    assert XSS_TITLE in titles
    assert page.locator('img[src="x"]').count() == 0
    cancelled = page.locator(".card.is-cancelled .card-title a")
    assert cancelled.inner_text() == "Punk-Nacht"
    assert "line-through" in cancelled.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert page.locator(".card.is-cancelled .badge-cancelled").inner_text() == "Abgesagt"
    _axe(page, axe_source)
    _shot(page, "calendar-desktop", publish="calendar.png")


def test_filters_change_the_list_and_live_in_the_url(open_page: Any, servers: Servers) -> None:
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{servers.app}/")
    page.select_option("#f-category", "konzert")
    page.get_by_label("Nächste 7 Tage").check()
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url("**/?*category=konzert*")
    assert "when=week" in page.url
    assert _titles(page) == ["Mahler: Sinfonie Nr. 2"]
    shared = open_page(DESKTOP)
    shared.goto(page.url)
    assert _titles(shared) == ["Mahler: Sinfonie Nr. 2"]
    page.get_by_role("link", name="Filter zurücksetzen").click()
    page.wait_for_url(f"{servers.app}/")
    page.fill("#f-q", "flohmarkt")
    page.press("#f-q", "Enter")
    page.wait_for_url("**q=flohmarkt*")
    assert _titles(page) == ["Kinderflohmarkt"]
    page.get_by_label("Nur Eintritt frei").check()
    page.get_by_label("Dieses Wochenende").check()
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url("**free=true*")
    assert _titles(page) == ["Kinderflohmarkt"]
    expect(page.locator("#feed-url")).to_have_value(f"{servers.app}/feeds/events.ics?free=true&q=flohmarkt")


def test_keyboard_skip_link_and_visible_focus(open_page: Any, servers: Servers) -> None:
    page = open_page(DESKTOP)
    page.goto(f"{servers.app}/")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert skip.evaluate("e => e === document.activeElement")
    assert skip.bounding_box()["y"] >= 0
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "f-q"
    assert page.locator("#f-q").evaluate("e => getComputedStyle(e).outlineStyle") == "solid"


def test_event_page_from_a_click(open_page: Any, servers: Servers, axe_source: str) -> None:
    page = open_page(DESKTOP)
    page.goto(f"{servers.app}/")
    page.get_by_role("link", name="Mahler: Sinfonie Nr. 2").click()
    page.wait_for_url(f"{servers.app}/events/evmahler")
    assert page.locator("h1").inner_text() == "Mahler: Sinfonie Nr. 2"
    events = page.evaluate(
        "JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent)"
    )
    assert [e["@type"] for e in events] == ["Event"] * 4
    assert page.locator(".event-image").evaluate("e => e.decode().then(() => e.naturalWidth)") == 800
    ics = page.get_by_role("link", name="In den Kalender eintragen (.ics)").get_attribute("href")
    feed = page.request.get(f"{servers.app}{ics}")
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    assert "openstreetmap.org" in (
        page.get_by_role("link", name="Auf OpenStreetMap anzeigen").get_attribute("href") or ""
    )
    _axe(page, axe_source)
    _shot(page, "event-desktop")
    page.get_by_role("link", name="Zurück zur Übersicht").click()
    page.wait_for_url(f"{servers.app}/")


def test_event_page_of_the_xss_title(open_page: Any, servers: Servers, axe_source: str) -> None:
    page = open_page(DESKTOP)
    page.goto(f"{servers.app}/events/evxss?lang=en")
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert page.title().startswith(XSS_TITLE)
    assert page.locator("img").count() == 0 and page.locator("svg").count() == 0
    _axe(page, axe_source)


def test_phone_layout_fits_360_pixels(open_page: Any, servers: Servers) -> None:
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    for path, name in (
        ("/", "calendar-phone"),
        ("/events/evmahler", "event-phone"),
        ("/embed/builder", "builder-phone"),
    ):
        page.goto(f"{servers.app}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        _shot(page, name)


def test_english_page(open_page: Any, servers: Servers) -> None:
    page = open_page(DESKTOP)
    page.goto(f"{servers.app}/")
    page.get_by_role("link", name="Switch to English").click()
    page.wait_for_url("**lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".day-heading").first.inner_text() == "Today, Friday 20 March 2026"
    page.get_by_role("link", name="Mahler: Sinfonie Nr. 2").click()
    page.wait_for_url("**/events/evmahler?lang=en")
    assert page.locator("#dates-heading").inner_text() == "Dates"


def test_builder_updates_the_snippet_and_preview(open_page: Any, servers: Servers, axe_source: str) -> None:
    from playwright.sync_api import expect

    page = open_page(DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"{servers.app}/embed/builder")
    expect(page.locator("#preview .sk-title")).to_have_count(5)
    page.select_option("#b-venue", "fzw")
    expect(page.locator("#snippet")).to_contain_text('<stadtkalender-events venue="fzw" limit="5" lang="de">')
    expect(page.locator("#iframe-snippet")).to_contain_text(
        f"{servers.app}/embed?venue=fzw&amp;limit=5&amp;lang=de"
    )
    expect(page.locator("#preview .sk-title")).to_have_text(["Punk-Nacht", XSS_TITLE])
    assert page.locator("#preview img").count() == 0
    assert "venue=fzw" in page.url
    page.locator('button[data-copy="snippet"]').click()
    expect(page.locator(".copy-status")).to_have_text("Kopiert")
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#snippet").inner_text()
    _axe(page, axe_source)
    _shot(page, "builder-desktop")


def test_iframe_view(open_page: Any, servers: Servers, axe_source: str) -> None:
    page = open_page({"width": 400, "height": 600})
    page.goto(f"{servers.app}/embed?venue=fzw")
    assert _titles(page, ".sk-title") == ["Punk-Nacht", XSS_TITLE]
    assert page.locator("img").count() == 0
    _axe(page, axe_source)
    _shot(page, "embed-iframe")


def test_widget_on_a_page_of_another_origin(open_page: Any, servers: Servers) -> None:
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{servers.host}/")
    concerts = page.locator("stadtkalender-events").first
    expect(concerts.locator(".sk-title")).to_have_text(["Mahler: Sinfonie Nr. 2"])
    assert concerts.locator(".sk-title").get_attribute("href") == f"{servers.app}/events/evmahler?lang=de"
    assert concerts.locator(".sk-when").inner_text() == "Fr., 20.03. · 20:00–22:00 Uhr"
    assert concerts.locator(".sk-badge-few_left").inner_text() == "Nur noch wenige Karten"
    assert concerts.locator(".sk-dates").inner_text() == "3 Termine"
    assert concerts.locator(".sk-title").evaluate("e => getComputedStyle(e).color") == "rgb(138, 21, 56)"
    everything = page.locator("#all-events")
    expect(everything.locator(".sk-title")).to_have_count(6)
    assert XSS_TITLE in _titles(page, "#all-events .sk-title")
    assert everything.locator("img").count() == 0
    assert everything.locator(".sk-cancelled .sk-badge-cancelled").inner_text() == "Cancelled"
    frame = page.frame_locator("iframe")
    expect(frame.locator(".sk-title")).to_have_text(["Punk-Nacht", XSS_TITLE])
    assert frame.locator("img").count() == 0
    page.locator("main").evaluate("e => e.scrollIntoView()")
    _shot(page, "widget-host", publish="widget.png")
    concerts.locator(".sk-title").click()
    page.wait_for_url(f"{servers.app}/events/evmahler?lang=de")
    assert page.locator("h1").inner_text() == "Mahler: Sinfonie Nr. 2"


def test_widget_and_iframe_look_the_same_and_follow_attribute_changes(
    open_page: Any, servers: Servers
) -> None:
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{servers.host}/")
    page.evaluate("""() => {
        const element = document.createElement("stadtkalender-events");
        element.id = "fzw";
        element.setAttribute("venue", "fzw");
        document.body.append(element);
    }""")
    widget_items = page.locator("#fzw .sk-item")
    frame_items = page.frame_locator("iframe").locator(".sk-item")
    expect(widget_items).to_have_count(2)
    expect(frame_items).to_have_count(2)
    normalise = "e => e.innerText.replace(/\\s+/g, ' ').trim()"
    assert [widget_items.nth(i).evaluate(normalise) for i in range(2)] == [
        frame_items.nth(i).evaluate(normalise) for i in range(2)
    ]
    english = open_page(DESKTOP)
    english.goto(f"{servers.app}/embed?venue=konzerthaus-dortmund&lang=en")
    page.locator("#fzw").evaluate(
        "e => { e.setAttribute('lang', 'en'); e.setAttribute('venue', 'konzerthaus-dortmund'); }"
    )
    expect(page.locator("#fzw .sk-title")).to_have_text(["Mahler: Sinfonie Nr. 2"])
    assert page.locator("#fzw .sk-item").evaluate(normalise) == english.locator(".sk-item").evaluate(
        normalise
    )
    page.locator("#all-events").evaluate("e => e.setAttribute('venue', 'depot')")
    expect(page.locator("#all-events .sk-title")).to_have_text(
        ["Kinderflohmarkt", "Kabarett am Sonntag", "Lesung: Ruhrgebietsgeschichten"]
    )
