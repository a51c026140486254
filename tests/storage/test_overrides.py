"""Editors' overrides on SQLite and PostgreSQL: field values win over sources, survive runs, hide, highlight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fixed_clock import NOW, clock
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.audit import Actor
from aggregator.config import Settings
from aggregator.derive import Priority
from aggregator.event_edits import (
    Change,
    EditNotFound,
    edit_event,
    edit_occurrence,
    editing,
    hide_event,
    hide_occurrence,
    set_highlight,
    unhide_event,
    unhide_occurrence,
)
from aggregator.event_search import EventSearch, search_events
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Base, Event, EventOverride, Occurrence, OccurrenceOverride, SourceRecord
from aggregator.override_fields import OverrideError
from aggregator.provenance import event_state
from aggregator.types import Status

EDITOR = Actor(7, "anna.schmidt@dortmund.de")
LATER = NOW + timedelta(hours=1)


def _listing(source: str, record_id: str, title: str, day: int, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": source,
        "record_id": record_id,
        "title": title,
        "fetched_at": NOW,
        "start": datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        "venue_name": "Konzerthaus Dortmund",
        "subtitle": "Oper in zwei Aufzügen",
        "url": f"https://example.org/{record_id}",
    }
    values.update(extra)
    return Listing(**values)


def _programme(title: str = "Die Zauberflöte", n: int = 3, **extra: Any) -> list[Listing]:
    return [
        _listing("konzerthaus", f"zf-{day}", title, day, series_key="zauberfloete", **extra)
        for day in range(1, n + 1)
    ]


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    ctx = IngestContext(factory, settings, kinds={"konzerthaus": "venue"}, clock=clock())
    ingest(ctx, "konzerthaus", _programme(), now=NOW)
    return ctx


@pytest.fixture
def priority(settings: Settings) -> Priority:
    """What the console uses: configured order, each record's kind as stored with it."""
    return Priority(settings.dedupe.priority, {})


def _event_id(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        return session.scalars(select(Event.id)).one()


def _occurrence_ids(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(Occurrence.id).order_by(Occurrence.start)))


def _sequences(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        return dict(session.execute(select(Occurrence.id, Occurrence.sequence)).all())


def _event(factory: sessionmaker[Session]) -> Event:
    with factory() as session:
        return session.scalars(select(Event)).one()


def _edit(
    ctx: IngestContext, priority: Priority, values: dict[str, Any], reset: tuple[str, ...] = ()
) -> Change:
    with editing(ctx.factory) as session:
        return edit_event(
            session, _event_id(ctx.factory), values, reset, actor=EDITOR, now=LATER, priority=priority
        )


def test_the_migration_creates_what_the_models_describe(engine: Engine) -> None:
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diffs == []


def test_a_title_edit_wins_says_editor_and_moves_sequence_once(
    ctx: IngestContext, priority: Priority
) -> None:
    before = _sequences(ctx.factory)
    change = _edit(ctx, priority, {"title": "  Die Zauberflöte (Neuinszenierung)  "})
    event = _event(ctx.factory)
    assert event.title == "Die Zauberflöte (Neuinszenierung)"
    assert event.field_sources["title"] == "editor"
    assert change.before == {"title": {"value": "Die Zauberflöte", "source": "konzerthaus"}}
    assert change.after == {"title": {"value": "Die Zauberflöte (Neuinszenierung)", "source": "editor"}}
    assert _sequences(ctx.factory) == {key: value + 1 for key, value in before.items()}
    with ctx.factory() as session:
        row = session.get_one(EventOverride, (event.id, "title"))
        assert (row.value, row.account_id, row.account_email, row.set_at) == (
            "Die Zauberflöte (Neuinszenierung)",
            7,
            EDITOR.label,
            LATER,
        )


def test_the_same_title_again_moves_nothing(ctx: IngestContext, priority: Priority) -> None:
    _edit(ctx, priority, {"title": "Zauberflöte"})
    after_first = _sequences(ctx.factory)
    _edit(ctx, priority, {"title": "Zauberflöte"})
    assert _sequences(ctx.factory) == after_first


def test_a_run_after_an_edit_keeps_the_edit_and_sequence(ctx: IngestContext, priority: Priority) -> None:
    _edit(ctx, priority, {"title": "Zauberflöte", "subtitle": None})
    edited = _sequences(ctx.factory)
    ingest(ctx, "konzerthaus", _programme(), now=LATER + timedelta(hours=6))
    ingest(ctx, "konzerthaus", _programme(title="Die Zauberflöte!"), now=LATER + timedelta(hours=7))
    event = _event(ctx.factory)
    assert (event.title, event.subtitle) == ("Zauberflöte", None)
    assert (event.field_sources["title"], event.field_sources["subtitle"]) == ("editor", "editor")
    assert _sequences(ctx.factory) == edited


def test_giving_a_field_back_restores_the_sources_value(ctx: IngestContext, priority: Priority) -> None:
    _edit(ctx, priority, {"title": "Zauberflöte", "subtitle": ""})
    ingest(ctx, "konzerthaus", _programme(title="Die Zauberflöte!"), now=LATER + timedelta(hours=1))
    change = _edit(ctx, priority, {}, reset=("title", "subtitle"))
    event = _event(ctx.factory)
    assert (event.title, event.subtitle) == ("Die Zauberflöte!", "Oper in zwei Aufzügen")
    assert event.field_sources["title"] == "konzerthaus"
    assert change.after["title"] == {"value": "Die Zauberflöte!", "source": "konzerthaus"}
    with ctx.factory() as session:
        assert session.scalar(select(func.count()).select_from(EventOverride)) == 0


@pytest.mark.parametrize(
    ("values", "field", "german"),
    [
        ({"title": "   "}, "title", "darf nicht leer sein"),
        ({"url": "javascript:alert(1)"}, "url", "http(s)-Link"),
        ({"image": "/relative.jpg"}, "image", "http(s)-Link"),
        ({"categories": ["konzert", "quatsch"]}, "categories", "unbekannte Kategorien: quatsch"),
        ({"venue": "nirgendwo"}, "venue", "keinen Ort"),
        ({"language": "en"}, "language", "kein Feld"),
        ({"organiser": "x" * 301}, "organiser", "höchstens 300"),
        ({}, "fields", "nichts zu ändern"),
    ],
)
def test_bad_input_is_refused_by_field_and_stores_nothing(
    ctx: IngestContext, priority: Priority, values: dict[str, Any], field: str, german: str
) -> None:
    before = _event(ctx.factory)
    with pytest.raises(OverrideError) as raised:
        _edit(ctx, priority, values)
    assert raised.value.field == field
    assert german in raised.value.text("de")
    assert raised.value.message
    after = _event(ctx.factory)
    assert (after.title, after.url, after.sequence) == (before.title, before.url, before.sequence)
    with ctx.factory() as session:
        assert session.scalar(select(func.count()).select_from(EventOverride)) == 0


def test_venue_and_categories_can_be_set(ctx: IngestContext, priority: Priority) -> None:
    ingest(
        ctx,
        "konzerthaus",
        [_listing("konzerthaus", "other", "Kammermusik", 20, venue_name="Orchesterzentrum NRW")],
        complete=False,
        now=NOW,
    )
    with ctx.factory() as session:
        event_id = session.scalars(select(Event.id).where(Event.title == "Die Zauberflöte")).one()
        change = edit_event(
            session,
            event_id,
            {"venue": "orchesterzentrum-nrw", "categories": "konzert, konzert"},
            actor=EDITOR,
            now=LATER,
            priority=priority,
        )
        session.commit()
    assert change.after["venue"] == {"value": "orchesterzentrum-nrw", "source": "editor"}
    with ctx.factory() as session:
        event = session.get_one(Event, event_id)
        assert (event.venue_slug, event.categories) == ("orchesterzentrum-nrw", ["konzert"])


def test_an_unknown_event_or_occurrence_is_named(ctx: IngestContext, priority: Priority) -> None:
    with editing(ctx.factory) as session, pytest.raises(EditNotFound, match="no event 'evnope'"):
        edit_event(session, "evnope", {"title": "X"}, actor=EDITOR, now=LATER, priority=priority)
    with editing(ctx.factory) as session, pytest.raises(EditNotFound, match="no occurrence 'ocnope'"):
        hide_occurrence(session, "ocnope", "Dublette", actor=EDITOR, now=LATER, priority=priority)


def test_an_occurrence_edit_wins_and_survives_runs(ctx: IngestContext, priority: Priority) -> None:
    first = _occurrence_ids(ctx.factory)[0]
    before = _sequences(ctx.factory)
    with editing(ctx.factory) as session:
        change = edit_occurrence(
            session,
            first,
            {"start": "2026-12-01T20:00", "status": "cancelled", "room": "Großer Saal"},
            actor=EDITOR,
            now=LATER,
            priority=priority,
        )
    assert change.before["start"] == {"value": "2026-12-01T20:30:00+01:00", "source": "konzerthaus"}
    assert change.after["start"] == {"value": "2026-12-01T20:00:00+01:00", "source": "editor"}
    ingest(ctx, "konzerthaus", _programme(), now=LATER + timedelta(hours=6))
    with ctx.factory() as session:
        occurrence = session.get_one(Occurrence, first)
        assert occurrence.start == datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
        assert (occurrence.status, occurrence.cancel_reason, occurrence.room) == (
            "cancelled",
            "editor",
            "Großer Saal",
        )
    after = _sequences(ctx.factory)
    assert after[first] == before[first] + 1
    assert {k: v for k, v in after.items() if k != first} == {k: v for k, v in before.items() if k != first}
    with editing(ctx.factory) as session:
        edit_occurrence(
            session, first, {}, ("start", "status", "room"), actor=EDITOR, now=LATER, priority=priority
        )
    with ctx.factory() as session:
        occurrence = session.get_one(Occurrence, first)
        assert (occurrence.start.hour, occurrence.status, occurrence.room) == (19, "scheduled", None)


def test_an_end_before_the_start_is_refused(ctx: IngestContext, priority: Priority) -> None:
    first = _occurrence_ids(ctx.factory)[0]
    with editing(ctx.factory) as session, pytest.raises(OverrideError, match="end must come after"):
        edit_occurrence(
            session, first, {"end": "2026-12-01T18:00+01:00"}, actor=EDITOR, now=LATER, priority=priority
        )
    with editing(ctx.factory) as session, pytest.raises(OverrideError, match="not a date and time"):
        edit_occurrence(session, first, {"start": "morgen"}, actor=EDITOR, now=LATER, priority=priority)
    with editing(ctx.factory) as session, pytest.raises(OverrideError, match="not one of"):
        edit_occurrence(session, first, {"status": "gone"}, actor=EDITOR, now=LATER, priority=priority)


def test_hiding_an_event_keeps_every_record_and_moves_sequence(
    ctx: IngestContext, priority: Priority
) -> None:
    event_id = _event_id(ctx.factory)
    before = _sequences(ctx.factory)
    with editing(ctx.factory) as session:
        change = hide_event(
            session, event_id, "Dublette von evabc", actor=EDITOR, now=LATER, priority=priority
        )
    assert change.before == {"hidden": False}
    assert change.after == {
        "hidden": True,
        "reason": "Dublette von evabc",
        "by": EDITOR.label,
        "at": "2026-11-21T14:00:00+01:00",
    }
    assert _event(ctx.factory).hidden is True
    assert _sequences(ctx.factory) == {key: value + 1 for key, value in before.items()}
    with ctx.factory() as session:
        assert session.scalar(select(func.count()).select_from(SourceRecord)) == 3
    ingest(ctx, "konzerthaus", _programme(n=4), now=LATER + timedelta(hours=1))
    assert _event(ctx.factory).hidden is True  # a new date of a hidden event is hidden with it
    hidden = _sequences(ctx.factory)
    with editing(ctx.factory) as session:
        change = unhide_event(session, event_id, actor=EDITOR, now=LATER, priority=priority)
    assert (change.before["hidden"], change.after) == (True, {"hidden": False})
    assert _event(ctx.factory).hidden is False
    assert _sequences(ctx.factory) == {key: value + 1 for key, value in hidden.items()}


def test_hiding_needs_a_reason(ctx: IngestContext, priority: Priority) -> None:
    with editing(ctx.factory) as session, pytest.raises(OverrideError) as raised:
        hide_event(session, _event_id(ctx.factory), " \n ", actor=EDITOR, now=LATER, priority=priority)
    assert raised.value.field == "reason"
    assert _event(ctx.factory).hidden is False


def test_hiding_one_occurrence_leaves_the_others(ctx: IngestContext, priority: Priority) -> None:
    first, *others = _occurrence_ids(ctx.factory)
    before = _sequences(ctx.factory)
    with editing(ctx.factory) as session:
        hide_occurrence(session, first, "Probe, nicht öffentlich", actor=EDITOR, now=LATER, priority=priority)
    ingest(ctx, "konzerthaus", _programme(), now=LATER + timedelta(hours=1))
    with ctx.factory() as session:
        hidden = dict(session.execute(select(Occurrence.id, Occurrence.hidden)).all())
        row = session.get_one(OccurrenceOverride, (first, "hidden"))
        assert (row.reason, row.account_email) == ("Probe, nicht öffentlich", EDITOR.label)
    assert hidden == {first: True, **{other: False for other in others}}
    assert _sequences(ctx.factory) == {**before, first: before[first] + 1}
    with editing(ctx.factory) as session:
        unhide_occurrence(session, first, actor=EDITOR, now=LATER, priority=priority)
    with ctx.factory() as session:
        assert session.get_one(Occurrence, first).hidden is False


def test_a_highlight_until_a_day_and_off_again(ctx: IngestContext, priority: Priority) -> None:
    event_id = _event_id(ctx.factory)
    sequence = _event(ctx.factory).sequence
    with editing(ctx.factory) as session:
        change = set_highlight(
            session, event_id, True, date(2026, 12, 24), actor=EDITOR, now=LATER, priority=priority
        )
    assert (change.before, change.after) == (
        {"highlight": False, "until": None},
        {"highlight": True, "until": "2026-12-24"},
    )
    event = _event(ctx.factory)
    assert (event.highlight, event.highlight_until) == (True, datetime(2026, 12, 24, 23, 0, tzinfo=UTC))
    assert event.sequence == sequence + 1  # the data version moves with it
    ingest(ctx, "konzerthaus", _programme(), now=LATER + timedelta(hours=1))
    assert _event(ctx.factory).highlight is True
    with editing(ctx.factory) as session, pytest.raises(OverrideError, match="already over"):
        set_highlight(session, event_id, True, "2026-11-20", actor=EDITOR, now=LATER, priority=priority)
    with editing(ctx.factory) as session:
        set_highlight(session, event_id, False, actor=EDITOR, now=LATER, priority=priority)
    assert (_event(ctx.factory).highlight, _event(ctx.factory).highlight_until) == (False, None)


def test_provenance_shows_the_editor_and_what_the_sources_say(ctx: IngestContext, priority: Priority) -> None:
    _edit(ctx, priority, {"title": "Zauberflöte"})
    first = _occurrence_ids(ctx.factory)[0]
    with editing(ctx.factory) as session:
        hide_occurrence(session, first, "Probe", actor=EDITOR, now=LATER, priority=priority)
    with ctx.factory() as session:
        state = event_state(session, _event_id(ctx.factory), priority)
        assert event_state(session, "evnope", priority) is None
    assert state is not None
    title = next(f for f in state.fields if f.name == "title")
    assert (title.value, title.source, title.source_value, title.source_name) == (
        "Zauberflöte",
        "editor",
        "Die Zauberflöte",
        "konzerthaus",
    )
    assert title.override is not None and title.override.by == EDITOR.label
    url = next(f for f in state.fields if f.name == "url")
    assert (url.source, url.edited) == ("konzerthaus", False)
    hidden = next(o for o in state.occurrences if o.id == first)
    assert hidden.hidden is not None and hidden.hidden.reason == "Probe"
    start = next(f for f in hidden.fields if f.name == "start")
    assert (start.source, start.source_value) == ("konzerthaus", datetime(2026, 12, 1, 19, 30, tzinfo=UTC))
    assert len(state.records) == 3


def _found(factory: sessionmaker[Session], **search: Any) -> list[str]:
    with factory() as session:
        page = search_events(session, EventSearch(**search), now=NOW)
    return [row.title for row in page.rows]


@pytest.fixture
def calendar(ctx: IngestContext, priority: Priority) -> IngestContext:
    more = [
        _listing("konzerthaus", "jazz-1", "Jazz im Foyer", 10, subtitle=None),
        _listing("konzerthaus", "old-1", "Neujahrskonzert", 1, start=datetime(2026, 1, 1, 17, tzinfo=UTC)),
        _listing("konzerthaus", "kammer-1", "Kammermusik", 15, venue_name="Orchesterzentrum NRW"),
    ]
    ingest(ctx, "konzerthaus", more, complete=False, now=NOW)
    with editing(ctx.factory) as session:
        ids = dict(session.execute(select(Event.title, Event.id)).all())
        hide_event(session, ids["Jazz im Foyer"], "Dublette", actor=EDITOR, now=NOW, priority=priority)
        set_highlight(session, ids["Kammermusik"], True, actor=EDITOR, now=NOW, priority=priority)
        edit_event(
            session, ids["Neujahrskonzert"], {"organiser": "Stadt"}, actor=EDITOR, now=NOW, priority=priority
        )
    return ctx


def test_search_without_dates_puts_upcoming_first_then_past(calendar: IngestContext) -> None:
    assert _found(calendar.factory) == ["Die Zauberflöte", "Jazz im Foyer", "Kammermusik", "Neujahrskonzert"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ({"q": "zauber"}, ["Die Zauberflöte"]),
        ({"q": "foyer jazz"}, ["Jazz im Foyer"]),
        ({"q": "orchesterzentrum"}, ["Kammermusik"]),
        ({"q": "100%"}, []),
        ({"venue": "orchesterzentrum-nrw"}, ["Kammermusik"]),
        ({"hidden": True}, ["Jazz im Foyer"]),
        ({"hidden": False}, ["Die Zauberflöte", "Kammermusik", "Neujahrskonzert"]),
        ({"highlight": True}, ["Kammermusik"]),
        ({"edited": True}, ["Neujahrskonzert"]),
        ({"start": datetime(2026, 12, 5, tzinfo=UTC)}, ["Jazz im Foyer", "Kammermusik"]),
        ({"end": datetime(2026, 6, 1, tzinfo=UTC)}, ["Neujahrskonzert"]),
    ],
)
def test_search_filters(calendar: IngestContext, search: dict[str, Any], expected: list[str]) -> None:
    assert _found(calendar.factory, **search) == expected


def test_search_finds_an_event_by_its_id_and_pages(calendar: IngestContext) -> None:
    event_id = _event_id_of(calendar.factory, "Kammermusik")
    assert _found(calendar.factory, q=event_id) == ["Kammermusik"]
    with calendar.factory() as session:
        page = search_events(session, EventSearch(page=2, per_page=3), now=NOW)
    assert ([row.title for row in page.rows], page.total, page.pages) == (["Neujahrskonzert"], 4, 2)
    row = search_events_row(calendar.factory, "Die Zauberflöte")
    assert (row.occurrences, row.next_start, row.hidden, row.highlight) == (
        3,
        datetime(2026, 12, 1, 19, 30, tzinfo=UTC),
        False,
        False,
    )


def test_search_counts_hidden_occurrences(calendar: IngestContext, priority: Priority) -> None:
    with editing(calendar.factory) as session:
        first = session.scalars(select(Occurrence.id).order_by(Occurrence.start).offset(1)).first()
        assert first is not None
        hide_occurrence(session, first, "Probe", actor=EDITOR, now=NOW, priority=priority)
    assert _found(calendar.factory, hidden=True) == ["Die Zauberflöte", "Jazz im Foyer"]
    assert search_events_row(calendar.factory, "Die Zauberflöte").hidden_occurrences == 1


def _event_id_of(factory: sessionmaker[Session], title: str) -> str:
    with factory() as session:
        return session.scalars(select(Event.id).where(Event.title == title)).one()


def search_events_row(factory: sessionmaker[Session], title: str) -> Any:
    with factory() as session:
        page = search_events(session, EventSearch(q=title), now=NOW)
    return next(row for row in page.rows if row.title == title)


def test_overrides_apply_to_a_status_the_source_also_changes(ctx: IngestContext, priority: Priority) -> None:
    first = _occurrence_ids(ctx.factory)[0]
    with editing(ctx.factory) as session:
        edit_occurrence(session, first, {"status": "scheduled"}, actor=EDITOR, now=LATER, priority=priority)
    programme = _programme()
    programme[0] = programme[0].evolve(status=Status.CANCELLED)
    ingest(ctx, "konzerthaus", programme, now=LATER + timedelta(hours=1))
    with ctx.factory() as session:
        assert session.get_one(Occurrence, first).status == "scheduled"


def test_a_venue_sources_sent_but_nobody_registered_is_refused(
    ctx: IngestContext, priority: Priority
) -> None:
    from aggregator.models import Venue

    ingest(
        ctx,
        "konzerthaus",
        [_listing("konzerthaus", "keller-1", "Lesung im Keller", 20, venue_name="Irgendein Keller")],
        complete=False,
        now=NOW,
    )
    with ctx.factory() as session:
        unknown = session.scalars(select(Venue.slug).where(Venue.name == "Irgendein Keller")).one()
        assert session.get_one(Venue, unknown).known is False
        event_id = session.scalars(select(Event.id).where(Event.title == "Die Zauberflöte")).one()
    with editing(ctx.factory) as session, pytest.raises(OverrideError, match="in the registry") as raised:
        edit_event(session, event_id, {"venue": unknown}, actor=EDITOR, now=LATER, priority=priority)
    assert raised.value.field == "venue"
