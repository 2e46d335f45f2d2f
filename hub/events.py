"""Facts announced on the event bus, always after they are committed (past tense)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.customers import Profile
from hub.model import Channel, Customer, Interaction, Message, Note, Presence
from hub.satisfaction import Rating


@dataclass(frozen=True, slots=True)
class InteractionCreated:
    interaction: Interaction


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A customer's message, stored."""

    interaction: Interaction
    message: Message


@dataclass(frozen=True, slots=True)
class ReplySent:
    """An agent's reply, stored."""

    interaction: Interaction
    message: Message


@dataclass(frozen=True, slots=True)
class OfferMade:
    interaction: Interaction
    agent_id: int
    customer: Customer
    preview: str
    expires_at: datetime
    timeout_s: float


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    interaction_id: int
    agent_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class InteractionAssigned:
    interaction: Interaction
    agent_name: str


@dataclass(frozen=True, slots=True)
class WrapUpStarted:
    interaction: Interaction
    until: datetime
    closed_by: str


@dataclass(frozen=True, slots=True)
class InteractionEnded:
    interaction: Interaction


@dataclass(frozen=True, slots=True)
class InteractionRated:
    """The customer rated the interaction (``replaced``: they changed an earlier rating)."""

    interaction: Interaction
    rating: Rating
    replaced: bool = False


@dataclass(frozen=True, slots=True)
class SurveyDue:
    """The interaction ended in a queue that asks its customer for a rating on its channel:
    the channel asks now (a chat card, a text, an email, a keypad prompt)."""

    interaction: Interaction


@dataclass(frozen=True, slots=True)
class InteractionRequeued:
    """An agent transferred the interaction: it waits again (for ``to_agent`` first)."""

    interaction: Interaction
    from_agent: int
    to_agent: int | None


@dataclass(frozen=True, slots=True)
class MaxWaitPassed:
    """A waiting interaction reached its queue's ``max_wait_s``; ``action`` is the queue's
    ``on_max_wait`` (callback, voicemail) for the channel to carry out."""

    interaction: Interaction
    action: str


@dataclass(frozen=True, slots=True)
class CallChanged:
    """A phone call's participants changed (connected, consultation, supervisor, ended): the
    agent's call panel and the supervisors' list of live calls show it again."""

    interaction: Interaction
    agent_ids: tuple[int, ...] = ()  # agents whose consoles show this call (besides its agent)


@dataclass(frozen=True, slots=True)
class SuggestionsOffered:
    """A web-chat visitor's first message matched published articles; the interaction waits
    for their answer (``hub.self_service``) before it joins the queue. ``articles``: the
    visitor's view of each (``article_id``, ``title``, ``snippet``, ``body_html``)."""

    interaction: Interaction
    articles: tuple[Mapping[str, Any], ...]
    wait_s: float


@dataclass(frozen=True, slots=True)
class SelfServed:
    """The visitor said an article answered their question: closed without an agent."""

    interaction: Interaction
    article_id: int


@dataclass(frozen=True, slots=True)
class InteractionAbandoned:
    interaction: Interaction
    offered_to: int | None


@dataclass(frozen=True, slots=True)
class QueuePositionChanged:
    interaction_id: int
    conversation_id: int
    position: int
    estimated_wait_s: float | None = None


@dataclass(frozen=True, slots=True)
class AgentStateReported:
    agent_id: int
    state: Presence
    load: Mapping[Channel, int]
    capacity: Mapping[Channel, int]
    state_since: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    name: str
    waiting: int
    offered: int
    assigned: int
    oldest_queued_at: datetime | None
    entered_today: int = 0
    answered_today: int = 0
    abandoned_today: int = 0
    service_level_today: float | None = None
    asa_today_s: float | None = None
    sla_s: float = 0.0


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    agent_id: int
    name: str
    state: Presence
    state_since: datetime
    load: Mapping[Channel, int]
    capacity: Mapping[Channel, int]
    reason: str | None = None
    skills: Mapping[str, int] | None = None
    queues: tuple[str, ...] = ()  # the queues whose channels and requirements they meet


@dataclass(frozen=True, slots=True)
class RoutingSnapshotTaken:
    """The live picture of queues and agents, for supervisors."""

    at: datetime
    queues: tuple[QueueSnapshot, ...]
    agents: tuple[AgentSnapshot, ...]


@dataclass(frozen=True, slots=True)
class Typing:
    """Someone is (or stopped) typing in a conversation; never stored."""

    interaction_id: int
    conversation_id: int
    agent_id: int | None
    by_customer: bool
    typing: bool
    author_name: str


@dataclass(frozen=True, slots=True)
class MessageDetailsChanged:
    """A channel learnt more about a stored message: an SMS's delivery status, its media; an
    email's sending; a chat reply delivered to or read in the visitor's chat box."""

    interaction: Interaction
    message_id: int
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OptOutChanged:
    """A customer opted out of (or back into) a channel's messages, e.g. by texting STOP.
    ``interaction`` is the one open on that conversation, if any."""

    interaction: Interaction | None
    customer_id: int
    channel: Channel
    address: str
    opted_out: bool


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    """A supervisor signed the agent out everywhere: their consoles must close."""

    agent_id: int
    by_name: str


@dataclass(frozen=True, slots=True)
class Whispered:
    """A supervisor's note to the agent holding the interaction (stored as a private note;
    the customer never sees it)."""

    interaction: Interaction
    note_id: int
    author_name: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NoteAdded:
    """A private note kept on an interaction through the REST API (an integration's key, a
    supervisor's tool), committed: the agent holding it sees it at once."""

    interaction: Interaction
    note: Note


@dataclass(frozen=True, slots=True)
class SessionsRevoked:
    """Sign-in sessions ended and deleted: one (``session_hash``, e.g. a sign-out) or all of a
    user's (``session_hash`` None: disabled, role or password changed). The open sockets of
    those sessions are closed at once. ``reason`` is a stable code: signed_out, disabled,
    role_changed, password_changed. ``from_node``: None when revoked on this node; in a cluster,
    the node it was revoked on when another node's revocation is announced here too
    (``hub.cluster.broadcast``)."""

    user_id: int
    session_hash: str | None
    reason: str
    from_node: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerChanged:
    """A customer's record was made or changed, committed: through the API
    (hub.customers_api), by a first contact or a pre-chat form (hub.inbound), or by an import
    (hub.customers_cli, which records its webhook deliveries itself).

    ``kind``: ``created``, ``updated`` (profile, identities, an unmerge, an erasure; ``change``
    says which) or ``merged`` (``profile`` is the customer that stays; ``detail`` names the one
    that went into it). ``detail`` is JSON already, as the webhook carries it."""

    kind: str
    profile: Profile
    change: str
    detail: Mapping[str, Any] | None = None
