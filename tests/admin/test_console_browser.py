"""The console in a real browser: Debian's Chromium through Playwright, axe-core on every page, a task by keyboard.

The app runs under uvicorn on a free port with the web tests' calendar and one account per role; the
browser clock and the app clock stand at the calendar's "now".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from _console import EMAILS, PASSWORD, Spec, add_held_run
from browser_kit import (
    screenshot,
)
from calendar_rows import Runtime
from console_browser import assert_axe_clean, chromium, console_server, pages, sign_in
from web_data import NOW, populate, web_settings

from aggregator.clock import FixedClock
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.webhooks import register
from calendar_api.admin import build_console

pytestmark = pytest.mark.browser
UNKNOWN_PLACE = "Schauburg"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole app on a free port, with the web tests' calendar and one account per role."""
    clock = FixedClock(NOW)

    def fill(factory: Any) -> None:
        populate(factory)
        _send_an_unknown_venue(factory, clock)
        SAMPLES.update(add_held_run(factory, web_settings(), NOW))
        HELD.update(add_held_run(factory, web_settings(), NOW, source="keller", title="Lesung", venue="FZW"))
        with factory() as session, session.begin():
            hook = register(
                session,
                "https://93.184.216.34/dortmund-app",
                owner="app@dortmund.de",
                categories=["konzert"],
                settings=web_settings().open_data,
                now=NOW,
            )
            SAMPLES["hook_id"] = str(hook.id)

    specs = {"domicil": Spec("domicil"), "keller": Spec("keller")}
    with console_server(tmp_path_factory.mktemp("console") / "console.db", clock, fill, specs=specs) as (
        url,
        _,
    ):
        yield url


def _send_an_unknown_venue(factory: Any, clock: FixedClock) -> None:
    """A source's event at a place the registry does not know: the venues page shows a suggestion."""
    listing = Listing(
        source="dortmund_de",
        record_id="schauburg-1",
        title="Stummfilm mit Orgel",
        fetched_at=NOW,
        start=NOW + timedelta(days=3),
        venue_name=UNKNOWN_PLACE,
    )
    report = ingest(IngestContext(factory, web_settings(), clock=clock), "dortmund_de", [listing])
    assert report.status.value == "success", report.error


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium."""
    with chromium() as instance:
        yield instance


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """Fresh browser contexts in German and Berlin time; fails the test on any console error."""
    with pages(browser) as make:
        yield make


def _console_pages(sample: dict[str, str], role: str = "admin") -> list[str]:
    """Every GET page of the console ``role`` may open, with path parameters filled from ``sample``.

    Public pages are left out: the login is checked on its own, the welcome page (it needs a one-time
    link) in tests/admin/test_portal_browser.py.
    """
    console = build_console(Runtime(web_settings(), None, None), FixedClock(NOW))  # type: ignore[arg-type]
    paths = []
    for route in console.registered:
        if route.kind != "page" or "GET" not in route.methods or role not in route.roles:
            continue
        path = route.path
        for name in re.findall(r"\{([^}:]+)(?::[^}]+)?\}", path):
            if name not in sample:
                raise AssertionError(f"no sample value for {{{name}}} in {path}: add one to the test")
            path = re.sub(r"\{" + name + r"(?::[^}]+)?\}", sample[name], path)
        paths.append(path)
    return paths


SAMPLES: dict[str, str] = {
    "slug": "konzerthaus-dortmund",
    "event_id": "evmahler",
    "id": "evflea",
    "oid": "ocflea",
}
"""Values for the path parameters of console pages (one real object each; ``app_url`` adds the runs')."""
HELD: dict[str, str] = {}
"""A second held-back run (``name``, ``run_id``), for the test that confirms one."""


def test_every_console_page_has_no_axe_violations_in_either_language(
    new_page: Callable[[], Any], app_url: str
) -> None:
    page = new_page()
    page.goto(f"{app_url}/admin/login")
    assert_axe_clean(page)
    sign_in(page, app_url, "admin")
    for path in _console_pages(SAMPLES):
        for lang in ("de", "en"):
            answer = page.goto(f"{app_url}{path}?lang={lang}")
            assert answer.status == 200, (path, answer.status)
            assert_axe_clean(page)
    page.goto(f"{app_url}/admin/?lang=de")
    screenshot(page, "console-overview", publish="console.png")


def test_issuing_a_push_token_by_keyboard_alone(new_page: Callable[[], Any], app_url: str) -> None:
    page = new_page()
    page.goto(f"{app_url}/admin/login?next=/admin/tokens")
    for _ in ("skip link", "console name", "language switch", "e-mail"):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(EMAILS["editor"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{app_url}/admin/tokens")
    page.focus("#t-name")
    page.keyboard.type("Kassensystem")
    page.keyboard.press("Tab")
    page.keyboard.type("konzerthaus-dortmund")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # read only
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    shown = page.locator(".secret code").inner_text()
    assert shown.startswith("sk")
    assert page.locator("td", has_text="Kassensystem").count() == 1
    focused_outline = page.evaluate(
        "() => { const b = document.querySelector('form.inline button'); b.focus();"
        " return getComputedStyle(b).outlineStyle; }"
    )
    assert focused_outline != "none"
    page.locator("form[action='/admin/logout'] button").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/login"))
    assert "Sie sind abgemeldet" in page.content()


def test_an_editor_confirms_a_held_run_after_seeing_what_it_cancels(
    new_page: Callable[[], Any], app_url: str
) -> None:
    page = new_page()
    sign_in(page, app_url, "editor")
    page.goto(f"{app_url}/admin/runs/{HELD['run_id']}")
    cancels = page.locator("table[aria-labelledby='cancels'] tbody tr")
    assert cancels.count() == 1
    assert (
        "Lesung" in cancels.first.inner_text()
        and "keine Quelle listet ihn mehr" in cancels.first.inner_text()
    )
    assert page.locator("table[aria-labelledby='counted'] tbody tr").count() == 9
    event_link = cancels.first.locator("a").get_attribute("href")
    assert event_link is not None and event_link.startswith("/events/")
    date = cancels.first.locator("th").inner_text()
    page.get_by_role("button", name="Bestätigen und anwenden").click()
    page.wait_for_load_state()
    assert "Der Lauf ist bestätigt und angewendet." in page.locator("p.notice").inner_text()
    assert page.locator("table[aria-labelledby='cancels']").count() == 0
    answer = page.request.get(f"{app_url}/api/v1{event_link}")
    occurrences = answer.json()["occurrences"]
    statuses = {o["status"] for o in occurrences}
    assert statuses == {"scheduled", "cancelled"}, statuses
    cancelled = [o for o in occurrences if o["status"] == "cancelled"]
    assert len(cancelled) == 1 and cancelled[0]["start"].replace("T", " ").startswith(date)


def test_settling_a_venue_suggestion_by_keyboard_alone(new_page: Callable[[], Any], app_url: str) -> None:
    page = new_page()
    sign_in(page, app_url, "editor")
    page.goto(f"{app_url}/admin/venues")
    assert page.locator("#suggestions ~ table th[scope=row]", has_text=UNKNOWN_PLACE).count() == 1
    page.focus("#s1-target")
    page.keyboard.press("ArrowDown")  # the second choice
    target = page.evaluate("document.querySelector('#s1-target').value")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{app_url}/admin/venues/{target}?moved=1&done=suggestion_aliased")
    assert page.locator("[role=status]").first.inner_text() == (
        "Der unbekannte Ort ist jetzt ein Alias; seine Termine sind umgezogen."
    )
    assert page.locator("td", has_text=UNKNOWN_PLACE).count() == 1  # the new alias
    screenshot(page, "console-venue")
    events = page.request.get(f"{app_url}/api/v1/events?venue={target}").json()["events"]
    assert "Stummfilm mit Orgel" in [event["title"] for event in events]
