"""The venue portal in a real browser: the issue's scenario from the invitation to a cancelled date in the
feed, axe-core on every portal page in both languages, and the event form by keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _console import EMAILS, PASSWORD
from browser_kit import (
    screenshot,
)
from console_browser import assert_axe_clean, chromium, console_server, pages, sign_in
from feed_host import ics, venue_site
from sqlalchemy.orm import Session, sessionmaker
from test_console_browser import _console_pages
from web_data import NOW, populate, web_settings

from aggregator.audit import Actor
from aggregator.clock import FixedClock
from aggregator.config import Settings
from aggregator.types import BERLIN
from aggregator.venue_feeds import add_feed
from aggregator.webhooks import register
from scheduler.service import SchedulerService
from sources.catalog import SourceCatalog, registered_specs
from stadtkalender.runtime import Runtime

pytestmark = pytest.mark.browser
MUSEUM = "info@brauerei-museum.de"
MUSEUM_PASSWORD = "hopfen und malz 1887"
TITLE = "Brauerei-Führung mit Blechbläsern"
DAYS = [(NOW + timedelta(days=d)).astimezone(BERLIN).date() for d in (7, 14, 21)]


FEED_DAY = DAYS[1].strftime("%Y%m%d") + "T200000"
SITE = {
    "/programm.ics": ics(
        ("k1", FEED_DAY, "Klavierabend Levit", "Konzerthaus Dortmund"),
        ("k2", FEED_DAY, "Holiday on Ice", "Westfalenhallen Dortmund"),
    ),
    "/saison.ics": ics(("s1", FEED_DAY, "Saisoneröffnung", None)),
}


def _allow_loopback(settings: Settings) -> Settings:
    """The venue's test site is on loopback: allowed as an admin allows an intranet host."""
    return replace(
        settings,
        probe=replace(settings.probe, allowed_hosts=["127.0.0.1"]),
        http=replace(settings.http, requests_per_second=0),
    )


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The venue's own web site with its calendar."""
    with venue_site(SITE) as url:
        yield url


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, site: str
) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """The whole app on a free port, with the web tests' calendar, one account per role, and one feed of the
    Konzerthaus (``/venue/feeds/1``)."""

    def fill(factory: sessionmaker[Session]) -> None:
        populate(factory)
        add_feed(
            factory,
            venue="konzerthaus-dortmund",
            venue_name="Konzerthaus Dortmund",
            url=f"{site}/saison.ics",
            config={"type": "ical", "url": f"{site}/saison.ics"},
            actor=Actor.machine("test"),
            now=NOW,
        )
        with factory() as session, session.begin():
            register(
                session,
                "https://93.184.216.34/kasse",
                owner=EMAILS["venue"],
                venues=["konzerthaus-dortmund"],
                owner_venues=["konzerthaus-dortmund"],
                settings=web_settings().open_data,
                now=NOW,
            )

    database = tmp_path_factory.mktemp("portal") / "portal.db"
    with console_server(database, FixedClock(NOW), fill, tune=_allow_loopback) as (url, factory):
        yield url, factory


@pytest.fixture(scope="module")
def app_url(served: tuple[str, sessionmaker[Session]]) -> str:
    """The app's address."""
    return served[0]


def _scheduler_poll(factory: sessionmaker[Session], app_url: str) -> None:
    """What the scheduler process does at its next poll: read the feeds again, run what was asked for."""
    settings = _allow_loopback(web_settings(app_url))
    specs = SourceCatalog({}, lambda: registered_specs(factory, settings))
    runtime = Runtime(settings, factory.kw["bind"], factory, specs, FixedClock(NOW))
    outcomes = SchedulerService(runtime).poll_requests()
    assert all(o.report is not None and o.report.status.value == "success" for o in outcomes), outcomes


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium."""
    with chromium() as instance:
        yield instance


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """Fresh German pages in Berlin time; any console error but the 400 of a refused form (the test sends
    one on purpose) fails the test."""
    with pages(browser, tolerated="status of 400") as make:
        yield make


def _sign_in(page: Any, app_url: str, email: str, password: str = PASSWORD) -> None:
    sign_in(page, app_url, "venue", email=email, password=password)


def _tab_to(page: Any, selector: str) -> None:
    """Press Tab until ``selector`` has the focus (the keyboard's way to a field)."""
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_every_portal_page_has_no_axe_violations_in_either_language(
    new_page: Callable[[], Any], app_url: str
) -> None:
    page = new_page()
    _sign_in(page, app_url, EMAILS["venue"])
    assert page.url == f"{app_url}/venue/"
    paths = _console_pages({"event_id": "evmahler", "feed_id": "1", "hook_id": "1"}, role="venue")
    assert "/venue/" in paths and "/venue/new" in paths and "/venue/events/evmahler" in paths
    for path in paths:
        for lang in ("de", "en"):
            answer = page.goto(f"{app_url}{path}?lang={lang}")
            assert answer.status == 200, (path, answer.status)
            assert_axe_clean(page)
    page.goto(f"{app_url}/venue/new?lang=de")
    page.get_by_role("button", name="Veröffentlichen").click()  # the browser's own checks stop it
    page.fill("#e-title", "x")
    page.fill("#e-dates", "31.02.2026 19:30")
    page.get_by_role("button", name="Veröffentlichen").click()
    page.wait_for_load_state()
    assert "ist kein Datum" in page.locator("[role=alert]").inner_text()
    assert_axe_clean(page)


def test_invitation_to_a_published_three_date_event_an_upload_and_a_cancelled_date(
    new_page: Callable[[], Any], app_url: str, tmp_path: Path
) -> None:
    editor = new_page()
    _sign_in(editor, app_url, EMAILS["editor"])
    editor.goto(f"{app_url}/admin/invitations")
    editor.get_by_label("E-Mail-Adresse").first.fill(MUSEUM)
    editor.get_by_label("Orte (Kürzel, durch Komma getrennt)").fill("konzerthaus-dortmund")
    editor.get_by_role("button", name="Einladen").click()
    editor.wait_for_load_state()
    link = editor.locator("#made-link").inner_text()
    assert link.startswith(f"{app_url}/admin/welcome?token=")
    assert_axe_clean(editor)

    page = new_page()
    page.goto(link)
    assert_axe_clean(page)
    page.get_by_label("Neues Passwort (mindestens 12 Zeichen)").fill(MUSEUM_PASSWORD)
    page.get_by_label("Neues Passwort wiederholen").fill(MUSEUM_PASSWORD)
    page.get_by_role("button", name="Passwort setzen").click()
    page.wait_for_url(f"{app_url}/venue/")

    page.goto(f"{app_url}/venue/new")  # the event form, by keyboard alone
    _tab_to(page, "#e-title")
    page.keyboard.type(TITLE)
    _tab_to(page, "#e-description")
    page.keyboard.type("Eine Führung mit Musik.")
    _tab_to(page, "input[name=categories][value=Konzert]")
    page.keyboard.press("Space")
    _tab_to(page, "#e-dates")
    page.keyboard.type("\n".join(f"{day.strftime('%d.%m.%Y')} 19:30" for day in DAYS))
    _tab_to(page, "#e-room")
    page.keyboard.type("Kammermusiksaal")
    _tab_to(page, "#e-price-min")
    page.keyboard.type("12,50")
    _tab_to(page, "#e-availability")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "button[type=submit]:not(header button)")
    screenshot(page, "portal-form", publish="portal-form.png")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/venue/events/[^?]+\?done=event_published"))
    assert "Veröffentlicht" in page.locator("p.notice").inner_text()
    event_id = page.url.split("/venue/events/")[1].split("?")[0]
    assert page.locator("form[action$='/cancel']").count() == 3
    assert_axe_clean(page)
    screenshot(page, "portal-event", publish="portal.png")

    public = page.request.get(f"{app_url}/events/{event_id}")
    assert public.status == 200 and TITLE in public.text()
    assert TITLE in page.request.get(f"{app_url}/embed?venue=konzerthaus-dortmund").text()
    feed = page.request.get(f"{app_url}/feeds/venues/konzerthaus-dortmund.ics").text()
    assert feed.count("SUMMARY:Brauerei-Führung") == 3

    ics = tmp_path / "programm.ics"
    start = DAYS[0].strftime("%Y%m%d")
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Museum//DE\r\nBEGIN:VEVENT\r\nUID:lesung-1\r\n"
        f"DTSTART;TZID=Europe/Berlin:{start}T110000\r\nSUMMARY:Lesung im Sudhaus\r\n"
        "LOCATION:Konzerthaus Dortmund\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    page.goto(f"{app_url}/venue/upload")
    page.set_input_files("#u-file", str(ics))
    page.get_by_role("button", name="Vorschau zeigen").click()
    page.wait_for_load_state()
    assert page.locator("#preview-counts").inner_text() == "1 neu, 0 geändert, 0 abgesagt, 0 unverändert"
    assert_axe_clean(page)
    page.get_by_role("button", name="Übernehmen").click()
    page.wait_for_url(f"{app_url}/venue/?done=upload_committed")
    assert "Lesung im Sudhaus" in page.content()

    page.goto(f"{app_url}/venue/events/{event_id}")
    _tab_to(page, "form[action$='/cancel'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"done=date_cancelled"))
    own_feed = page.request.get(f"{app_url}/events/{event_id}.ics").text()
    assert own_feed.count("STATUS:CANCELLED") == 1

    _tab_to(page, "#edit-event")  # editing the event, by keyboard alone
    page.keyboard.press("Enter")
    page.wait_for_url(f"{app_url}/venue/events/{event_id}/edit")
    assert page.input_value("#e-title") == TITLE and page.input_value("#e-room") == "Kammermusiksaal"
    assert_axe_clean(page)
    _tab_to(page, "#e-title")
    page.keyboard.press("End")
    page.keyboard.type(" und Chor")
    _tab_to(page, "#e-dates")  # the last date left out: the page asks first
    page.keyboard.press("Control+End")
    for _ in range(len(f"{DAYS[2].strftime('%d.%m.%Y')} 19:30") + 1):
        page.keyboard.press("Backspace")
    _tab_to(page, "button[type=submit]:not(header button)")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#edit-cancelled li").all_inner_texts() == [f"{DAYS[2].strftime('%d.%m.%Y')} 19:30"]
    assert_axe_clean(page)
    _tab_to(page, "button[type=submit]:not(header button)")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"done=event_updated"))
    assert page.locator("h1").inner_text() == f"{TITLE} und Chor"
    edited_feed = page.request.get(f"{app_url}/events/{event_id}.ics").text()
    assert edited_feed.count("STATUS:CANCELLED") == 2


def test_a_venue_registers_its_calendar_by_url_and_sees_the_first_run(
    new_page: Callable[[], Any], served: tuple[str, sessionmaker[Session]], site: str
) -> None:
    app_url, factory = served
    page = new_page()
    _sign_in(page, app_url, EMAILS["venue"])
    page.goto(f"{app_url}/venue/feeds")
    _tab_to(page, "#feed-url")  # by keyboard alone
    page.keyboard.type(f"{site}/programm.ics")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{app_url}/venue/feeds/check")
    assert "Klavierabend Levit" in page.locator("section[aria-labelledby=found]").inner_text()
    assert "nicht übernommen" in page.locator("#feed-places").inner_text()  # the Westfalenhallen's show
    assert_axe_clean(page)
    screenshot(page, "portal-feed-check", publish="portal-feed-check.png")
    page.get_by_role("button", name="Als Feed speichern").click()
    page.wait_for_url(f"{app_url}/venue/feeds?done=feed_saved")
    assert "programm.ics" in page.locator("main table").inner_text()

    _scheduler_poll(factory, app_url)

    page.get_by_role("link", name=f"Läufe ansehen: {site}/programm.ics").click()
    assert "erfolgreich" in page.locator("#feed-runs").inner_text()
    assert "publishes only its own events" in page.locator("section[aria-labelledby=rejections]").inner_text()
    assert_axe_clean(page)
    screenshot(page, "portal-feed", publish="portal-feed.png")
    events = page.request.get(f"{app_url}/api/v1/events?venue=konzerthaus-dortmund&limit=100").json()
    titles = {event["title"] for event in events["events"]}
    assert "Klavierabend Levit" in titles and "Holiday on Ice" not in titles
