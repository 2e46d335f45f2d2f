"""notes by integrations: an API key writes a note under its own name, not a user's

Revision ID: 0021_note_authors
Revises: 0020_followups
Create Date: 2026-12-07 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_note_authors"
down_revision = "0020_followups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # author_id stays for staff; a note by an API key has none and keeps the key's name.
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("author_name", sa.String(length=200), nullable=True))
        batch.alter_column("author_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM notes WHERE author_id IS NULL")
    with op.batch_alter_table("notes") as batch:
        batch.alter_column("author_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("author_name")
