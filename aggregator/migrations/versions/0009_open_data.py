"""open data: the change feed (every public change in commit order, with tombstones), webhooks and their
delivery queue, image credits

Revision ID: 0009_open_data
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import aggregator.models

revision = "0009_open_data"
down_revision = "0008"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("occurrence_id", sa.String(length=40), nullable=True),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("venue", sa.String(length=120), nullable=False),
        sa.Column("categories", sa.String(length=2000), nullable=False),
        sa.Column("sources", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_changes_at"), "changes", ["at"], unique=False)
    op.create_index(op.f("ix_changes_event_id"), "changes", ["event_id"], unique=False)
    op.create_table(
        "change_prunes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("through_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("venues", sa.String(length=2000), nullable=False),
        sa.Column("categories", sa.String(length=2000), nullable=False),
        sa.Column("sources", sa.String(length=2000), nullable=False),
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", aggregator.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", aggregator.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_deliveries_webhook_id"), "webhook_deliveries", ["webhook_id"], unique=False
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts", ["delivery_id"], unique=False
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("image_credit", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("image_licence", sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("image_licence")
        batch.drop_column("image_credit")
    op.drop_table("change_prunes")
    op.drop_index(op.f("ix_changes_event_id"), table_name="changes")
    op.drop_index(op.f("ix_changes_at"), table_name="changes")
    op.drop_table("changes")
