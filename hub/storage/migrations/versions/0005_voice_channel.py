"""Voice channel: one row per call (Twilio CallSid), its stage, agent leg, timings, recording

Revision ID: 0005_voice
Revises: 0004_sms
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_voice"
down_revision = "0004_sms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_calls",
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("hub_number", sa.String(length=20), nullable=False),
        sa.Column("customer_number", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("ivr_path", sa.String(length=40), server_default="", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("agent_call_sid", sa.String(length=64), nullable=True),
        sa.Column("customer_leg_sid", sa.String(length=64), nullable=True),
        sa.Column("conference_sid", sa.String(length=64), nullable=True),
        sa.Column("ring_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ring_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("hold_s", sa.Float(), server_default="0", nullable=False),
        sa.Column("held_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("muted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("hung_up_by", sa.String(length=10), nullable=True),
        sa.Column("recording_url", sa.String(length=2000), nullable=True),
        sa.Column("recording_s", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.interaction_id"],
            name=op.f("fk_voice_calls_interaction_id_interactions"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.user_id"], name=op.f("fk_voice_calls_agent_id_users")
        ),
        sa.PrimaryKeyConstraint("call_sid", name=op.f("pk_voice_calls")),
        sa.UniqueConstraint("agent_call_sid", name=op.f("uq_voice_calls_agent_call_sid")),
    )


def downgrade() -> None:
    op.drop_table("voice_calls")
