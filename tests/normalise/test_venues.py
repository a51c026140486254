from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.normalise.venue_matching import slugify
from aggregator.normalise.venues import (
    Address,
    VenueDataError,
    VenueInfo,
    VenueRegistry,
    load_venues,
    names_something,
)

from .venue_data import city_portal_entries

REGISTRY = load_venues()
ACADEMY = "akademie-fuer-theater-und-digitalitaet"
VENUES = REGISTRY.all()
STADTBEZIRKE = {
    "Innenstadt-West",
    "Innenstadt-Nord",
    "Innenstadt-Ost",
    "Eving",
    "Scharnhorst",
    "Brackel",
    "Aplerbeck",
    "Hörde",
    "Hombruch",
    "Lütgendortmund",
    "Huckarde",
    "Mengede",
}
REQUIRED = {
    "konzerthaus-dortmund",
    "opernhaus-dortmund",
    "schauspielhaus-dortmund",
    "kinder-und-jugendtheater-dortmund",
    "westfalenhallen",
    "dortmunder-u",
    "mkk",
    "brauerei-museum",
    "fussballmuseum",
    "phoenix-des-lumieres",
    "zoo-dortmund",
    "westfalenpark",
    "kokerei-hansa",
    "baukunstarchiv-nrw",
    ACADEMY,
    "domicil",
    "thier-galerie",
    "signal-iduna-park",
    "naturmuseum",
    "hoesch-museum",
    "adlerturm",
    "reinoldikirche",
    "stadt-und-landesbibliothek",
    "fzw",
    "junkyard",
}


def test_required_venues_are_registered() -> None:
    assert {venue.slug for venue in VENUES} >= REQUIRED


@pytest.mark.parametrize("venue", VENUES, ids=lambda venue: venue.slug)
def test_registry_entries_are_sane(venue: VenueInfo) -> None:
    assert venue.slug == slugify(venue.slug)
    assert venue.district is None or venue.district in STADTBEZIRKE
    if venue.geo is not None:
        assert 51.40 < venue.geo.lat < 51.60 and 7.30 < venue.geo.lon < 7.65  # inside Dortmund
        assert venue.geo.approximate
    if venue.address is not None and venue.address.postcode is not None:
        assert venue.address.postcode.startswith("44") and venue.address.city == "Dortmund"


@pytest.mark.parametrize("venue", VENUES, ids=lambda venue: venue.slug)
def test_every_spelling_resolves_to_its_venue(venue: VenueInfo) -> None:
    for spelling in (venue.name, *venue.aliases):
        match = REGISTRY.resolve(spelling)
        assert (match.venue.slug, match.room, match.known) == (venue.slug, None, True), spelling
    for room in venue.room_details:
        for spelling in room.standalone:
            match = REGISTRY.resolve(spelling)
            assert (match.venue.slug, match.room) == (venue.slug, room.name)


@pytest.mark.parametrize(
    ("name", "slug", "room"),
    [
        # Theater Dortmund calendar strings (klangland VENUE_MAP keys, see venue-data notes)
        ("Konzerthaus", "konzerthaus-dortmund", None),
        ("Opernfoyer", "opernhaus-dortmund", "Opernfoyer"),
        ("Kokerei Hansa (Salzlager)", "kokerei-hansa", "Salzlager"),
        ("Gartensaal, Baukunstarchiv NRW, Ostwall", "baukunstarchiv-nrw", "Gartensaal"),
        ("Akademie für Theater und Digitalität (Speicherstraße 17)", ACADEMY, None),
        ("Deutsches Fußballmuseum Dortmund (Platz der Deutschen Einheit)", "fussballmuseum", None),
        ("Phoenix des Lumières (Phoenixplatz 4)", "phoenix-des-lumieres", None),
        ("Thier-Galerie (3. Etage)", "thier-galerie", "3. Etage"),
        ("domicil Jazzclub (Hansastraße 7-11)", "domicil", None),
        # dortmund.de calendar
        ("Theater Dortmund - Opernhaus", "opernhaus-dortmund", None),
        ("Museum Ostwall im Dortmunder U", "dortmunder-u", "Museum Ostwall"),
        ("Westfalenhallen Dortmund", "westfalenhallen", None),
        ("Phoenix des Lumières", "phoenix-des-lumieres", None),
        ("Dortmunder Innenstadt", "innenstadt", None),
        ("Schloss Bodelschwingh", "schloss-bodelschwingh", None),
        # other spellings
        ("Opernhaus Dortmund", "opernhaus-dortmund", None),
        ("Oper Dortmund", "opernhaus-dortmund", None),
        ("OPERNHAUS", "opernhaus-dortmund", None),
        ("Westfalenhalle 1", "westfalenhallen", "Halle 1"),
        ("Westfalenhallen Dortmund, Halle 1", "westfalenhallen", "Halle 1"),
        ("Westfalenhallen Dortmund – Halle 3B", "westfalenhallen", "Halle 3B"),
        ("Westfalenhalle 3A", "westfalenhallen", "Halle 3A"),
        ("Westfalenhallen (Goldsaal)", "westfalenhallen", "Goldsaal"),
        ("Konzerthaus Dortmund, Großer Saal", "konzerthaus-dortmund", "Großer Saal"),
        ("Konzerthaus Dortmund Großer Saal", "konzerthaus-dortmund", "Großer Saal"),
        ("Theater Dortmund - Schauspielhaus (Studio)", "schauspielhaus-dortmund", "Studio"),
        ("Sckelly", "kinder-und-jugendtheater-dortmund", "Sckelly"),
        ("Deutsches Fussballmuseum", "fussballmuseum", None),
        ("Phoenix de Lumieres", "phoenix-des-lumieres", None),
        ("Brauerei-Museum (Steigerstr. 16)", "brauerei-museum", None),
        ("Lichthof des Naturmuseums", "naturmuseum", "Lichthof"),
        ("Signal Iduna Park", "signal-iduna-park", None),
        # typos: fuzzy, high threshold
        ("Konzerthaus Dortmnud", "konzerthaus-dortmund", None),
        ("Konzerthuas Dortmund", "konzerthaus-dortmund", None),
        ("Westfalenhallen Dortmunt", "westfalenhallen", None),
        ("Baukunstarchiv NWR", "baukunstarchiv-nrw", None),
    ],
)
def test_resolve(name: str, slug: str, room: str | None) -> None:
    match = REGISTRY.resolve(name)
    assert (match.venue.slug, match.room, match.known) == (slug, room, True)


@pytest.mark.parametrize(
    ("name", "how"),
    [
        ("Konzerthaus", "alias"),
        ("Opernfoyer", "room"),
        ("Kokerei Hansa (Salzlager)", "contains"),
        ("Konzerthuas Dortmund", "fuzzy"),
    ],
)
def test_resolve_says_how(name: str, how: str) -> None:
    assert REGISTRY.resolve(name).how == how


@pytest.mark.parametrize("name", ["Studio", "Halle 1", "Junge Oper", "Gemeindehaus St. Marien", "Oper Bonn"])
def test_near_misses_are_not_guessed(name: str) -> None:
    assert REGISTRY.resolve(name).known is False


def test_address_fallback() -> None:
    match = REGISTRY.resolve("Irgendein Saal", "Brückstraße 21, 44135 Dortmund")
    assert (match.venue.slug, match.how) == ("konzerthaus-dortmund", "address")
    assert REGISTRY.resolve(None, "Steigerstr. 16, 44145 Dortmund").venue.slug == "brauerei-museum"


def test_unknown_venue_is_kept_with_a_stable_slug() -> None:
    match = REGISTRY.resolve("  Gemeindehaus St. Märien ", "Kampstraße 47, 44137 Dortmund")
    assert match.known is False and match.how == "unknown" and match.room is None
    assert match.venue == VenueInfo(
        slug="gemeindehaus-st-maerien",
        name="Gemeindehaus St. Märien",
        address=Address("Kampstraße 47", "44137", "Dortmund"),
    )
    assert REGISTRY.resolve("GEMEINDEHAUS ST. MÄRIEN").venue.slug == match.venue.slug


def test_nothing_to_resolve_is_an_error() -> None:
    with pytest.raises(ValueError, match="name or an address"):
        REGISTRY.resolve(None)
    with pytest.raises(ValueError, match="name or an address"):
        REGISTRY.resolve("  ", "")
    with pytest.raises(ValueError, match="name or an address"):
        REGISTRY.resolve(" - ", "(,)")


def test_get() -> None:
    venue = REGISTRY.get("konzerthaus-dortmund")
    assert venue is not None and venue.address == Address("Brückstraße 21", "44135", "Dortmund")
    assert (venue.street, venue.postcode, venue.city) == ("Brückstraße 21", "44135", "Dortmund")
    assert venue.lat is not None and venue.lon is not None
    assert REGISTRY.get("nope") is None


def test_flat_room_names() -> None:
    venue = REGISTRY.get("westfalenhallen")
    assert venue is not None
    assert venue.rooms[:3] == ("Halle 1", "Halle 2", "Halle 3A") and "Goldsaal" in venue.rooms


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Schloss Bodelschwingh", "schloss-bodelschwingh"),
        ("Theater Dortmund – Opernhaus", "theater-dortmund-opernhaus"),
        ("Phoenix des Lumières", "phoenix-des-lumieres"),
        ("Fußball & Bühne", "fussball-buehne"),
        ("!!!", "unbenannt"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_city_portal_venues_are_all_known() -> None:
    names = {entry[2] for entry in city_portal_entries()}
    assert names == {venue for venue in names if REGISTRY.resolve(venue).known}


def test_two_venues_claiming_one_alias_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "venues.toml"
    path.write_text(
        '[[venue]]\nslug = "a"\nname = "A"\naliases = ["Halle"]\n'
        '[[venue]]\nslug = "b"\nname = "B"\naliases = ["halle"]\n',
        encoding="utf-8",
    )
    with pytest.raises(VenueDataError, match="names both"):
        load_venues(path)


@pytest.mark.parametrize(
    "text",
    [
        '[[venue]]\nslug = "Bad Slug"\nname = "x"\n',
        '[[venue]]\nslug = "a"\n',
        "x [",
        '[[venue]]\nslug = "a"\nname = "A"\naddress = { road = "x" }\n',
    ],
)
def test_bad_data_is_named(tmp_path: Path, text: str) -> None:
    path = tmp_path / "venues.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VenueDataError) as caught:
        load_venues(path)
    assert caught.value.path == str(path)


def test_registry_can_be_built_in_code() -> None:
    registry = VenueRegistry([VenueInfo("x", "Xhalle", aliases=("X-Halle",))], fuzzy_cutoff=80)
    assert registry.resolve("x halle").venue.slug == "x"


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=1, max_size=40), address=st.none() | st.text(max_size=40))
def test_resolve_never_drops_a_named_venue(name: str, address: str | None) -> None:
    try:
        match = REGISTRY.resolve(name, address)
    except ValueError:
        assert not names_something(name) and not names_something(address)
        return
    assert match.venue.slug == slugify(match.venue.slug)
    assert match.known == (match.venue.slug in {venue.slug for venue in VENUES})
