"""api channel: a task's external id, unique, so a retried request finds the same interaction

Revision ID: 0019_api_channel
Revises: 0018_satisfaction
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_api_channel"
down_revision = "0018_satisfaction"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE and CREATE INDEX (no batch copy, which could lose the partial index
    # on active interactions in SQLite); NULLs are distinct, so only tasks with an id count.
    op.add_column("interactions", sa.Column("external_id", sa.String(length=200), nullable=True))
    op.create_index("uq_interactions_external_id", "interactions", ["external_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_interactions_external_id", table_name="interactions")
    op.drop_column("interactions", "external_id")
