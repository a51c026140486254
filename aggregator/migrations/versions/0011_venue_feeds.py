"""venue feeds: feed URLs venues register in the portal, scheduled like configured sources

Revision ID: 0011_venue_feeds
Revises: 0010_account_links
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import aggregator.models

revision = "0011_venue_feeds"
down_revision = "0010_account_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "venue_feeds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("venue_slug", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("config", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", aggregator.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source"),
    )
    op.create_index(op.f("ix_venue_feeds_venue_slug"), "venue_feeds", ["venue_slug"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_venue_feeds_venue_slug"), table_name="venue_feeds")
    op.drop_table("venue_feeds")
