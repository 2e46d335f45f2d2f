"""Agents' state steps: every change of an agent's state and who made it (wallboard, audit)

Revision ID: 0006_agent_steps
Revises: 0005_voice
Create Date: 2026-11-23 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_agent_steps"
down_revision = "0005_voice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_steps",
        sa.Column("agent_step_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.user_id"], name=op.f("fk_agent_steps_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.user_id"], name=op.f("fk_agent_steps_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("agent_step_id", name=op.f("pk_agent_steps")),
    )
    op.create_index("ix_agent_steps_at", "agent_steps", ["at"])
    op.create_index("ix_agent_steps_agent_id_at", "agent_steps", ["agent_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_agent_steps_agent_id_at", table_name="agent_steps")
    op.drop_index("ix_agent_steps_at", table_name="agent_steps")
    op.drop_table("agent_steps")
