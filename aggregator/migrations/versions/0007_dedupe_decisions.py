"""dedupe decisions: editors' merge, keep-apart and pick decisions, and the imported settings rules

Revision ID: 0007_dedupe_decisions
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import aggregator.models

revision = "0007_dedupe_decisions"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedupe_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key_a", sa.String(length=1000), nullable=False),
        sa.Column("key_b", sa.String(length=1000), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=True),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "effect",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=320), nullable=False),
        sa.Column("created_at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", aggregator.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undone_by", sa.String(length=320), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('merge', 'keep_apart', 'pick')", name="ck_dedupe_decisions_kind"),
        sa.ForeignKeyConstraint(["author_id"], ["accounts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["undone_by_id"], ["accounts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_dedupe_decisions_undone_at"), "dedupe_decisions", ["undone_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dedupe_decisions_undone_at"), table_name="dedupe_decisions")
    op.drop_table("dedupe_decisions")
