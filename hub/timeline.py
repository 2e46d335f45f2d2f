"""An interaction's timeline, read from its stored steps (pure): the facts that both the
wallboard's day (``hub.daybook``) and the historical reports (``hub.history``) count, so the
two can never disagree on what a step means.

Theory of operation
-------------------
``walk`` reads the steps of one interaction in order and says, each with its time:

- *entered*: a ``queued`` step (the interaction was offered to its queue);
- *waits*: from a ``queued`` (or ``transferred*``) step until ``assigned`` or ``abandoned``;
  an expired or declined offer does not end the wait;
- *answers*: an ``assigned`` step that ends a wait; its wait is counted from when the
  interaction was *first* queued (a transfer keeps its age, as the router does);
- *abandoned*: an ``abandoned`` step;
- *missed*: an offer that expired or rang out on an agent;
- *closed*: a ``closed_by_*`` step, the start of wrap-up, by the agent holding it;
- *held*: an agent holding it, from ``assigned`` to ``ended``, a transfer or abandonment
  (wrap-up included: what occupancy counts);
- *handling*: an agent working it, from ``assigned`` to the start of wrap-up, or to a transfer
  or ``ended`` when there was no wrap-up (what handle time counts);
- *wrap_ups*: from the start of wrap-up (``closed_by_*``) to ``ended``;
- *transfers*: a ``transferred`` or ``transferred_to_agent`` step, by the agent who had it;
- *ended*: an ``ended`` step.

A span still open at the last step has ``end=None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from hub.model import Step

ENTRY_STEPS = frozenset({"queued", "transferred", "transferred_to_agent"})
TRANSFER_STEPS = frozenset({"transferred", "transferred_to_agent"})
MISSED_STEPS = frozenset({"expired", "no_answer", "offer_expired", "offer_no_answer"})
RELEASE_STEPS = frozenset({"ended", "transferred", "transferred_to_agent", "abandoned"})
CLOSED_PREFIX = "closed_by_"


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of an interaction's life (``end`` None: still going)."""

    begin: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class AgentSpan:
    agent_id: int
    begin: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class Answer:
    at: datetime
    agent_id: int | None
    wait_s: float


@dataclass(frozen=True, slots=True)
class Mark:
    """Something that happened at one moment, by an agent or not."""

    at: datetime
    agent_id: int | None = None


@dataclass(slots=True)
class Timeline:
    entered: list[datetime] = field(default_factory=list)
    waits: list[Span] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    abandoned: list[datetime] = field(default_factory=list)
    missed: list[Mark] = field(default_factory=list)
    closed: list[Mark] = field(default_factory=list)
    held: list[AgentSpan] = field(default_factory=list)
    handling: list[AgentSpan] = field(default_factory=list)
    wrap_ups: list[AgentSpan] = field(default_factory=list)
    transfers: list[Mark] = field(default_factory=list)
    ended: list[Mark] = field(default_factory=list)


def walk(steps: Iterable[Step]) -> Timeline:
    """The facts of one interaction's steps (given oldest first)."""
    line = Timeline()
    waiting_since: datetime | None = None
    first_queued: datetime | None = None
    holder: tuple[int, datetime] | None = None  # who holds it, since when
    working: tuple[int, datetime] | None = None  # who works it (before wrap-up), since when
    wrapping: tuple[int, datetime] | None = None

    def release(at: datetime) -> None:
        nonlocal holder, working
        if holder is not None:
            line.held.append(AgentSpan(holder[0], holder[1], at))
            holder = None
        if working is not None:
            line.handling.append(AgentSpan(working[0], working[1], at))
            working = None

    for s in steps:
        if s.step in ENTRY_STEPS:
            if s.step in TRANSFER_STEPS:
                line.transfers.append(Mark(s.at, s.agent_id))
            release(s.at)
            waiting_since = waiting_since or s.at
            first_queued = first_queued or s.at
            if s.step == "queued":
                line.entered.append(s.at)
        elif s.step == "assigned":
            if waiting_since is not None:
                line.waits.append(Span(waiting_since, s.at))
                wait_s = (s.at - (first_queued or waiting_since)).total_seconds()
                line.answers.append(Answer(s.at, s.agent_id, wait_s))
            waiting_since = None
            if s.agent_id is not None:
                holder = working = (s.agent_id, s.at)
        elif s.step == "abandoned":
            if waiting_since is not None:
                line.waits.append(Span(waiting_since, s.at))
            waiting_since = None
            line.abandoned.append(s.at)
        elif s.step in MISSED_STEPS and s.agent_id is not None:
            line.missed.append(Mark(s.at, s.agent_id))
        elif s.step.startswith(CLOSED_PREFIX) and s.agent_id is not None:
            line.closed.append(Mark(s.at, s.agent_id))
            if working is not None:
                line.handling.append(AgentSpan(working[0], working[1], s.at))
                working = None
            wrapping = (s.agent_id, s.at)
        if s.step == "ended":
            line.ended.append(Mark(s.at, s.agent_id))
            if wrapping is not None:
                line.wrap_ups.append(AgentSpan(wrapping[0], wrapping[1], s.at))
            wrapping = None
        if s.step in RELEASE_STEPS:
            release(s.at)
    if waiting_since is not None:
        line.waits.append(Span(waiting_since, None))
    if holder is not None:
        line.held.append(AgentSpan(holder[0], holder[1], None))
    if working is not None:
        line.handling.append(AgentSpan(working[0], working[1], None))
    return line
