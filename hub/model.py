"""The domain model: plain frozen records, no I/O.

Invariants:
- every id is named for what it identifies (``customer_id``, ``interaction_id`` ...);
- every time is timezone-aware UTC and ends in ``_at``;
- an Interaction's state only changes through ``hub.lifecycle.advance``;
- a Customer is never physically deleted (``merged_into`` marks one folded into another).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class Channel(enum.StrEnum):
    WEBCHAT = "webchat"
    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"
    API = "api"  # work handed over by another system (an ERP's call-back, a CRM task)


# A task's own routing attributes (channel api) are kept, and named in rules, with this
# prefix: ``task.order_id``.
TASK_ATTRIBUTE_PREFIX = "task."


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


class IdentityKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WEBCHAT = "webchat"
    EXTERNAL = "external"  # an id in another system, stored as "<system>:<id>"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class AuthorKind(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class InteractionState(enum.StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    WRAP_UP = "wrap_up"
    ENDED = "ended"
    ABANDONED = "abandoned"


class Presence(enum.StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Identity:
    kind: IdentityKind
    value: str


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: int
    name: str
    tier: str
    created_at: datetime
    identities: tuple[Identity, ...] = ()


@dataclass(frozen=True, slots=True)
class Conversation:
    conversation_id: int
    customer_id: int
    channel: Channel
    is_open: bool
    created_at: datetime
    closed_at: datetime | None = None
    thread_key: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    message_id: int
    conversation_id: int
    direction: Direction
    author_kind: AuthorKind
    author_name: str
    body: str
    created_at: datetime
    author_id: int | None = None
    interaction_id: int | None = None
    # Chat: when the visitor's chat box received it, and when it was on their screen.
    delivered_at: datetime | None = None
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Note:
    note_id: int
    customer_id: int
    interaction_id: int | None
    author_id: int | None  # None: written by an integration's API key (author_name is its name)
    author_name: str
    body: str
    created_at: datetime
    kind: str = "note"  # "transfer": what an agent told the colleague they transferred to


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an interaction's life: what happened, to whom, when."""

    step: str
    at: datetime
    agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentStep:
    """One change of an agent's state, and who made it (``by``: a supervisor, or None)."""

    agent_id: int
    state: Presence
    at: datetime
    reason: str | None = None
    by: int | None = None


@dataclass(frozen=True, slots=True)
class Interaction:
    interaction_id: int
    conversation_id: int
    customer_id: int
    channel: Channel
    queue: str
    priority: int
    state: InteractionState
    created_at: datetime
    queued_at: datetime
    agent_id: int | None = None
    offered_at: datetime | None = None
    assigned_at: datetime | None = None
    wrap_up_at: datetime | None = None
    ended_at: datetime | None = None
    abandoned_at: datetime | None = None
    closed_by: str | None = None
    disposition: str | None = None  # the outcome the agent picked in wrap-up
    wrap_up_note: str | None = None
    # What routing rules may look at, set by the channel when the contact came in
    # (``address`` it came in on, ``language``, ``subject``, ``ivr`` choice ...).
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)
    external_id: str | None = None  # a task's id in the system that handed it over (api)


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    email: str
    name: str
    role: Role
    created_at: datetime
    disabled: bool = False
    presence: Presence = Presence.AWAY
    language: str | None = None  # the console's language; None: the browser's
    # Set for accounts given a temporary password (demo, `user add`, an admin's reset):
    # until it is changed, the account may only change it or sign out.
    must_change_password: bool = False
    totp_enabled: bool = False  # signs in with a code from an authenticator app as well


@dataclass(frozen=True, slots=True)
class Queue:
    """A queue as configured: what it accepts and how it offers."""

    name: str
    channels: frozenset[Channel]
    priority: int = 0
    offer_timeout_s: float = 20.0
    wrap_up_s: float = 15.0
    strategy: str = "longest_idle"
    sla_s: float = 20.0
    requires: str = "true"  # which agents serve this queue (a skill expression)
    max_wait_s: float | None = None
    on_max_wait: str | None = None  # "overflow", "voicemail" or "callback"
    overflow_queue: str | None = None


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent as the router sees them."""

    agent_id: int
    name: str
    capacity: Mapping[Channel, int] = field(default_factory=dict)
    skills: Mapping[str, int] = field(default_factory=dict)
