"""email channel: threads, message headers, attachments, raw messages, outbox

Revision ID: 0003_email
Revises: 0002
Create Date: 2026-11-23 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_email"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_threads",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", name=op.f("pk_email_threads")),
    )
    op.create_table(
        "email_messages",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("header_message_id", sa.String(length=998), nullable=False),
        sa.Column("in_reply_to", sa.Text(), server_default="", nullable=False),
        sa.Column("references", sa.Text(), server_default="", nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("from_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("reply_address", sa.String(length=320), nullable=False),
        sa.Column("to_addresses", sa.Text(), server_default="", nullable=False),
        sa.Column("cc_addresses", sa.Text(), server_default="", nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("automated", sa.String(length=20), nullable=True),
        sa.Column("warnings", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=10), nullable=True),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.message_id"],
            name=op.f("fk_email_messages_message_id_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["email_threads.thread_id"],
            name=op.f("fk_email_messages_thread_id_email_threads"),
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_email_messages")),
    )
    op.create_index(
        op.f("ix_email_messages_header_message_id"),
        "email_messages",
        ["header_message_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_email_messages_thread_id"), "email_messages", ["thread_id"], unique=False
    )
    op.create_table(
        "email_attachments",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.String(length=998), nullable=True),
        sa.Column("inline", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.message_id"],
            name=op.f("fk_email_attachments_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_email_attachments")),
    )
    op.create_index(
        op.f("ix_email_attachments_message_id"),
        "email_attachments",
        ["message_id"],
        unique=False,
    )
    op.create_table(
        "email_outbox",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.message_id"],
            name=op.f("fk_email_outbox_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_email_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_outbox_message_id")),
    )
    op.create_index(op.f("ix_email_outbox_state"), "email_outbox", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_email_outbox_state"), table_name="email_outbox")
    op.drop_table("email_outbox")
    op.drop_index(op.f("ix_email_attachments_message_id"), table_name="email_attachments")
    op.drop_table("email_attachments")
    op.drop_index(op.f("ix_email_messages_thread_id"), table_name="email_messages")
    op.drop_index(op.f("ix_email_messages_header_message_id"), table_name="email_messages")
    op.drop_table("email_messages")
    op.drop_table("email_threads")
