"""account links: one-time invitation and password-reset links of console and portal accounts

Revision ID: 0010_account_links
Revises: 0009_open_data
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aggregator.models

revision = "0010_account_links"
down_revision = "0009_open_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", aggregator.models.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name="ck_account_links_purpose"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["accounts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_account_links_account_id"), "account_links", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_account_links_account_id"), table_name="account_links")
    op.drop_table("account_links")
