"""Agent console: an interaction's disposition and wrap-up note, a note's kind (a transfer
note the receiving agent sees), and each user's console language

Revision ID: 0007_console
Revises: 0006_agent_steps
Create Date: 2026-11-23 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_console"
down_revision = "0006_agent_steps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("disposition", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("wrap_up_note", sa.Text(), nullable=True))
    with op.batch_alter_table("notes") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=20), server_default="note", nullable=False)
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("notes") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("interactions") as batch:
        batch.drop_column("wrap_up_note")
        batch.drop_column("disposition")
