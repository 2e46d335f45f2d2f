"""What the routing engine is told: frozen records, named in the past tense."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hub.model import Channel, Presence


@dataclass(frozen=True, slots=True)
class InteractionQueued:
    """A new interaction to route. ``attributes`` feed the rules' filters (tier, language,
    address, words of the subject ...); ``last_agent_id`` is the customer's last agent, for
    the sticky preference, offered it alone for the policy's sticky window or, when given,
    ``sticky_s`` (a follow-up waits longer for its owner)."""

    interaction_id: int
    queue: str
    channel: Channel
    priority: int
    queued_at: datetime
    attributes: Mapping[str, object] = field(default_factory=dict)
    last_agent_id: int | None = None
    sticky_s: float | None = None


@dataclass(frozen=True, slots=True)
class InteractionHeld:
    """At start-up: an interaction already assigned to (or in wrap-up with) an agent."""

    interaction_id: int
    agent_id: int
    queue: str
    channel: Channel
    wrap_up_until: datetime | None = None
    queued_at: datetime | None = None
    priority: int = 0


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """An agent's presence (and, when given, capacity and skills) changed. ``reason`` is the
    away reason code."""

    agent_id: int
    state: Presence
    capacity: Mapping[Channel, int] = field(default_factory=dict)
    skills: Mapping[str, int] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    interaction_id: int
    agent_id: int


@dataclass(frozen=True, slots=True)
class OfferDeclined:
    interaction_id: int
    agent_id: int


@dataclass(frozen=True, slots=True)
class OfferUnreachable:
    """The agent's device could not take the offer: ``busy`` (their line was busy) or
    ``no_answer`` (it rang out), as a voice leg reports. The interaction waits again at its
    place; ``no_answer`` counts as a missed offer, ``busy`` does not."""

    interaction_id: int
    agent_id: int
    reason: str  # busy | no_answer


@dataclass(frozen=True, slots=True)
class AgentClosed:
    """The agent closed the conversation; wrap-up begins."""

    interaction_id: int
    agent_id: int


@dataclass(frozen=True, slots=True)
class CustomerLeft:
    """The customer ended the contact: abandoned if still waiting, wrap-up if assigned."""

    interaction_id: int


@dataclass(frozen=True, slots=True)
class WrapUpFinished:
    interaction_id: int
    agent_id: int


@dataclass(frozen=True, slots=True)
class InteractionTransferred:
    """The holding agent hands the interaction to a queue or to a named colleague."""

    interaction_id: int
    agent_id: int
    to_queue: str | None = None
    to_agent: int | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: expire due offers and wrap-ups."""


Event = (
    InteractionQueued
    | InteractionHeld
    | AgentStateChanged
    | OfferAccepted
    | OfferDeclined
    | OfferUnreachable
    | AgentClosed
    | CustomerLeft
    | WrapUpFinished
    | InteractionTransferred
    | Tick
)
