"""venue registry: room spellings, approximate positions, seed hash and the last editor

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import aggregator.models

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("venues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "room_aliases",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default="{}",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("geo_approximate", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("seed_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("edited_at", aggregator.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("edited_by", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("venues", schema=None) as batch_op:
        batch_op.drop_column("edited_by")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("seed_hash")
        batch_op.drop_column("geo_approximate")
        batch_op.drop_column("room_aliases")
