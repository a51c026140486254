"""The venue registry in the database, on SQLite and PostgreSQL: seeding, editing, suggestions, rematching."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fixed_clock import NOW, clock
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Base, Event, Occurrence, SourceRecord, Venue
from aggregator.normalise.venues import VenueInfo, VenueRegistry, load_venues
from aggregator.venue_editing import (
    VenueChange,
    VenueError,
    add_alias,
    create_venue,
    remove_alias,
    remove_room,
    save_room,
    update_venue,
)
from aggregator.venue_registry import load_registry, seed_venues, venue_snapshot
from aggregator.venue_rematch import RematchContext
from aggregator.venue_suggestions import add_as_venue, alias_to_venue, suggestions

SEED = load_venues()
LATER = NOW + timedelta(hours=1)
UNKNOWN = "Jazzkeller Hansastraße"
UNKNOWN_SLUG = "jazzkeller-hansastrasse"


@dataclass(frozen=True, slots=True)
class _Editor:
    account_id: int | None = 7
    label: str = "anna.schmidt@dortmund.de"


EDITOR = _Editor()


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    kinds = {"konzerthaus": "venue", "dortmund_de": "city", "tickets": "ticketing"}
    return IngestContext(factory, settings, kinds=kinds, clock=clock())


def _listing(source: str, record_id: str, day: int, venue: str | None = UNKNOWN, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": source,
        "record_id": record_id,
        "title": f"Session Nr. {record_id}",
        "fetched_at": NOW,
        "start": datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        "venue_name": venue,
    }
    values.update(extra)
    return Listing(**values)


def _jazz(source: str = "dortmund_de", n: int = 3, venue: str = UNKNOWN) -> list[Listing]:
    return [_listing(source, f"{source}-{day}", day, venue) for day in range(1, n + 1)]


def _edit(ctx: IngestContext, action: Callable[..., VenueChange], *args: Any, **kwargs: Any) -> VenueChange:
    """One editor action in its own transaction, as the console runs it."""
    with ctx.factory() as session, session.begin():
        return action(session, *args, actor=EDITOR, now=LATER, context=RematchContext.of(ctx), **kwargs)


def _venue(factory: sessionmaker[Session], slug: str) -> Venue | None:
    with factory() as session:
        return session.get(Venue, slug)


def _event_venues(factory: sessionmaker[Session]) -> dict[str, str | None]:
    with factory() as session:
        return {title: slug for title, slug in session.execute(select(Event.title, Event.venue_slug))}


def _record_venues(factory: sessionmaker[Session]) -> dict[str, tuple[str | None, str | None]]:
    with factory() as session:
        return {
            r.record_id: (r.data.get("venue_slug"), r.data.get("room"))
            for r in session.scalars(select(SourceRecord))
        }


def _seeded(factory: sessionmaker[Session], seed: VenueRegistry = SEED) -> None:
    with factory() as session, session.begin():
        seed_venues(session, seed, now=NOW)


def _with(seed: VenueRegistry, *changes: VenueInfo) -> VenueRegistry:
    """``seed`` with some venues replaced (same slug) or added."""
    changed = {info.slug: info for info in changes}
    venues = [changed.pop(info.slug, info) for info in seed.all()]
    return VenueRegistry([*venues, *changed.values()])


# -- schema and seeding -----------------------------------------------------------------------


def test_the_migration_adds_the_columns_the_model_describes(engine: Engine) -> None:
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [diff for diff in diffs if "venues" in repr(diff)] == []


def test_seeding_adds_every_seed_venue_once(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        first = seed_venues(session, SEED, now=NOW)
    with factory() as session, session.begin():
        second = seed_venues(session, SEED, now=LATER)
    assert first.added == [info.slug for info in SEED.all()]
    assert (second.added, second.refreshed, second.kept_edited) == ([], [], [])
    with factory() as session:
        rows = session.scalars(select(Venue)).all()
        assert len(rows) == len(SEED.all()) and all(row.known and row.updated_at == NOW for row in rows)


def test_the_stored_registry_reads_every_spelling_as_the_seed_does(factory: sessionmaker[Session]) -> None:
    _seeded(factory)
    with factory() as session:
        stored = load_registry(session, SEED)
    assert [info.slug for info in stored.all()] == [info.slug for info in SEED.all()]
    assert stored.all() == SEED.all()
    texts = [
        spelling
        for info in SEED.all()
        for spelling in (
            info.name,
            *info.aliases,
            *(s for room in info.room_details for s in room.standalone),
        )
    ]
    texts += ["Konzerthaus Dortmund (Großer Saal)", "Thier-Galerie (3. Etage)", "Opernhaus Dortmnud", UNKNOWN]
    for text in texts:
        assert stored.resolve(text) == SEED.resolve(text), text
    assert stored.resolve(None, "Brückstraße 21, 44135 Dortmund").venue.slug == "konzerthaus-dortmund"


def test_a_changed_seed_refreshes_unedited_venues_and_spares_what_editors_changed(ctx: IngestContext) -> None:
    _seeded(ctx.factory)
    _edit(ctx, update_venue, "domicil", {"district": "Innenstadt-Ost"})
    domicil, fzw = SEED.get("domicil"), SEED.get("fzw")
    assert domicil is not None and fzw is not None
    depot = VenueInfo(slug="depot", name="Depot", aliases=("Kulturort Depot",))
    shipped = _with(
        SEED,
        replace(domicil, aliases=(*domicil.aliases, "Domizil")),
        replace(fzw, aliases=("FZW Club",)),
        depot,
    )
    with ctx.factory() as session, session.begin():
        report = seed_venues(session, shipped, now=LATER)
    assert (report.added, report.refreshed, report.kept_edited) == (["depot"], ["fzw"], ["domicil"])
    stored_domicil, stored_fzw = _venue(ctx.factory, "domicil"), _venue(ctx.factory, "fzw")
    assert stored_domicil is not None and stored_fzw is not None
    assert stored_domicil.district == "Innenstadt-Ost" and "Domizil" not in stored_domicil.aliases
    assert stored_fzw.aliases == ["FZW Club"]
    with ctx.factory() as session, session.begin():
        again = seed_venues(session, shipped, now=LATER)
    assert (again.added, again.refreshed, again.kept_edited) == ([], [], ["domicil"])


def test_the_next_ingest_seeds_and_a_seed_venue_takes_over_the_unknown_venue_of_its_slug(
    ctx: IngestContext,
) -> None:
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    unknown = _venue(ctx.factory, UNKNOWN_SLUG)
    assert unknown is not None and not unknown.known
    assert (_venue(ctx.factory, "konzerthaus-dortmund") or Venue()).known  # seeded by the first run
    seeded = replace(
        ctx, venues=_with(SEED, VenueInfo(slug=UNKNOWN_SLUG, name="Jazzkeller", aliases=(UNKNOWN,)))
    )
    report = ingest(seeded, "dortmund_de", _jazz(), now=LATER)
    known = _venue(ctx.factory, UNKNOWN_SLUG)
    assert known is not None and known.known and known.name == "Jazzkeller"
    assert not [note for note in report.warnings if note.startswith("unknown venue")]


# -- an alias takes effect at once and at the next ingest --------------------------------------


def test_an_alias_moves_stored_events_at_once(ctx: IngestContext) -> None:
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    assert set(_event_venues(ctx.factory).values()) == {UNKNOWN_SLUG}
    with ctx.factory() as session:
        sequences = {o: n for o, n in session.execute(select(Occurrence.id, Occurrence.sequence))}
    change = _edit(ctx, add_alias, "domicil", UNKNOWN)
    assert change.before is not None and change.after is not None
    assert change.after["aliases"] == [*change.before["aliases"], UNKNOWN]
    assert change.rematch.summary()["records_moved"] == 3
    assert change.rematch.removed_unknown == [UNKNOWN_SLUG]
    assert set(_event_venues(ctx.factory).values()) == {"domicil"}
    assert {slug for slug, _room in _record_venues(ctx.factory).values()} == {"domicil"}
    assert _venue(ctx.factory, UNKNOWN_SLUG) is None
    with ctx.factory() as session:
        after = {o: n for o, n in session.execute(select(Occurrence.id, Occurrence.sequence))}
    assert after == {occurrence: sequence + 1 for occurrence, sequence in sequences.items()}


def test_an_alias_counts_at_the_next_ingest_and_the_moved_records_read_as_unchanged(
    ctx: IngestContext,
) -> None:
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    _edit(ctx, add_alias, "domicil", UNKNOWN)
    again = ingest(ctx, "dortmund_de", _jazz(), now=LATER)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    other = ingest(ctx, "tickets", [_listing("tickets", "t-9", 9, "JAZZKELLER HANSASTRASSE")], now=LATER)
    assert not [note for note in [*again.warnings, *other.warnings] if "unknown venue" in note]
    assert set(_event_venues(ctx.factory).values()) == {"domicil"}
    assert _venue(ctx.factory, UNKNOWN_SLUG) is None


def test_removing_an_alias_makes_its_records_an_unknown_venue_again_at_once(ctx: IngestContext) -> None:
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    _edit(ctx, add_alias, "domicil", UNKNOWN)
    change = _edit(ctx, remove_alias, "domicil", "jazzkeller hansastrasse")
    assert UNKNOWN not in (change.after or {})["aliases"]
    assert change.rematch.added_unknown == [UNKNOWN_SLUG]
    assert set(_event_venues(ctx.factory).values()) == {UNKNOWN_SLUG}
    unknown = _venue(ctx.factory, UNKNOWN_SLUG)
    assert unknown is not None and not unknown.known and unknown.name == UNKNOWN


def test_records_of_the_push_api_keep_the_venue_of_their_token(ctx: IngestContext) -> None:
    pushed = _listing("push:domicil", "p-1", 5, UNKNOWN, venue_slug="domicil", title="Pushed")
    ingest(replace(ctx, kinds={**ctx.kinds, "push:domicil": "push"}), "push:domicil", [pushed], now=NOW)
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    change = _edit(ctx, add_alias, "fzw", UNKNOWN)
    assert {move.source for move in change.rematch.moves} == {"dortmund_de"}
    assert _record_venues(ctx.factory)["p-1"] == ("domicil", None)
    assert _event_venues(ctx.factory)["Pushed"] == "domicil"


def test_a_room_with_a_standalone_spelling_takes_its_records_and_leaves_them_when_removed(
    ctx: IngestContext,
) -> None:
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    change = _edit(ctx, save_room, "domicil", "Kellerbühne", aliases=["Keller"], standalone=[UNKNOWN])
    assert (change.after or {})["rooms"][-1] == {
        "name": "Kellerbühne",
        "aliases": ["Keller"],
        "standalone": [UNKNOWN],
    }
    assert set(_record_venues(ctx.factory).values()) == {("domicil", "Kellerbühne")}
    with ctx.factory() as session:
        assert set(session.scalars(select(Occurrence.room))) == {"Kellerbühne"}
    _edit(ctx, remove_room, "domicil", "kellerbuehne")
    assert set(_record_venues(ctx.factory).values()) == {(UNKNOWN_SLUG, None)}
    with ctx.factory() as session:
        assert set(session.scalars(select(Occurrence.room))) == {None}


def test_a_new_venue_takes_the_records_that_name_it(ctx: IngestContext) -> None:
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    values = {"slug": "jazzkeller", "name": "Jazzkeller", "postcode": "44137", "district": "innenstadt-west"}
    change = _edit(ctx, create_venue, values, aliases=[UNKNOWN])
    assert change.before is None and change.after is not None
    assert (change.after["district"], change.after["aliases"], change.after["known"]) == (
        "Innenstadt-West",
        [UNKNOWN],
        True,
    )
    assert set(_event_venues(ctx.factory).values()) == {"jazzkeller"}
    assert _venue(ctx.factory, UNKNOWN_SLUG) is None


def test_a_new_name_keeps_the_old_one_as_an_alias(ctx: IngestContext) -> None:
    _seeded(ctx.factory)
    change = _edit(ctx, update_venue, "fzw", {"name": "FZW Freizeitzentrum West"})
    assert (change.before or {})["name"] == "FZW"
    assert (change.after or {})["aliases"] == ["FZW Dortmund", "Freizeitzentrum West", "FZW"]
    report = ingest(ctx, "dortmund_de", [_listing("dortmund_de", "x", 4, "FZW")], now=LATER)
    assert _event_venues(ctx.factory) == {"Session Nr. x": "fzw"} and report.status.value == "success"


def test_an_edit_records_its_editor_and_the_seed_leaves_the_venue_alone(ctx: IngestContext) -> None:
    _seeded(ctx.factory)
    change = _edit(
        ctx,
        update_venue,
        "domicil",
        {
            "lat": "51,5146",
            "lon": 7.4609,
            "geo_approximate": "0",
            "url": "",
            "accessibility": "Rampe\r\nam Eingang",
        },
    )
    assert change.before is not None and change.after is not None
    assert (change.before["lat"], change.after["lat"], change.after["geo_approximate"]) == (
        51.5145,
        51.5146,
        False,
    )
    assert (change.after["url"], change.after["accessibility"]) == (None, "Rampe\nam Eingang")
    assert not change.rematch.moves
    stored = _venue(ctx.factory, "domicil")
    assert stored is not None
    assert venue_snapshot(stored)["edited_by"] == EDITOR.label and stored.edited_at == LATER
    _seeded(ctx.factory)
    reseeded = _venue(ctx.factory, "domicil")
    assert reseeded is not None and venue_snapshot(reseeded) == venue_snapshot(stored)


# -- suggestions ------------------------------------------------------------------------------


def _send_unknown_places(ctx: IngestContext) -> None:
    ingest(ctx, "dortmund_de", _jazz(venue="Domizil Jazzkeller"), now=NOW)
    ingest(ctx, "tickets", [_listing("tickets", "t-1", 7, "DOMIZIL JAZZKELLER", title="Other")], now=NOW)
    ingest(
        ctx, "konzerthaus", [_listing("konzerthaus", "k-1", 8, "Kulturort Depot", title="Lesung")], now=NOW
    )


def test_suggestions_list_unknown_venues_with_counts_sources_and_the_closest_venues(
    ctx: IngestContext,
) -> None:
    _send_unknown_places(ctx)
    with ctx.factory() as session:
        found = suggestions(session, load_registry(session, SEED))
        frequent = suggestions(session, load_registry(session, SEED), min_records=2)
    assert [(s.slug, s.records, s.events, s.sources) for s in found] == [
        ("domizil-jazzkeller", 4, 4, ("dortmund_de", "tickets")),
        ("kulturort-depot", 1, 1, ("konzerthaus",)),
    ]
    assert found[0].spellings == ("Domizil Jazzkeller",) and found[0].closest[0].slug == "domicil"
    assert (found[0].first_seen, found[0].last_seen) == (NOW, NOW)
    assert [s.slug for s in frequent] == ["domizil-jazzkeller"]
    assert found[0].as_json()["closest"][0]["name"] == "domicil"


def test_a_suggestion_aliased_to_a_venue_moves_its_records_and_disappears(ctx: IngestContext) -> None:
    _send_unknown_places(ctx)
    change = _edit(ctx, alias_to_venue, "domizil-jazzkeller", "domicil")
    assert (change.after or {})["aliases"][-1] == "Domizil Jazzkeller"
    assert change.rematch.summary()["moves"] == {"domizil-jazzkeller → domicil": 4}
    with ctx.factory() as session:
        assert [s.slug for s in suggestions(session, load_registry(session, SEED))] == ["kulturort-depot"]
    assert _venue(ctx.factory, "domizil-jazzkeller") is None
    report = ingest(
        ctx, "tickets", [_listing("tickets", "t-1", 7, "DOMIZIL JAZZKELLER", title="Other")], now=LATER
    )
    assert report.unchanged == 1 and _event_venues(ctx.factory)["Other"] == "domicil"


def test_a_suggestion_added_as_a_venue_keeps_its_slug_and_events(ctx: IngestContext) -> None:
    _send_unknown_places(ctx)
    change = _edit(ctx, add_as_venue, "kulturort-depot", {"name": "Depot", "postcode": "44147"})
    assert (change.before or {})["known"] is False
    assert (change.after or {})["known"] is True and (change.after or {})["aliases"] == ["Kulturort Depot"]
    assert _event_venues(ctx.factory)["Lesung"] == "kulturort-depot"
    report = ingest(
        ctx, "konzerthaus", [_listing("konzerthaus", "k-1", 8, "Kulturort Depot", title="Lesung")], now=LATER
    )
    assert not [note for note in report.warnings if "unknown venue" in note]


def test_a_suggestion_added_under_a_new_slug_moves_there(ctx: IngestContext) -> None:
    _send_unknown_places(ctx)
    change = _edit(
        ctx, add_as_venue, "domizil-jazzkeller", {"slug": "jazzkeller", "district": "Innenstadt-Ost"}
    )
    assert change.slug == "jazzkeller" and (change.after or {})["name"] == "Domizil Jazzkeller"
    assert set(_event_venues(ctx.factory).values()) == {"jazzkeller", "kulturort-depot"}
    assert _venue(ctx.factory, "domizil-jazzkeller") is None


def test_a_registry_conflict_does_not_stop_a_run_and_is_noted(ctx: IngestContext) -> None:
    _seeded(ctx.factory)
    with ctx.factory() as session, session.begin():
        session.get_one(Venue, "fzw").aliases = ["Konzerthaus"]  # as a careless seed could leave it
    report = ingest(ctx, "dortmund_de", [_listing("dortmund_de", "x", 4, "Konzerthaus")], now=LATER)
    assert report.status.value == "success"
    assert any(note.startswith("venue registry: 'Konzerthaus' names both") for note in report.warnings)
    assert _event_venues(ctx.factory) == {"Session Nr. x": "konzerthaus-dortmund"}


# -- validation -------------------------------------------------------------------------------

BAD_UPDATES: list[tuple[dict[str, object], str, str]] = [
    ({"lat": "91"}, "lat", "between -90 and 90 degrees"),
    ({"lat": 51.5, "lon": "-181"}, "lon", "between -180 and 180 degrees"),
    ({"lat": "nord"}, "lat", "is not a number"),
    ({"lat": "nan", "lon": "7"}, "lat", "between -90 and 90"),
    ({"lat": None, "lon": 7.4}, "lat", "latitude and longitude together"),
    ({"postcode": "4413"}, "postcode", "five digits"),
    ({"url": "javascript:alert(1)"}, "url", "http:// or https://"),
    ({"url": "www.domicil.de"}, "url", "http:// or https://"),
    ({"district": "Gotham"}, "district", "not a district of Dortmund"),
    ({"name": ""}, "name", "needs a name"),
    ({"name": "--"}, "name", "no letter or digit"),
    ({"name": "Konzerthaus"}, "name", "already names konzerthaus-dortmund"),
    ({"name": "Opernfoyer"}, "name", "already names opernhaus-dortmund (Opernfoyer)"),
    ({"colour": "blue"}, "colour", "Unknown field"),
    ({"accessibility": "x" * 4001}, "accessibility", "at most 4000 characters"),
    ({"city": 44137}, "city", "text expected"),
    ({"geo_approximate": "maybe"}, "geo_approximate", "true or false"),
]


@pytest.mark.parametrize(
    ("values", "field", "message"), BAD_UPDATES, ids=[f[1] + ":" + f[2] for f in BAD_UPDATES]
)
def test_a_bad_field_is_refused_with_a_clear_error_and_changes_nothing(
    ctx: IngestContext, values: dict[str, object], field: str, message: str
) -> None:
    _seeded(ctx.factory)
    before = venue_snapshot(_venue(ctx.factory, "domicil") or Venue())
    with pytest.raises(VenueError) as raised:
        _edit(ctx, update_venue, "domicil", values)
    assert raised.value.field == field and message in raised.value.en, raised.value.en
    assert (
        raised.value.de
        and raised.value.de != raised.value.en
        and raised.value.message("de") == raised.value.de
    )
    assert venue_snapshot(_venue(ctx.factory, "domicil") or Venue()) == before


BAD_SLUGS = ["", "Haus am See", "haus--see", "-haus", "haus-", "häuschen", "a" * 101, "domicil", UNKNOWN_SLUG]


@pytest.mark.parametrize("slug", BAD_SLUGS)
def test_a_new_venue_needs_a_free_slug_of_the_slug_rules(ctx: IngestContext, slug: str) -> None:
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    with pytest.raises(VenueError) as raised:
        _edit(ctx, create_venue, {"slug": slug, "name": "Haus am See"})
    assert raised.value.field == "slug"
    with ctx.factory() as session:
        assert session.get(Venue, "haus-am-see") is None


@pytest.mark.parametrize(
    ("action", "argument", "message"),
    [
        (add_alias, "Konzerthaus", "already names konzerthaus-dortmund"),
        (add_alias, "Domicil Jazzclub", "already this venue's name or an alias"),
        (add_alias, " , ", "no letter or digit"),
        (remove_alias, "Jazzkeller", "has no alias 'Jazzkeller'"),
        (remove_room, "Saal", "has no room 'Saal'"),
    ],
)
def test_alias_and_room_mistakes_are_refused_with_a_clear_error(
    ctx: IngestContext, action: Callable[..., VenueChange], argument: str, message: str
) -> None:
    _seeded(ctx.factory)
    with pytest.raises(VenueError) as raised:
        _edit(ctx, action, "domicil", argument)
    assert message in raised.value.en, raised.value.en


def test_unknown_and_unregistered_venues_cannot_be_edited_as_registered_ones(ctx: IngestContext) -> None:
    ingest(ctx, "dortmund_de", _jazz(), now=NOW)
    with pytest.raises(VenueError, match="There is no venue 'nirgendwo'"):
        _edit(ctx, update_venue, "nirgendwo", {"city": "Dortmund"})
    with pytest.raises(VenueError, match="not registered yet"):
        _edit(ctx, add_alias, UNKNOWN_SLUG, "Keller")
    with pytest.raises(VenueError, match="registered already"):
        _edit(ctx, add_as_venue, "domicil", {})
    with pytest.raises(VenueError, match="There is no venue 'nirgendwo'"):
        _edit(ctx, alias_to_venue, UNKNOWN_SLUG, "nirgendwo")
