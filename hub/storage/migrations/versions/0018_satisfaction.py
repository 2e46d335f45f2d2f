"""satisfaction: one rating per interaction (score, comment, channel, agent), hub.satisfaction

Revision ID: 0018_satisfaction
Revises: 0017_knowledge_base
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_satisfaction"
down_revision = "0017_knowledge_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followup_interaction_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.interaction_id"],
            name=op.f("fk_ratings_interaction_id_interactions"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.user_id"], name=op.f("fk_ratings_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["followup_interaction_id"],
            ["interactions.interaction_id"],
            name=op.f("fk_ratings_followup_interaction_id_interactions"),
        ),
        sa.PrimaryKeyConstraint("interaction_id", name=op.f("pk_ratings")),
    )
    op.create_index("ix_ratings_agent_id", "ratings", ["agent_id"])
    op.create_index("ix_ratings_rated_at", "ratings", ["rated_at"])


def downgrade() -> None:
    op.drop_index("ix_ratings_rated_at", table_name="ratings")
    op.drop_index("ix_ratings_agent_id", table_name="ratings")
    op.drop_table("ratings")
