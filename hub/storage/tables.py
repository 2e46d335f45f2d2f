"""The relational schema (SQLAlchemy Core). Migrations in ``migrations/`` must match it.

Times are stored as timezone-aware UTC (``UtcDateTime`` restores the zone SQLite drops).
Uniqueness that protects users lives here, not in code: one customer per identity, one open
conversation per channel thread, one active interaction per conversation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ACTIVE = "state IN ('queued', 'offered', 'assigned', 'wrap_up')"

users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("presence", String(20), nullable=False, server_default="away"),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.user_id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("tier", String(20), nullable=False, server_default="normal"),
    Column("merged_into", Integer, ForeignKey("customers.customer_id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("identity_id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("value", String(320), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "value", name="uq_identities_kind_value"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("conversation_id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("thread_key", String(200), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Index(
        "uq_conversations_open_thread",
        "channel",
        "thread_key",
        unique=True,
        sqlite_where=text("is_open"),
        postgresql_where=text("is_open"),
    ),
)

interactions = Table(
    "interactions",
    metadata,
    Column("interaction_id", Integer, primary_key=True),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.conversation_id"),
        nullable=False,
        index=True,
    ),
    Column("customer_id", Integer, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("queue", String(64), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("users.user_id"), nullable=True, index=True),
    Column("closed_by", String(20), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("offered_at", UtcDateTime, nullable=True),
    Column("assigned_at", UtcDateTime, nullable=True),
    Column("wrap_up_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("abandoned_at", UtcDateTime, nullable=True),
    Column("attributes", JSON, nullable=False, server_default="{}"),
    Index(
        "uq_interactions_active_conversation",
        "conversation_id",
        unique=True,
        sqlite_where=text(ACTIVE),
        postgresql_where=text(ACTIVE),
    ),
)

interaction_steps = Table(
    "interaction_steps",
    metadata,
    Column("step_id", Integer, primary_key=True),
    Column(
        "interaction_id",
        Integer,
        ForeignKey("interactions.interaction_id"),
        nullable=False,
        index=True,
    ),
    Column("step", String(40), nullable=False),
    Column("agent_id", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("at", UtcDateTime, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("message_id", Integer, primary_key=True),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.conversation_id"),
        nullable=False,
        index=True,
    ),
    Column("interaction_id", Integer, ForeignKey("interactions.interaction_id"), nullable=True),
    Column("direction", String(3), nullable=False),
    Column("author_kind", String(20), nullable=False),
    Column("author_id", Integer, nullable=True),
    Column("author_name", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("note_id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("interaction_id", Integer, ForeignKey("interactions.interaction_id"), nullable=True),
    Column("author_id", Integer, ForeignKey("users.user_id"), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# ---------------------------------------------------------------------- email channel
# An email thread spans the conversations of one customer's exchange by mail (a follow-up
# after a conversation closed opens a new conversation on the same thread). Its number is
# the reply token (support+c<thread_id>@..., subject tag [#<thread_id>]).
email_threads = Table(
    "email_threads",
    metadata,
    Column("thread_id", Integer, primary_key=True),
    Column("subject", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

email_messages = Table(
    "email_messages",
    metadata,
    Column("message_id", Integer, ForeignKey("messages.message_id"), primary_key=True),
    Column("thread_id", Integer, ForeignKey("email_threads.thread_id"), nullable=False, index=True),
    Column("direction", String(3), nullable=False),
    Column("header_message_id", String(998), nullable=False, index=True),
    Column("in_reply_to", Text, nullable=False, server_default=""),
    Column("references", Text, nullable=False, server_default=""),
    Column("subject", Text, nullable=False),
    Column("from_address", String(320), nullable=False),
    Column("from_name", String(200), nullable=False, server_default=""),
    Column("reply_address", String(320), nullable=False),
    Column("to_addresses", Text, nullable=False, server_default=""),
    Column("cc_addresses", Text, nullable=False, server_default=""),
    Column("mailbox", String(320), nullable=False),  # our address it came to or went from
    Column("html", Text, nullable=True),  # sanitised
    Column("automated", String(20), nullable=True),  # auto_reply, bounce
    Column("warnings", Text, nullable=False, server_default=""),
    Column("status", String(10), nullable=True),  # outbound: queued, sent, failed
    Column("status_detail", Text, nullable=True),
    Column("raw", LargeBinary, nullable=True),
)

email_attachments = Table(
    "email_attachments",
    metadata,
    Column("attachment_id", Integer, primary_key=True),
    Column("message_id", Integer, ForeignKey("messages.message_id"), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content_id", String(998), nullable=True),
    Column("inline", Boolean, nullable=False),
    Column("data", LargeBinary, nullable=True),  # None when over the size cap
)

email_outbox = Table(
    "email_outbox",
    metadata,
    Column("outbox_id", Integer, primary_key=True),
    Column("message_id", Integer, ForeignKey("messages.message_id"), nullable=False, unique=True),
    Column("state", String(10), nullable=False, index=True),  # queued, sending, sent, failed
    Column("sender", String(320), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),  # the rendered message, Message-ID fixed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
)

# ---------------------------------------------------------------------- SMS channel
# One row per text message, beside its ``messages`` row: Twilio's id (unique, so a retried
# webhook is stored once), both numbers, and for replies the delivery status as Twilio
# reports it. An SMS conversation's thread key is "sms:<hub number>:<customer number>".
sms_messages = Table(
    "sms_messages",
    metadata,
    Column("message_id", Integer, ForeignKey("messages.message_id"), primary_key=True),
    Column("message_sid", String(64), nullable=True, unique=True),  # None until accepted
    Column("direction", String(3), nullable=False),
    Column("hub_number", String(20), nullable=False),
    Column("customer_number", String(20), nullable=False),
    Column("status", String(20), nullable=True),  # queued, sent, delivered, failed ...
    Column("error_code", String(10), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("keyword", String(10), nullable=True),  # stop, start, help
    Column("media", JSON, nullable=False, server_default="[]"),  # [{url, content_type}]
    Column("status_at", UtcDateTime, nullable=True),
)

# Customers who texted STOP (opted_out) or START again, by their number.
sms_opt_outs = Table(
    "sms_opt_outs",
    metadata,
    Column("number", String(20), primary_key=True),
    Column("opted_out", Boolean, nullable=False),
    Column("keyword", String(20), nullable=False),
    Column("hub_number", String(20), nullable=True),  # the number they texted it to
    Column("changed_at", UtcDateTime, nullable=False),
)

# ---------------------------------------------------------------------- voice channel
# One row per phone call leg the customer is on (Twilio's CallSid, so a retried webhook finds
# it), from the first ring: where it is (stage), the menu path chosen, the agent leg and the
# conference, and the timings and recording that the call-status, conference and recording
# callbacks report. A call's conversation has the thread key "voice:<CallSid>".
voice_calls = Table(
    "voice_calls",
    metadata,
    Column("call_sid", String(64), primary_key=True),
    Column("interaction_id", Integer, ForeignKey("interactions.interaction_id"), nullable=True),
    Column("hub_number", String(20), nullable=False),
    Column("customer_number", String(20), nullable=False),
    Column("stage", String(20), nullable=False),  # ivr, queued, callback, connected, ended ...
    Column("ivr_path", String(40), nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("agent_id", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("agent_call_sid", String(64), nullable=True, unique=True),
    Column("customer_leg_sid", String(64), nullable=True),  # the leg we placed for a callback
    Column("conference_sid", String(64), nullable=True),
    Column("ring_started_at", UtcDateTime, nullable=True),
    Column("answered_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("ring_s", Float, nullable=True),
    Column("talk_s", Float, nullable=True),
    Column("hold_s", Float, nullable=False, server_default="0"),
    Column("held_since", UtcDateTime, nullable=True),
    Column("muted", Boolean, nullable=False, server_default="0"),
    Column("hung_up_by", String(10), nullable=True),  # customer, agent
    Column("recording_url", String(2000), nullable=True),
    Column("recording_s", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)
