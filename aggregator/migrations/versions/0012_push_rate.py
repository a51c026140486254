"""push rate: counted push API requests per token, shared by every server process

Revision ID: 0012_push_rate
Revises: 0011_venue_feeds
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aggregator.models

revision = "0012_push_rate"
down_revision = "0011_venue_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_rate_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_push_rate_hits_key_at", "push_rate_hits", ["key", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_push_rate_hits_key_at", table_name="push_rate_hits")
    op.drop_table("push_rate_hits")
