"""editorial overrides: editors' field values, hidden events and occurrences, highlights

Revision ID: 0008
Revises: 0007_dedupe_decisions
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import aggregator.models

revision = "0008"
down_revision = "0007_dedupe_decisions"
branch_labels = None
depends_on = None


def _overrides_table(name: str, key: str) -> None:
    op.create_table(
        name,
        sa.Column(key, sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("account_email", sa.String(length=320), nullable=False),
        sa.Column("set_at", aggregator.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(key, "field"),
    )


def upgrade() -> None:
    _overrides_table("event_overrides", "event_id")
    _overrides_table("occurrence_overrides", "occurrence_id")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("highlight", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(
            sa.Column("highlight_until", aggregator.models.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.drop_column("hidden")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("highlight_until")
        batch_op.drop_column("highlight")
        batch_op.drop_column("hidden")
    op.drop_table("occurrence_overrides")
    op.drop_table("event_overrides")
