"""The storage model (SQLAlchemy 2, typed ORM).

Events and occurrences are derived from source records: every listing a source gave is kept as a
:class:`SourceRecord` (provenance), linked to the occurrence and event it built. IDs are assigned
once, never derived from titles, and survive re-imports; merged events leave a redirect behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JsonType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC on every engine (SQLite has no zone support)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JsonType, list[Any]: JsonType}


class Venue(Base):
    """A venue of the registry (``known``), or a place a source named that the registry does not know.

    The registry is seeded from ``aggregator/data/venues.toml`` (:mod:`aggregator.venue_registry`) and
    edited in the console: ``seed_hash`` is the hash of the seed entry last applied, and a venue an editor
    changed (``edited_at``) is never overwritten by the seed again.
    """

    __tablename__ = "venues"

    slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    street: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    district: Mapped[str | None] = mapped_column(String(120))
    rooms: Mapped[list[Any]] = mapped_column(default=list)
    """The names of the venue's rooms, in order (what the public API shows)."""
    url: Mapped[str | None] = mapped_column(String(1000))
    accessibility: Mapped[str | None] = mapped_column(Text)
    known: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    room_aliases: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    """Per room name: ``{"aliases": [...], "standalone": [...]}``, the spellings sources use for it."""
    geo_approximate: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    seed_hash: Mapped[str | None] = mapped_column(String(64))
    edited_at: Mapped[datetime | None]
    edited_by: Mapped[str | None] = mapped_column(String(320))
    """Who changed the venue last in the console (the account's e-mail)."""


class Event(Base):
    """A production or series; its fields are chosen from its records by source priority."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    title_key: Mapped[str] = mapped_column(String(500), index=True)
    subtitle: Mapped[str | None] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    language: Mapped[str | None] = mapped_column(String(20))
    image: Mapped[str | None] = mapped_column(String(1000))
    image_credit: Mapped[str | None] = mapped_column(String(300))
    image_licence: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(1000))
    organiser: Mapped[str | None] = mapped_column(String(300))
    venue_slug: Mapped[str | None] = mapped_column(ForeignKey("venues.slug"), index=True)
    field_sources: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)  # max() in the API's data version
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Hidden by an editor (an :class:`EventOverride` ``hidden``): no public page, list or feed shows it."""
    highlight: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Marked as a highlight by an editor, up to ``highlight_until`` (exclusive) when that is set."""
    highlight_until: Mapped[datetime | None]

    venue: Mapped[Venue | None] = relationship(lazy="joined")
    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="event", order_by="Occurrence.start", cascade="all, delete-orphan"
    )
    records: Mapped[list[SourceRecord]] = relationship(back_populates="event")


class EventRedirect(Base):
    """An event ID that was merged into another; the API redirects it."""

    __tablename__ = "event_redirects"

    old_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]


class Occurrence(Base):
    """One dated performance of an event."""

    __tablename__ = "occurrences"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime | None]
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    previous_start: Mapped[datetime | None]
    room: Mapped[str | None] = mapped_column(String(200))
    visible_hash: Mapped[str] = mapped_column(String(64), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Hidden by an editor (an :class:`OccurrenceOverride` ``hidden``): no public list or feed shows it."""

    event: Mapped[Event] = relationship(back_populates="occurrences")
    offers: Mapped[list[Offer]] = relationship(
        back_populates="occurrence", cascade="all, delete-orphan", order_by="Offer.id"
    )
    records: Mapped[list[SourceRecord]] = relationship(back_populates="occurrence")


class Offer(Base):
    """A price range and where to buy, one per source and occurrence (kept side by side)."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurrence_id: Mapped[str] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(120))
    price_min: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    price_max: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    url: Mapped[str | None] = mapped_column(String(1000))
    vendor: Mapped[str | None] = mapped_column(String(300))
    availability: Mapped[str | None] = mapped_column(String(30))
    price_text: Mapped[str | None] = mapped_column(String(300))
    on_sale: Mapped[datetime | None]

    occurrence: Mapped[Occurrence] = relationship(back_populates="offers")


class SourceRecord(Base):
    """One listing exactly as a source gave it, and what it built."""

    __tablename__ = "source_records"
    __table_args__ = (UniqueConstraint("source", "record_id", name="uq_source_record"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(120), index=True)
    record_id: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(1000))
    fetched_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    occurrence_id: Mapped[str] = mapped_column(ForeignKey("occurrences.id"), index=True)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    missing_runs: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    event: Mapped[Event] = relationship(back_populates="records")
    occurrence: Mapped[Occurrence] = relationship(back_populates="records")


class SourceRun(Base):
    """One run of one source: when, how it ended, what it changed."""

    __tablename__ = "source_runs"
    __table_args__ = (Index("ix_source_runs_source_started", "source", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    listings: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    held: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    trigger: Mapped[str] = mapped_column(String(40), default="manual")
    decision: Mapped[str | None] = mapped_column(String(20))
    """For a held-back run: ``confirmed`` or ``discarded`` once someone decided (set while confirming)."""
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None]


class SourceState(Base):
    """What the scheduler and the health view know about a source between runs."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_listings: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    paused_by: Mapped[str | None] = mapped_column(String(320))
    run_requested_at: Mapped[datetime | None]
    """Someone asked for a run now; the scheduler starts it at its next poll and clears this."""
    run_requested_by: Mapped[str | None] = mapped_column(String(320))


class ApiToken(Base):
    """A venue's push token: only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    venues: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(120))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class PushLog(Base):
    """Audit trail of every write through the push API."""

    __tablename__ = "push_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    token_name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(120), index=True)
    at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Account(Base):
    """A person who may sign in to the console: an admin, an editor, or a venue bound to its venues.

    Only an argon2 hash of the password is stored; the e-mail is stored lower-cased.
    """

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("role IN ('admin', 'editor', 'venue')", name="ck_accounts_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    venues: Mapped[list[Any]] = mapped_column(default=list)
    """Venue slugs a ``venue`` account speaks for; empty for the other roles."""
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A signed-in browser: only a hash of the cookie's value is stored."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class LoginFailure(Base):
    """One failed login, noted under the account's and the client's key; old rows are dropped."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class PushRateHit(Base):
    """One counted push API request, for the rate limit every process shares; old rows are dropped."""

    __tablename__ = "push_rate_hits"
    __table_args__ = (Index("ix_push_rate_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class PersonalKey(Base):
    """A personal API key for the admin API: only its hash is stored; it acts as its account."""

    __tablename__ = "personal_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One editorial action: who, when, what, and the state before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    """The actor's e-mail (kept when the account is gone), or ``cli`` / ``settings`` / ``scheduler``."""
    action: Mapped[str] = mapped_column(String(80), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    note: Mapped[str | None] = mapped_column(Text)


class AppSecret(Base):
    """A secret the processes of one installation share (e.g. the CSRF signing key), made on first use."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class DedupeDecision(Base):
    """An editor's decision on duplicates — merge, keep apart, or pick a value — or a settings rule.

    ``key_a`` and ``key_b`` name the two sides as :class:`aggregator.dedupe.MergeRules` keys (event IDs,
    ``source:record_id``, ``source:series_key``); ``value`` holds what was decided beyond the keys (the
    records of each side, the picked side) and ``effect`` what applying it changed, so that an undo can
    reverse it. A decision is in force until ``undone_at``; rows are never deleted.
    """

    __tablename__ = "dedupe_decisions"
    __table_args__ = (
        CheckConstraint("kind IN ('merge', 'keep_apart', 'pick')", name="ck_dedupe_decisions_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    key_a: Mapped[str] = mapped_column(String(1000))
    key_b: Mapped[str] = mapped_column(String(1000))
    field: Mapped[str | None] = mapped_column(String(20))
    """For ``pick``: which field (``start``, ``venue``, ``status``, ``price``)."""
    value: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    effect: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(320))
    """The author's e-mail as it was, or ``settings`` for a rule imported from settings.toml."""
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None] = mapped_column(index=True)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    undone_by: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)


class Change(Base):
    """One change the public can see, in commit order: the change feed (:mod:`aggregator.changes`).

    ``id`` is the feed's cursor: a database sequence, assigned under a lock held until commit, so ids
    become visible in order. Deleted and merged events stay here as tombstones until pruned. ``venue``,
    ``categories`` and ``sources`` are the event's as it was (``|a|b|`` lists), for the feed's filters.
    """

    __tablename__ = "changes"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse an id, even after pruning

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(40), index=True)
    occurrence_id: Mapped[str | None] = mapped_column(String(40))
    fields: Mapped[list[Any]] = mapped_column(default=list)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    venue: Mapped[str] = mapped_column(String(120), default="")
    categories: Mapped[str] = mapped_column(String(2000), default="|")
    sources: Mapped[str] = mapped_column(String(2000), default="|")


class ChangePrune(Base):
    """One pruning of the change feed: changes up to ``through_id`` are gone, so older cursors are stale."""

    __tablename__ = "change_prunes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    through_id: Mapped[int] = mapped_column(BigInteger)


class Webhook(Base):
    """A URL that gets every change matching its filter, POSTed in batches and signed (Standard Webhooks).

    ``cursor`` is the last change queued for it; ``secret`` (``whsec_...``) signs every delivery.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(100))
    venues: Mapped[str] = mapped_column(String(2000), default="")
    categories: Mapped[str] = mapped_column(String(2000), default="")
    sources: Mapped[str] = mapped_column(String(2000), default="")
    owner: Mapped[str] = mapped_column(String(320))
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class WebhookDelivery(Base):
    """One batch of changes for one webhook: queued, then attempted until delivered (or its hook disabled)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One attempt at a delivery: when, the answer's status (or the error), how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


# -- Editorial overrides (issue 14) ------------------------------------------------------------------


class EventOverride(Base):
    """An editor's word on one event: a field's value (``title``, ``venue``, …), ``hidden`` or ``highlight``.

    It wins over every source until the editor removes it; re-derivation applies it after the sources
    (:func:`aggregator.store.rederive`). Keyed by the event id without a foreign key: when the matcher
    merges the event away the row stays, unused, and applies again if a split brings the id back.
    """

    __tablename__ = "event_overrides"

    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JsonType, nullable=True)
    """The value in its JSON form (:mod:`aggregator.override_fields`); null clears an optional field."""
    reason: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(Integer)
    account_email: Mapped[str] = mapped_column(String(320))
    set_at: Mapped[datetime]


class OccurrenceOverride(Base):
    """An editor's word on one occurrence: ``start``, ``end``, ``status``, ``room`` or ``hidden``.

    Like :class:`EventOverride`; it follows the occurrence when a merge moves it to another event.
    """

    __tablename__ = "occurrence_overrides"

    occurrence_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JsonType, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(Integer)
    account_email: Mapped[str] = mapped_column(String(320))
    set_at: Mapped[datetime]


class AccountLink(Base):
    """A one-time link that sets an account's password: an invitation, or a password reset.

    Only a hash of the link's token is stored; a link works once, until ``expires_at``.
    """

    __tablename__ = "account_links"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="ck_account_links_purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class VenueFeed(Base):
    """A feed URL a venue registered in the portal: a scheduled source stored in the database.

    ``source`` is its source name (``feed:<venue>``, ``feed:<venue>:2``, …); ``config`` the platform
    source table the check found (``type``, ``url``, …, as ``probe --save`` writes it). A removed feed
    keeps its row (its runs and records still name it) but is no longer scheduled.
    """

    __tablename__ = "venue_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(120), unique=True)
    venue_slug: Mapped[str] = mapped_column(String(120), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    config: Mapped[dict[str, Any]] = mapped_column(JsonType)
    schedule: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(320))
