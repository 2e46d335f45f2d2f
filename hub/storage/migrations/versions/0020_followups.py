"""followups: an agent's reminder to contact a customer again at a set time, hub.followups

Revision ID: 0020_followups
Revises: 0019_api_channel
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_followups"
down_revision = "0019_api_channel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("followup_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("note_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_followups_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.conversation_id"],
            name=op.f("fk_followups_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.user_id"], name=op.f("fk_followups_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.user_id"], name=op.f("fk_followups_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.interaction_id"],
            name=op.f("fk_followups_interaction_id_interactions"),
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.note_id"], name=op.f("fk_followups_note_id_notes")
        ),
        sa.PrimaryKeyConstraint("followup_id", name=op.f("pk_followups")),
    )
    op.create_index("ix_followups_customer_id", "followups", ["customer_id"])
    op.create_index("ix_followups_owner_id", "followups", ["owner_id"])
    op.create_index("ix_followups_created_by", "followups", ["created_by"])
    op.create_index("ix_followups_state_due_at", "followups", ["state", "due_at"])


def downgrade() -> None:
    for name in (
        "ix_followups_state_due_at",
        "ix_followups_created_by",
        "ix_followups_owner_id",
        "ix_followups_customer_id",
    ):
        op.drop_index(name, table_name="followups")
    op.drop_table("followups")
