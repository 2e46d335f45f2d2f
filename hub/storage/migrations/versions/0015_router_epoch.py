"""router_epoch: the fencing token of the one router allowed to write claims (cluster mode)

Revision ID: 0015_router_epoch
Revises: 0014_api_keys
Create Date: 2026-11-23 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_router_epoch"
down_revision = "0014_api_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "router_epoch",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_router_epoch")),
    )
    op.bulk_insert(
        sa.table("router_epoch", sa.column("name", sa.String), sa.column("epoch", sa.BigInteger)),
        [{"name": "router", "epoch": 0}],
    )


def downgrade() -> None:
    op.drop_table("router_epoch")
