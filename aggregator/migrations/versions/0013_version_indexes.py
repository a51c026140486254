"""version indexes: events.updated_at, so the API's data version is index lookups only

Revision ID: 0013_version_indexes
Revises: 0012_push_rate
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0013_version_indexes"
down_revision = "0012_push_rate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_events_updated_at"), "events", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_events_updated_at"), table_name="events")
