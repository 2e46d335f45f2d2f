"""Where each agent takes calls: their phone or the browser (Twilio Voice JS SDK)

Revision ID: 0009_agent_devices
Revises: 0008_call_participants
Create Date: 2026-11-23 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_agent_devices"
down_revision = "0008_call_participants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_devices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_agent_devices_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_devices")),
    )


def downgrade() -> None:
    op.drop_table("agent_devices")
