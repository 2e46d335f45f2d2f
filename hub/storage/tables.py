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
    BigInteger,
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
    Column("language", String(10), nullable=True),  # the console's language; None: browser's
    Column("must_change_password", Boolean, nullable=False, server_default=text("false")),
    # The TOTP second factor's secret (enrolment pending until totp_enabled).
    Column("totp_secret", String(64), nullable=True),
    Column("totp_enabled", Boolean, nullable=False, server_default=text("false")),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.user_id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    # Refreshed at most once a minute while the session is used (hub.auth): idle timeout.
    Column("last_seen_at", UtcDateTime, nullable=False),
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
    # The profile (hub.customers): custom holds the fields declared in config.
    Column("company", String(200), nullable=False, server_default=""),
    Column("language", String(20), nullable=True),
    Column("tags", JSON, nullable=False, server_default="[]"),
    Column("owner_id", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("custom", JSON, nullable=False, server_default="{}"),
    # Never physically deleted: hidden from search (merged ones too), kept for statistics.
    Column("deleted_at", UtcDateTime, nullable=True),
    Column("erased_at", UtcDateTime, nullable=True),  # personal data removed on request
)

# Each merge and exactly what it moved ({identities, conversations, interactions, notes}:
# ids), so an admin's unmerge moves back that and nothing else.
customer_merges = Table(
    "customer_merges",
    metadata,
    Column("merge_id", Integer, primary_key=True),
    Column("survivor_id", Integer, ForeignKey("customers.customer_id"), nullable=False),
    Column("merged_id", Integer, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("moved", JSON, nullable=False),
    Column("by_user_id", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("unmerged_at", UtcDateTime, nullable=True),
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
    Column("disposition", String(64), nullable=True),  # the outcome the agent picked
    Column("wrap_up_note", Text, nullable=True),
    # A task's id in the system that handed it over (channel api): one interaction each.
    Column("external_id", String(200), nullable=True),
    Index("uq_interactions_external_id", "external_id", unique=True),
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
    # Chat replies: the visitor's chat box received it / showed it (read implies delivered).
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("read_at", UtcDateTime, nullable=True),
)

notes = Table(
    "notes",
    metadata,
    Column("note_id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("interaction_id", Integer, ForeignKey("interactions.interaction_id"), nullable=True),
    Column("author_id", Integer, ForeignKey("users.user_id"), nullable=True),  # None: API key
    Column("author_name", String(200), nullable=True),  # an API key's name, when no author_id
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("kind", String(20), nullable=False, server_default="note"),  # note, transfer
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
    Column("stage", String(20), nullable=False, index=True),  # ivr, queued, connected ...
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
    # A warm transfer in progress: the colleague consulted and their leg (ringing, talking).
    Column("consult_agent_id", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("consult_call_sid", String(64), nullable=True),
    Column("consult_stage", String(10), nullable=True),
    # A supervisor on the call: who, their leg, listen or whisper.
    Column("monitor_user_id", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("monitor_call_sid", String(64), nullable=True),
    Column("monitor_mode", String(10), nullable=True),
)

# ---------------------------------------------------------------------- agents' day
# Every change of an agent's state (available, away with its reason, offline), and the
# supervisor who made it when it was not the agent: the wallboard's signed-in time and
# occupancy come from here, and it is the audit trail of supervisors' actions on agents.
agent_steps = Table(
    "agent_steps",
    metadata,
    Column("agent_step_id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("users.user_id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("reason", String(40), nullable=True),
    Column("by_user_id", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_agent_steps_at", "at"),
    Index("ix_agent_steps_agent_id_at", "agent_id", "at"),
)

# Where each agent takes calls: "phone" (agents[].phone in config, the default) or "browser"
# (the Twilio Voice JS SDK in the console). Chosen in the console, kept across sign-ins.
agent_devices = Table(
    "agent_devices",
    metadata,
    Column("user_id", Integer, ForeignKey("users.user_id"), primary_key=True),
    Column("device", String(10), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

# The audit trail (hub.audit): append-only. Migration 0007 installs triggers that make the
# database itself refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on this table. Actors
# are not foreign keys: an entry outlives whatever it names, and system actors have no user.
audit_log = Table(
    "audit_log",
    metadata,
    Column("entry_id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("actor_kind", String(20), nullable=False),  # user, api, system, visitor
    Column("actor_id", Integer, nullable=True, index=True),
    Column("actor_name", String(320), nullable=False),
    Column("address", String(64), nullable=True),  # the client's IP address
    Column("action", String(100), nullable=False, index=True),
    Column("target_kind", String(40), nullable=True),
    Column("target_id", String(320), nullable=True),
    Column("details", JSON, nullable=False),
)

# ---------------------------------------------------------------------- outbound webhooks
# An admin's subscriptions, and one delivery row per event per matching subscription, written
# when the event happens (before any POST) and drained by the webhook sender. ``secret`` signs
# the deliveries, so it is kept as given (shown to the admin once, never returned again).
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("subscription_id", Integer, primary_key=True),
    Column("url", Text, nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("description", String(200), nullable=False, server_default=""),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", Integer, primary_key=True),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("webhook_subscriptions.subscription_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("body", Text, nullable=False),  # the exact JSON posted, every attempt
    Column("state", String(10), nullable=False),  # pending, sending, delivered, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("give_up_at", UtcDateTime, nullable=False),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    Index("ix_webhook_deliveries_subscription_id_delivery_id", "subscription_id", "delivery_id"),
)

# Integrations' API keys (hub.apikeys): only the SHA-256 of a key is stored; revoked keys
# stay, so the audit trail's "api" actors keep their name.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
)

# The routing fence (docs/scaling.md): the fencing token of the router that may write claims.
# A node that wins the router lease raises ``epoch`` to its token (only ever upwards); each
# claim of a fenced router reads this row FOR SHARE in its own transaction and is refused
# when the token differs, so a router whose lease ran out can no longer assign anything.
router_epoch = Table(
    "router_epoch",
    metadata,
    Column("name", String(40), primary_key=True),  # "router"
    Column("epoch", BigInteger, nullable=False),
    Column("node_id", String(64), nullable=True),
    Column("changed_at", UtcDateTime, nullable=True),
)

# The knowledge base (hub.knowledge): Markdown articles, soft-deleted. Full-text search is
# not in this metadata, since it differs by database (hub.storage.knowledge): on SQLite an
# FTS5 table ``kb_articles_fts`` kept in step by triggers, on PostgreSQL a GIN expression
# index ``ix_kb_articles_fts`` over the articles' tsvector; migration 0017 makes either.
kb_articles = Table(
    "kb_articles",
    metadata,
    Column("article_id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("body_markdown", Text, nullable=False),
    Column("tags", JSON, nullable=False, server_default="[]"),
    Column("language", String(20), nullable=False, index=True),
    Column("published", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", Integer, ForeignKey("users.user_id"), nullable=True),
    Column("deleted_at", UtcDateTime, nullable=True),
)

# Satisfaction ratings (hub.satisfaction): one per interaction, by its customer (the
# interaction's, so a merge moves it along), about its agent. ``first_rated_at`` starts the
# window in which the customer may still change it; ``followup_interaction_id`` is the
# follow-up a low score opened (once).
ratings = Table(
    "ratings",
    metadata,
    Column(
        "interaction_id",
        Integer,
        ForeignKey("interactions.interaction_id"),
        primary_key=True,
    ),
    Column("agent_id", Integer, ForeignKey("users.user_id"), nullable=True, index=True),
    Column("channel", String(20), nullable=False),
    Column("score", Integer, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("rated_at", UtcDateTime, nullable=False, index=True),
    Column("first_rated_at", UtcDateTime, nullable=False),
    Column(
        "followup_interaction_id",
        Integer,
        ForeignKey("interactions.interaction_id"),
        nullable=True,
    ),
)

# Follow-ups (hub.followups): an agent's reminder to contact a customer again at ``due_at``
# on one of their conversations. ``state`` moves scheduled -> opened (``interaction_id``: the
# interaction it opened, or the one under way it became ``note_id`` on) or -> cancelled; the
# index finds what is due without reading the rest.
followups = Table(
    "followups",
    metadata,
    Column("followup_id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("conversation_id", Integer, ForeignKey("conversations.conversation_id"), nullable=False),
    Column("owner_id", Integer, ForeignKey("users.user_id"), nullable=False, index=True),
    Column("created_by", Integer, ForeignKey("users.user_id"), nullable=False, index=True),
    Column("note", Text, nullable=False),
    Column("queue", String(64), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(20), nullable=False),
    Column("interaction_id", Integer, ForeignKey("interactions.interaction_id"), nullable=True),
    Column("note_id", Integer, ForeignKey("notes.note_id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("opened_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Index("ix_followups_state_due_at", "state", "due_at"),
)
