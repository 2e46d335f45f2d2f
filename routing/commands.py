"""What the routing engine asks the runner to do: frozen records, named in the imperative.

The runner carries them out in order: persist first, then announce.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.model import Channel, Presence


@dataclass(frozen=True, slots=True)
class OfferInteraction:
    interaction_id: int
    agent_id: int
    expires_at: datetime
    timeout_s: float


@dataclass(frozen=True, slots=True)
class WithdrawOffer:
    """Take an offer back; with ``requeue`` the interaction is waiting again (no offer left)."""

    interaction_id: int
    agent_id: int
    reason: str  # declined | expired | busy | no_answer | agent_away | agent_offline | capacity
    # | taken | abandoned
    requeue: bool = True


@dataclass(frozen=True, slots=True)
class AssignInteraction:
    interaction_id: int
    agent_id: int


@dataclass(frozen=True, slots=True)
class StartWrapUp:
    interaction_id: int
    agent_id: int
    until: datetime
    closed_by: str  # agent | customer


@dataclass(frozen=True, slots=True)
class EndInteraction:
    interaction_id: int
    agent_id: int


@dataclass(frozen=True, slots=True)
class AbandonInteraction:
    interaction_id: int
    offered_to: int | None


@dataclass(frozen=True, slots=True)
class AnnouncePosition:
    interaction_id: int
    position: int
    estimated_wait_s: float | None = None


@dataclass(frozen=True, slots=True)
class ReportAgentState:
    agent_id: int
    state: Presence
    load: Mapping[Channel, int]
    capacity: Mapping[Channel, int]
    state_since: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SetAgentAway:
    """The engine set an agent away (e.g. after too many missed offers); persist and tell them."""

    agent_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class MoveInteraction:
    """A waiting interaction now waits in another queue (escalation or overflow)."""

    interaction_id: int
    queue: str
    reason: str


@dataclass(frozen=True, slots=True)
class MaxWaitReached:
    """A queue's maximum wait passed with an action the engine cannot take itself
    (voicemail, callback offer)."""

    interaction_id: int
    action: str


@dataclass(frozen=True, slots=True)
class TransferInteraction:
    """An assigned interaction goes back to waiting in ``queue`` (for ``to_agent`` first)."""

    interaction_id: int
    from_agent: int
    queue: str
    to_agent: int | None


Command = (
    OfferInteraction
    | WithdrawOffer
    | AssignInteraction
    | StartWrapUp
    | EndInteraction
    | AbandonInteraction
    | AnnouncePosition
    | ReportAgentState
    | SetAgentAway
    | MoveInteraction
    | MaxWaitReached
    | TransferInteraction
)
