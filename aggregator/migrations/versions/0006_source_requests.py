"""source requests: pause and run-now requests on source_state, decisions on held-back runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aggregator.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_STATE = ("paused_at", "paused_by", "run_requested_at", "run_requested_by")
_RUNS = ("decision", "decided_by", "decided_at")


def upgrade() -> None:
    op.add_column(
        "source_state", sa.Column("paused_at", aggregator.models.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("source_state", sa.Column("paused_by", sa.String(length=320), nullable=True))
    op.add_column(
        "source_state",
        sa.Column("run_requested_at", aggregator.models.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("source_state", sa.Column("run_requested_by", sa.String(length=320), nullable=True))
    op.add_column("source_runs", sa.Column("decision", sa.String(length=20), nullable=True))
    op.add_column("source_runs", sa.Column("decided_by", sa.String(length=320), nullable=True))
    op.add_column(
        "source_runs", sa.Column("decided_at", aggregator.models.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("source_runs") as batch:
        for name in _RUNS:
            batch.drop_column(name)
    with op.batch_alter_table("source_state") as batch:
        for name in _STATE:
            batch.drop_column(name)
