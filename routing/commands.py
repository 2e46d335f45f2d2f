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
    """Take an offer back and put the interaction back in its queue."""

    interaction_id: int
    agent_id: int
    reason: str  # declined | expired | agent_away | agent_offline | capacity


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


@dataclass(frozen=True, slots=True)
class ReportAgentState:
    agent_id: int
    state: Presence
    load: Mapping[Channel, int]
    capacity: Mapping[Channel, int]
    state_since: datetime | None = None


Command = (
    OfferInteraction
    | WithdrawOffer
    | AssignInteraction
    | StartWrapUp
    | EndInteraction
    | AbandonInteraction
    | AnnouncePosition
    | ReportAgentState
)
