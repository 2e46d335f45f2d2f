"""Voice calls: a warm transfer's consultation leg and a supervisor's listen/whisper leg on the
call, and an index on the stage (supervisors list the live calls)

Revision ID: 0008_call_participants
Revises: 0007_console
Create Date: 2026-11-23 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_call_participants"
down_revision = "0007_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voice_calls") as batch:
        batch.add_column(sa.Column("consult_agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("consult_call_sid", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("consult_stage", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("monitor_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("monitor_call_sid", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("monitor_mode", sa.String(length=10), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_voice_calls_consult_agent_id_users"),
            "users",
            ["consult_agent_id"],
            ["user_id"],
        )
        batch.create_foreign_key(
            batch.f("fk_voice_calls_monitor_user_id_users"),
            "users",
            ["monitor_user_id"],
            ["user_id"],
        )
        batch.create_index(batch.f("ix_voice_calls_stage"), ["stage"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("voice_calls") as batch:
        batch.drop_index(batch.f("ix_voice_calls_stage"))
        batch.drop_constraint(batch.f("fk_voice_calls_monitor_user_id_users"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_voice_calls_consult_agent_id_users"), type_="foreignkey")
        for column in (
            "monitor_mode",
            "monitor_call_sid",
            "monitor_user_id",
            "consult_stage",
            "consult_call_sid",
            "consult_agent_id",
        ):
            batch.drop_column(column)
