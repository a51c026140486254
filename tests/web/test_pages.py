"""The HTML routes through Starlette's test client: list, filters, languages, event page, embed, builder."""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from starlette.testclient import TestClient
from web_data import BASE_URL, LISTED, XSS_DESCRIPTION, XSS_SUBTITLE, XSS_TITLE

from calendar_api.web import site as site_module

XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def _get(client: TestClient, url: str, **headers: str) -> BeautifulSoup:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return BeautifulSoup(response.text, "html.parser")


def _ids(page: BeautifulSoup, selector: str = ".card-title a") -> list[str]:
    return [str(a["href"]).split("?")[0].rsplit("/", 1)[1] for a in page.select(selector)]


def _card(page: BeautifulSoup, event_id: str) -> Tag:
    link = page.select_one(f'.card-title a[href^="/events/{event_id}"]')
    assert link is not None, f"no card for {event_id}"
    found = link.find_parent("li")
    assert isinstance(found, Tag)
    return found


def _text(node: Tag | None) -> str:
    assert node is not None
    return " ".join(node.get_text(" ").split())


@pytest.fixture(scope="module")
def home(client: TestClient) -> BeautifulSoup:
    return _get(client, "/")


def test_upcoming_events_in_order_of_next_date(home: BeautifulSoup) -> None:
    assert _ids(home) == LISTED


def test_events_are_grouped_by_berlin_day(home: BeautifulSoup) -> None:
    assert [_text(h) for h in home.select(".day-heading")] == [
        "Heute, Freitag, 20. März 2026",
        "Morgen, Samstag, 21. März 2026",
        "Sonntag, 22. März 2026",
        "Mittwoch, 15. April 2026",
    ]


def test_card_shows_time_venue_category_price_availability_and_dates(home: BeautifulSoup) -> None:
    card = _card(home, "evmahler")
    assert _text(card.select_one(".card-when")) == "20:00–22:00 Uhr"
    assert _text(card.select_one(".card-venue")) == "Konzerthaus Dortmund"
    assert _text(card.select_one(".card-category")) == "Konzert"
    assert _text(card.select_one(".card-price")) == "19 €–59 €"
    assert _text(card.select_one(".badge-few_left")) == "Nur noch wenige Karten"
    assert (
        _text(card.select_one(".card-dates"))
        == "3 Termine · Nächste Termine: Fr., 27.03. 20:00, Fr., 03.04. 20:00"
    )


def test_cancelled_event_is_marked_and_struck_through(home: BeautifulSoup) -> None:
    card = _card(home, "evpunk")
    assert "is-cancelled" in card["class"]
    assert _text(card.select_one(".badge-cancelled")) == "Abgesagt"


@pytest.mark.parametrize(
    ("event_id", "badge", "text"),
    [
        ("evsold", "sold_out", "Ausverkauft"),
        ("evflea", "free", "Eintritt frei"),
    ],
)
def test_availability_badge(home: BeautifulSoup, event_id: str, badge: str, text: str) -> None:
    assert _text(_card(home, event_id).select_one(f".badge-{badge}")) == text


def test_running_exhibition_shows_until_when(home: BeautifulSoup) -> None:
    assert _text(_card(home, "evexpo").select_one(".card-when")) == "bis 30. Juni 2026"


def test_free_event_shows_no_price_besides_the_badge(home: BeautifulSoup) -> None:
    assert _card(home, "evflea").select_one(".card-price") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("when=today", ["evexpo", "evmahler"]),
        ("when=weekend", ["evexpo", "evpunk", "evxss", "evflea", "evsold"]),
        ("when=week", ["evexpo", "evmahler", "evpunk", "evxss", "evflea", "evsold"]),
        ("when=dates&from=2026-04-01&to=2026-04-30", ["evexpo", "evmahler", "evreading"]),
        ("from=2026-04-10", ["evexpo", "evreading"]),
        ("to=2026-03-20", ["evexpo", "evmahler"]),
        ("when=dates&from=2026-03-01&to=2026-03-20", ["evexpo", "evmahler"]),
        ("venue=depot", ["evflea", "evsold", "evreading"]),
        ("category=konzert", ["evmahler"]),
        ("district=Innenstadt-West", ["evmahler", "evpunk", "evxss"]),
        ("free=true", ["evflea"]),
        ("available=true", ["evexpo", "evmahler", "evxss", "evflea", "evreading"]),
        ("q=mahler", ["evmahler"]),
        ("q=fzw", ["evpunk", "evxss"]),
        ("q=&venue=&category=&when=&from=&to=", LISTED),
        ("utm_source=newsletter&lang=de", LISTED),
        ("venue=depot&category=kabarett&when=weekend", ["evsold"]),
    ],
)
def test_filters(client: TestClient, query: str, expected: list[str]) -> None:
    assert _ids(_get(client, f"/?{query}")) == expected


@pytest.mark.parametrize(
    "query",
    [
        "venue=depot",
        "category=konzert",
        "district=innenstadt-west",
        "free=true",
        "available=true",
        "q=fzw",
        "from=2026-04-01&to=2026-04-30",
    ],
)
def test_filters_mean_what_they_mean_in_the_json_api(client: TestClient, query: str) -> None:
    api = client.get(f"/api/v1/events?{query}")
    assert api.status_code == 200
    assert _ids(_get(client, f"/?{query}")) == [e["id"] for e in api.json()["events"]]


def test_filter_form_is_refilled_from_the_url(client: TestClient) -> None:
    page = _get(client, "/?q=mahler&venue=konzerthaus-dortmund&category=konzert&free=true&when=week")
    assert page.select_one("#f-q")["value"] == "mahler"  # type: ignore[index]
    assert page.select_one("#f-venue option[selected]")["value"] == "konzerthaus-dortmund"  # type: ignore[index]
    assert page.select_one("#f-category option[selected]")["value"] == "konzert"  # type: ignore[index]
    assert page.select_one('input[name="free"][checked]') is not None
    assert page.select_one('input[name="when"][checked]')["value"] == "week"  # type: ignore[index]
    assert page.select_one('input[name="available"][checked]') is None


def test_every_form_control_has_a_label(home: BeautifulSoup) -> None:
    controls = home.select("form input:not([type=hidden]), form select")
    assert controls
    for control in controls:
        wrapped = control.find_parent("label") is not None
        labelled = control.get("id") and home.select_one(f'label[for="{control["id"]}"]') is not None
        assert wrapped or labelled, control


def _feed_params(page: BeautifulSoup) -> tuple[str, dict[str, list[str]]]:
    url = str(page.select_one("#feed-url")["value"])  # type: ignore[index]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def test_feed_of_a_relative_range_keeps_the_filters_but_not_the_dates(client: TestClient) -> None:
    url, params = _feed_params(_get(client, "/?category=konzert&when=week&free=true"))
    assert url == f"{BASE_URL}/feeds/events.ics"
    assert params == {"category": ["konzert"], "free": ["true"]}


def test_feed_of_picked_dates_keeps_them(client: TestClient) -> None:
    _url, params = _feed_params(_get(client, "/?when=dates&from=2026-04-01&to=2026-04-30&venue=depot"))
    assert params == {"from": ["2026-04-01"], "to": ["2026-04-30"], "venue": ["depot"]}


def test_subscribe_links_point_at_the_same_feed(client: TestClient) -> None:
    page = _get(client, "/?venue=depot")
    webcal = page.find("a", string="Abonnieren (webcal)")
    google = page.find("a", string="Zu Google Kalender hinzufügen")
    assert isinstance(webcal, Tag) and isinstance(google, Tag)
    assert webcal["href"] == "webcal://kalender.example/feeds/events.ics?venue=depot"
    google_url = urlsplit(str(google["href"]))
    assert (
        f"{google_url.scheme}://{google_url.netloc}{google_url.path}"
        == "https://calendar.google.com/calendar/r"
    )
    assert unquote(google_url.query) == "cid=webcal://kalender.example/feeds/events.ics?venue=depot"


def test_the_feed_behind_the_subscribe_link_answers(client: TestClient) -> None:
    _url, params = _feed_params(_get(client, "/?venue=depot&when=week"))
    response = client.get("/feeds/events.ics", params={k: v[0] for k, v in params.items()})
    assert response.status_code == 200
    assert "Kinderflohmarkt" in response.text and "Mahler" not in response.text


@pytest.mark.parametrize(
    "query", ["from=2026-13-01", "when=tomorrow", "free=yes", "to=2026-03-01&from=2026-03-10"]
)
def test_bad_filter_value_is_an_html_400(client: TestClient, query: str) -> None:
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = BeautifulSoup(response.text, "html.parser")
    assert _text(page.h1) == "Ungültige Anfrage"
    assert _text(page.select_one(".error-message"))


def test_paging_links_to_the_next_events(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_module, "PAGE_LIMIT", 3)
    seen: list[str] = []
    url: str | None = "/?venue=depot&when=dates&from=2026-03-01"
    while url is not None:
        page = _get(client, url)
        seen += _ids(page)
        more = page.select_one(".more a")
        url = str(more["href"]) if more is not None else None
        if url is not None:
            assert "venue=depot" in url and "cursor=" in url
    monkeypatch.undo()
    assert seen == ["evflea", "evsold", "evreading"]
    whole = _get(client, "/?venue=depot&when=dates&from=2026-03-01")
    assert _ids(whole) == seen and whole.select_one(".more a") is None


# Languages


def test_german_by_default(home: BeautifulSoup) -> None:
    assert home.html["lang"] == "de"  # type: ignore[index]
    assert _text(home.select_one(".lang-switch")) == "Switch to English"


def test_english_by_parameter_with_english_dates_and_labels(client: TestClient) -> None:
    page = _get(client, "/?lang=en")
    assert page.html["lang"] == "en"  # type: ignore[index]
    assert _text(page.select_one(".day-heading")) == "Today, Friday 20 March 2026"
    card = _card(page, "evmahler")
    assert _text(card.select_one(".card-when")) == "20:00–22:00"
    assert _text(card.select_one(".card-price")) == "€19–€59"
    assert _text(card.select_one(".card-category")) == "Concert"
    assert _text(card.select_one(".badge-few_left")) == "Few tickets left"
    assert _text(card.select_one(".card-dates")) == "3 dates · Next dates: Fri 27 Mar 20:00, Fri 3 Apr 20:00"


def test_language_chosen_in_the_url_is_kept_in_links_and_the_form(client: TestClient) -> None:
    page = _get(client, "/?lang=en&venue=depot")
    assert all(str(a["href"]).endswith("?lang=en") for a in page.select(".card-title a"))
    assert page.select_one('form input[type=hidden][name="lang"]')["value"] == "en"  # type: ignore[index]
    switch = urlsplit(str(page.select_one(".lang-switch")["href"]))  # type: ignore[index]
    assert parse_qs(switch.query) == {"venue": ["depot"], "lang": ["de"]}


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5, de;q=0.4", "en"),
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en;q=0.2, de;q=0.9", "de"),
        ("fr, *;q=0.5", "de"),
        ("en;q=0", "de"),
        ("", "de"),
    ],
)
def test_language_from_accept_language(client: TestClient, header: str, lang: str) -> None:
    page = _get(client, "/", **{"Accept-Language": header})
    assert page.html["lang"] == lang  # type: ignore[index]


def test_cached_pages_are_kept_apart_by_language(client: TestClient) -> None:
    english = client.get("/?venue=fzw", headers={"Accept-Language": "en"})
    german = client.get("/?venue=fzw", headers={"Accept-Language": "de"})
    assert 'lang="en"' in english.text and 'lang="de"' in german.text
    assert "Accept-Language" in german.headers["vary"]


def test_unchanged_page_answers_304(client: TestClient) -> None:
    first = client.get("/events/evmahler")
    again = client.get("/events/evmahler", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


# Escaping: the XSS title is text everywhere


@pytest.mark.parametrize(
    "url", ["/", "/events/evxss", "/embed", "/embed?venue=fzw", "/?lang=en", "/?q=onerror"]
)
def test_xss_title_is_escaped(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert XSS_ESCAPED in response.text
    assert "<img src=x" not in response.text
    assert "<svg" not in response.text
    page = BeautifulSoup(response.text, "html.parser")
    assert XSS_TITLE in page.get_text()
    assert page.find("img", src="x") is None


def test_xss_subtitle_and_description_are_text_on_the_event_page(client: TestClient) -> None:
    page = _get(client, "/events/evxss")
    assert _text(page.select_one(".event-subtitle")) == XSS_SUBTITLE
    assert _text(page.select_one(".description")) == XSS_DESCRIPTION
    assert [s.get("type") for s in page.find_all("script")] == ["application/ld+json"]


def test_javascript_urls_from_sources_are_not_linked(client: TestClient) -> None:
    response = client.get("/events/evxss")
    assert "javascript:" not in response.text


def test_search_text_is_escaped_in_the_form(client: TestClient) -> None:
    response = client.get("/", params={"q": '"><script>alert(7)</script>'})
    assert "<script>alert(7)" not in response.text
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one("#f-q")["value"] == '"><script>alert(7)</script>'  # type: ignore[index]


# The event page


@pytest.fixture(scope="module")
def mahler(client: TestClient) -> BeautifulSoup:
    return _get(client, "/events/evmahler")


def _jsonld(page: BeautifulSoup) -> Any:
    script = page.find("script", type="application/ld+json")
    assert isinstance(script, Tag)
    return json.loads(script.string or "")


def test_event_page_lists_upcoming_dates_with_offers_per_source(mahler: BeautifulSoup) -> None:
    dates = mahler.select("section[aria-labelledby=dates-heading] > .dates-list > .date")
    assert [_text(d.select_one(".date-day")) for d in dates] == [
        "Freitag, 20. März 2026",
        "Freitag, 27. März 2026",
        "Freitag, 3. April 2026",
    ]
    second = [_text(li) for li in dates[1].select(".offers li")]
    assert second == [
        "19,50 €–59 € Karten erhältlich Karten bei konzerthaus",
        "25 €–65 € Karten erhältlich Karten bei Eventim",
    ]
    links = [str(a["href"]) for a in dates[1].select(".offers a")]
    assert links == ["https://tickets.example/mahler-2", "https://eventim.example/mahler"]
    assert _text(dates[2].select_one(".badge-sold_out")) == "Ausverkauft"
    assert _text(dates[0].select_one(".date-room")) == "Saal: Großer Saal"


def test_event_page_keeps_past_dates_apart(mahler: BeautifulSoup) -> None:
    past = mahler.select("details.past .date-day")
    assert [_text(d) for d in past] == ["Samstag, 10. Januar 2026"]


def test_event_page_shows_venue_with_address_and_map(mahler: BeautifulSoup) -> None:
    place = mahler.select_one(".place")
    assert place is not None
    assert "Brückstraße 21" in _text(place.address) and "44135 Dortmund" in _text(place.address)
    osm = place.find("a", string="Auf OpenStreetMap anzeigen")
    assert isinstance(osm, Tag)
    assert parse_qs(urlsplit(str(osm["href"])).query) == {"mlat": ["51.51490"], "mlon": ["7.46360"]}


def test_event_page_shows_description_image_and_sources(mahler: BeautifulSoup) -> None:
    assert _text(mahler.select_one(".description")) == "Leitung: Gabriel Feltz. Chor und Solisten."
    assert mahler.select_one(".event-image")["src"] == "https://images.example/mahler.jpg"  # type: ignore[index]
    sources = {_text(a): a["href"] for a in mahler.select(".sources a")}
    assert sources == {
        "konzerthaus": "https://www.konzerthaus-dortmund.de/m1",
        "eventim": "https://eventim.example/mahler",
    }


def test_add_to_calendar_link_is_the_events_ics(client: TestClient, mahler: BeautifulSoup) -> None:
    link = mahler.find("a", string="In den Kalender eintragen (.ics)")
    assert isinstance(link, Tag) and link["href"] == "/events/evmahler.ics"
    feed = client.get(str(link["href"]))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert feed.text.count("BEGIN:VEVENT") == 4


def test_jsonld_is_one_schema_org_event_per_date(mahler: BeautifulSoup) -> None:
    events = _jsonld(mahler)
    assert [e["startDate"] for e in events] == [
        "2026-01-10T20:00:00+01:00",
        "2026-03-20T20:00:00+01:00",
        "2026-03-27T20:00:00+01:00",
        "2026-04-03T20:00:00+02:00",
    ]
    first = events[1]
    assert first["@context"] == "https://schema.org" and first["@type"] == "Event"
    assert first["name"] == "Mahler: Sinfonie Nr. 2"
    assert first["url"] == f"{BASE_URL}/events/evmahler"
    assert first["eventStatus"] == "https://schema.org/EventScheduled"
    assert first["location"]["address"]["streetAddress"] == "Brückstraße 21"
    assert first["location"]["geo"] == {"@type": "GeoCoordinates", "latitude": 51.5149, "longitude": 7.4636}
    assert first["offers"][0]["availability"] == "https://schema.org/LimitedAvailability"
    assert events[3]["offers"][0]["availability"] == "https://schema.org/SoldOut"


def test_jsonld_of_a_cancelled_date(client: TestClient) -> None:
    (event,) = _jsonld(_get(client, "/events/evpunk"))
    assert event["eventStatus"] == "https://schema.org/EventCancelled"


def test_jsonld_keeps_a_script_breaking_title_inside_the_script(client: TestClient) -> None:
    response = client.get("/events/evxss")
    script_text = response.text.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script_text
    (event,) = json.loads(script_text)
    assert event["name"] == XSS_TITLE and event["description"] == XSS_DESCRIPTION


def test_unknown_event_is_an_html_404(client: TestClient) -> None:
    response = client.get("/events/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = BeautifulSoup(response.text, "html.parser")
    assert _text(page.h1) == "Nicht gefunden"
    english = BeautifulSoup(client.get("/events/nothing-here?lang=en").text, "html.parser")
    assert _text(english.h1) == "Not found"


def test_merged_event_redirects_to_the_surviving_one(client: TestClient) -> None:
    response = client.get("/events/evmahlerold?lang=en", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/events/evmahler?lang=en"


def test_pages_may_not_be_framed_but_the_embed_view_may(client: TestClient) -> None:
    assert "frame-ancestors 'self'" in client.get("/").headers["content-security-policy"]
    assert "frame-ancestors" not in client.get("/embed").headers["content-security-policy"]


# The iframe view


def test_embed_lists_the_next_events_of_a_venue(client: TestClient) -> None:
    page = _get(client, "/embed?venue=depot&limit=2")
    assert _ids(page, ".sk-title") == ["evflea", "evsold"]
    assert page.select_one("base")["target"] == "_blank"  # type: ignore[index]
    assert page.select_one(".sk-more")["href"] == "/?venue=depot"  # type: ignore[index]


def test_embed_shows_five_by_default_and_marks_cancelled(client: TestClient) -> None:
    page = _get(client, "/embed")
    assert _ids(page, ".sk-title") == LISTED[:5]
    cancelled = page.select_one(".sk-cancelled")
    assert cancelled is not None and _text(cancelled.select_one(".sk-badge-cancelled")) == "Abgesagt"


def test_embed_in_english_matches_the_widget_format(client: TestClient) -> None:
    page = _get(client, "/embed?venue=konzerthaus-dortmund&lang=en")
    assert _text(page.select_one(".sk-when")) == "Fri 20 Mar · 20:00–22:00"
    assert _text(page.select_one(".sk-meta")) == "Konzerthaus Dortmund · €19–€59"
    assert _text(page.select_one(".sk-dates")) == "3 dates"


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "venue="])
def test_embed_limit(client: TestClient, query: str) -> None:
    expected = 400 if query != "venue=" else 200
    assert client.get(f"/embed?{query}").status_code == expected


# The builder and the widget script


def test_builder_makes_the_snippet_from_the_form(client: TestClient) -> None:
    page = _get(client, "/embed/builder?venue=fzw&free=true&limit=3&widget_lang=en&lang=de")
    assert _text(page.select_one("#snippet")) == (
        f'<script src="{BASE_URL}/embed/widget.js" defer></script> '
        '<stadtkalender-events venue="fzw" free="true" limit="3" lang="en"></stadtkalender-events>'
    )
    assert _text(page.select_one("#iframe-snippet")) == (
        f'<iframe src="{BASE_URL}/embed?venue=fzw&amp;free=true&amp;limit=3&amp;lang=en" title="Veranstaltungen" '
        'width="100%" height="480" style="border:0" loading="lazy"></iframe>'
    )
    preview = page.select_one("stadtkalender-events#preview")
    assert preview is not None and preview["venue"] == "fzw" and preview["lang"] == "en"


def test_builder_defaults(client: TestClient) -> None:
    page = _get(client, "/embed/builder", **{"Accept-Language": "en"})
    assert 'limit="5" lang="en"></stadtkalender-events>' in _text(page.select_one("#snippet"))


def test_builder_escapes_what_it_puts_into_the_snippet(client: TestClient) -> None:
    response = client.get("/embed/builder", params={"q": '"><script>alert(8)</script>'})
    assert "<script>alert(8)" not in response.text
    snippet = _text(BeautifulSoup(response.text, "html.parser").select_one("#snippet"))
    assert 'q="&quot;&gt;&lt;script&gt;alert(8)&lt;/script&gt;"' in snippet


def test_widget_script_has_its_styles_built_in(client: TestClient) -> None:
    response = client.get("/embed/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "__WIDGET_CSS__" not in response.text
    assert "--sk-accent" in response.text
    assert "innerHTML" not in response.text and "insertAdjacentHTML" not in response.text


def test_widget_script_is_under_15_kb_gzipped(client: TestClient) -> None:
    body = client.get("/embed/widget.js", headers={"Accept-Encoding": "identity"}).content
    assert len(gzip.compress(body, compresslevel=9)) < 15 * 1024


def test_static_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/site.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")


def test_language_switch_repeats_the_query_of_each_request(client: TestClient) -> None:
    for tag in ("a", "b"):
        page = _get(client, f"/?venue=depot&utm_source={tag}")
        switch = urlsplit(str(page.select_one(".lang-switch")["href"]))  # type: ignore[index]
        assert parse_qs(switch.query)["utm_source"] == [tag]


def test_without_a_demo_shift_no_notice_is_shown(client: TestClient) -> None:
    assert _get(client, "/").select(".demo-notice") == []
    assert "Demo:" not in client.get("/feeds/events.ics").text
