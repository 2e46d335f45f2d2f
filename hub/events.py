"""Facts announced on the event bus, always after they are committed (past tense)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.model import Channel, Customer, Interaction, Message, Presence


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
class InteractionRequeued:
    """An agent transferred the interaction: it waits again (for ``to_agent`` first)."""

    interaction: Interaction
    from_agent: int
    to_agent: int | None


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
    """A channel learnt more about a stored message: an SMS's delivery status, its media."""

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
