"""message_receipts: when a chat reply reached the visitor's chat box, and when they saw it

Revision ID: 0016_message_receipts
Revises: 0015_router_epoch
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_message_receipts"
down_revision = "0015_router_epoch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("read_at")
        batch.drop_column("delivered_at")
