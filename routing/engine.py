"""The routing engine: a pure, synchronous state machine (no I/O, no clock, no asyncio).

Theory of operation
-------------------
``Engine.handle(event, now)`` validates the event against the current state, applies it,
runs one routing step, and returns the commands the runner must carry out, in order. An
illegal event raises a ``HubError`` and leaves the state exactly as it was.

Invariants kept after every ``handle``:

- every interaction the engine knows is in exactly one place: waiting (unoffered), offered
  to one agent, or held by one agent (assigned or in wrap-up);
- an agent's load on a channel (offers + held interactions) never exceeds their capacity;
- work-conserving: no available agent with free capacity on a channel is left idle while an
  interaction on that channel waits unoffered, unless that agent declined it;
- waiting interactions are taken by priority (highest first), then age, then id;
- the agent chosen is the longest idle (time since they became available or got their last
  offer), so offers rotate fairly; the agent who last let an interaction go (expired, away)
  is tried for it only when nobody else can take it.

Time only comes in as ``now``; the runner calls ``handle(Tick(), now)`` when
``next_deadline()`` passes, and before every other event so that expiry is never late.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.errors import IllegalTransition, InvalidInput, NotFound
from hub.model import Channel, Presence, Queue
from routing.commands import (
    AbandonInteraction,
    AnnouncePosition,
    AssignInteraction,
    Command,
    EndInteraction,
    OfferInteraction,
    ReportAgentState,
    StartWrapUp,
    WithdrawOffer,
)
from routing.events import (
    AgentClosed,
    AgentStateChanged,
    CustomerLeft,
    Event,
    InteractionHeld,
    InteractionQueued,
    OfferAccepted,
    OfferDeclined,
    Tick,
    WrapUpFinished,
)


@dataclass(slots=True)
class _Waiting:
    interaction_id: int
    queue: str
    channel: Channel
    priority: int
    queued_at: datetime
    declined_by: set[int] = field(default_factory=set)
    offered_to: int | None = None
    offer_expires_at: datetime | None = None
    last_offered_to: int | None = None

    def order_key(self) -> tuple[int, datetime, int]:
        return (-self.priority, self.queued_at, self.interaction_id)


@dataclass(slots=True)
class _Held:
    interaction_id: int
    agent_id: int
    queue: str
    channel: Channel
    wrap_up_until: datetime | None = None


@dataclass(slots=True)
class _Agent:
    agent_id: int
    state: Presence
    state_since: datetime
    idle_since: datetime
    capacity: dict[Channel, int]
    offers: set[int] = field(default_factory=set)
    held: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class QueueStats:
    name: str
    waiting: int
    offered: int
    assigned: int
    oldest_queued_at: datetime | None


@dataclass(frozen=True, slots=True)
class AgentStats:
    agent_id: int
    state: Presence
    state_since: datetime
    load: Mapping[Channel, int]
    capacity: Mapping[Channel, int]


class Engine:
    def __init__(self, queues: Mapping[str, Queue]) -> None:
        self._queues = dict(queues)
        self._waiting: dict[int, _Waiting] = {}
        self._held: dict[int, _Held] = {}
        self._agents: dict[int, _Agent] = {}
        self._positions: dict[int, int] = {}
        self._reported: dict[int, tuple[object, ...]] = {}

    # ------------------------------------------------------------------ entry point
    def handle(self, event: Event, now: datetime) -> list[Command]:
        out: list[Command] = []
        match event:
            case Tick():
                self._on_tick(now, out)
            case InteractionQueued():
                self._on_queued(event, out)
            case InteractionHeld():
                self._on_held(event, out)
            case AgentStateChanged():
                self._on_agent_state(event, now, out)
            case OfferAccepted():
                self._on_accepted(event, now, out)
            case OfferDeclined():
                self._on_declined(event, out)
            case AgentClosed():
                self._on_agent_closed(event, now, out)
            case CustomerLeft():
                self._on_customer_left(event, now, out)
            case WrapUpFinished():
                self._on_wrap_up_finished(event, out)
            case _:
                raise InvalidInput(f"unknown routing event {event!r}")
        self._dispatch(now, out)
        self._announce_positions(out)
        self._report_agents(out)
        return out

    def next_deadline(self) -> datetime | None:
        """The earliest time at which a ``Tick`` would change something."""
        times = [w.offer_expires_at for w in self._waiting.values() if w.offer_expires_at]
        times += [h.wrap_up_until for h in self._held.values() if h.wrap_up_until]
        return min(times, default=None)

    # ------------------------------------------------------------------ queries
    def queue_stats(self) -> list[QueueStats]:
        stats = []
        for name in self._queues:
            waiting = [w for w in self._waiting.values() if w.queue == name]
            stats.append(
                QueueStats(
                    name=name,
                    waiting=len(waiting),
                    offered=sum(1 for w in waiting if w.offered_to is not None),
                    assigned=sum(1 for h in self._held.values() if h.queue == name),
                    oldest_queued_at=min((w.queued_at for w in waiting), default=None),
                )
            )
        return stats

    def agent_stats(self) -> list[AgentStats]:
        return [
            AgentStats(a.agent_id, a.state, a.state_since, self._load(a), dict(a.capacity))
            for a in self._agents.values()
        ]

    def agent(self, agent_id: int) -> AgentStats | None:
        a = self._agents.get(agent_id)
        if a is None:
            return None
        return AgentStats(a.agent_id, a.state, a.state_since, self._load(a), dict(a.capacity))

    def offers_for(self, agent_id: int) -> list[tuple[int, datetime]]:
        """(interaction_id, expires_at) of the offers an agent holds now."""
        a = self._agents.get(agent_id)
        if a is None:
            return []
        return sorted(
            (iid, exp)
            for iid in a.offers
            if (exp := self._waiting[iid].offer_expires_at) is not None
        )

    def position(self, interaction_id: int) -> int | None:
        return self._positions.get(interaction_id)

    def queue(self, name: str) -> Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise NotFound(f"no queue named {name!r}") from None

    # ------------------------------------------------------------------ events
    def _on_tick(self, now: datetime, out: list[Command]) -> None:
        for w in sorted(self._waiting.values(), key=_Waiting.order_key):
            if w.offered_to is not None and w.offer_expires_at and w.offer_expires_at <= now:
                agent = self._agents[w.offered_to]
                self._withdraw(w, "expired", out)
                agent.idle_since = now  # to the back of the line
        for h in sorted(self._held.values(), key=lambda h: h.interaction_id):
            if h.wrap_up_until is not None and h.wrap_up_until <= now:
                self._end(h, out)

    def _on_queued(self, e: InteractionQueued, out: list[Command]) -> None:
        if e.queue not in self._queues:
            raise InvalidInput(f"no queue named {e.queue!r}")
        if e.channel not in self._queues[e.queue].channels:
            raise InvalidInput(f"queue {e.queue!r} does not take {e.channel.value} contacts")
        if e.interaction_id in self._waiting or e.interaction_id in self._held:
            raise IllegalTransition(f"interaction {e.interaction_id} is already routed")
        self._waiting[e.interaction_id] = _Waiting(
            e.interaction_id, e.queue, e.channel, e.priority, e.queued_at
        )

    def _on_held(self, e: InteractionHeld, out: list[Command]) -> None:
        if e.queue not in self._queues:
            raise InvalidInput(f"no queue named {e.queue!r}")
        if e.interaction_id in self._waiting or e.interaction_id in self._held:
            raise IllegalTransition(f"interaction {e.interaction_id} is already routed")
        agent = self._agents.get(e.agent_id)
        if agent is None:
            raise NotFound(f"agent {e.agent_id} is not known to the router")
        self._held[e.interaction_id] = _Held(
            e.interaction_id, e.agent_id, e.queue, e.channel, e.wrap_up_until
        )
        agent.held.add(e.interaction_id)

    def _on_agent_state(self, e: AgentStateChanged, now: datetime, out: list[Command]) -> None:
        agent = self._agents.get(e.agent_id)
        if agent is None:
            agent = _Agent(e.agent_id, e.state, now, now, dict(e.capacity))
            self._agents[e.agent_id] = agent
        else:
            if e.capacity:
                agent.capacity = dict(e.capacity)
                self._shed_excess_offers(agent, out)
            if agent.state != e.state:
                agent.state = e.state
                agent.state_since = now
                if e.state is Presence.AVAILABLE:
                    agent.idle_since = now
        if agent.state is not Presence.AVAILABLE:
            reason = "agent_away" if agent.state is Presence.AWAY else "agent_offline"
            for iid in sorted(agent.offers):
                self._withdraw(self._waiting[iid], reason, out)

    def _shed_excess_offers(self, agent: _Agent, out: list[Command]) -> None:
        """After a capacity cut, take back the newest offers above the new limit."""
        load = self._load(agent)
        newest_first = sorted(
            (self._waiting[iid] for iid in agent.offers),
            key=lambda w: (w.offer_expires_at, w.interaction_id),
            reverse=True,
        )
        for w in newest_first:
            if load.get(w.channel, 0) > agent.capacity.get(w.channel, 0):
                load[w.channel] -= 1
                self._withdraw(w, "capacity", out)

    def _offer_of(self, interaction_id: int, agent_id: int) -> _Waiting:
        w = self._waiting.get(interaction_id)
        if w is None or w.offered_to != agent_id:
            if interaction_id in self._held:
                raise IllegalTransition(f"interaction {interaction_id} has already been taken")
            raise IllegalTransition(
                f"interaction {interaction_id} is not offered to agent {agent_id}"
            )
        return w

    def _on_accepted(self, e: OfferAccepted, now: datetime, out: list[Command]) -> None:
        w = self._offer_of(e.interaction_id, e.agent_id)
        if w.offer_expires_at is not None and w.offer_expires_at <= now:
            raise IllegalTransition(f"the offer of interaction {e.interaction_id} has expired")
        agent = self._agents[e.agent_id]
        del self._waiting[w.interaction_id]
        self._positions.pop(w.interaction_id, None)
        agent.offers.discard(w.interaction_id)
        agent.held.add(w.interaction_id)
        self._held[w.interaction_id] = _Held(w.interaction_id, e.agent_id, w.queue, w.channel)
        out.append(AssignInteraction(w.interaction_id, e.agent_id))

    def _on_declined(self, e: OfferDeclined, out: list[Command]) -> None:
        w = self._offer_of(e.interaction_id, e.agent_id)
        w.declined_by.add(e.agent_id)
        self._withdraw(w, "declined", out)

    def _held_by(self, interaction_id: int, agent_id: int | None) -> _Held:
        h = self._held.get(interaction_id)
        if h is None or (agent_id is not None and h.agent_id != agent_id):
            raise IllegalTransition(f"interaction {interaction_id} is not held by this agent")
        return h

    def _on_agent_closed(self, e: AgentClosed, now: datetime, out: list[Command]) -> None:
        h = self._held_by(e.interaction_id, e.agent_id)
        if h.wrap_up_until is not None:
            raise IllegalTransition(f"interaction {e.interaction_id} is already closed")
        self._start_wrap_up(h, now, "agent", out)

    def _on_customer_left(self, e: CustomerLeft, now: datetime, out: list[Command]) -> None:
        w = self._waiting.get(e.interaction_id)
        if w is not None:
            offered_to = w.offered_to
            if offered_to is not None:
                self._agents[offered_to].offers.discard(w.interaction_id)
            del self._waiting[w.interaction_id]
            self._positions.pop(w.interaction_id, None)
            out.append(AbandonInteraction(w.interaction_id, offered_to))
            return
        h = self._held_by(e.interaction_id, None)
        if h.wrap_up_until is not None:
            raise IllegalTransition(f"interaction {e.interaction_id} is already closed")
        self._start_wrap_up(h, now, "customer", out)

    def _on_wrap_up_finished(self, e: WrapUpFinished, out: list[Command]) -> None:
        h = self._held_by(e.interaction_id, e.agent_id)
        if h.wrap_up_until is None:
            raise IllegalTransition(f"interaction {e.interaction_id} is not in wrap-up")
        self._end(h, out)

    # ------------------------------------------------------------------ mechanics
    def _start_wrap_up(self, h: _Held, now: datetime, by: str, out: list[Command]) -> None:
        until = now + timedelta(seconds=self._queues[h.queue].wrap_up_s)
        h.wrap_up_until = until
        out.append(StartWrapUp(h.interaction_id, h.agent_id, until, by))
        if until <= now:
            self._end(h, out)

    def _end(self, h: _Held, out: list[Command]) -> None:
        del self._held[h.interaction_id]
        self._agents[h.agent_id].held.discard(h.interaction_id)
        out.append(EndInteraction(h.interaction_id, h.agent_id))

    def _withdraw(self, w: _Waiting, reason: str, out: list[Command]) -> None:
        assert w.offered_to is not None
        agent_id = w.offered_to
        self._agents[agent_id].offers.discard(w.interaction_id)
        w.last_offered_to = agent_id
        w.offered_to = None
        w.offer_expires_at = None
        out.append(WithdrawOffer(w.interaction_id, agent_id, reason))

    def _load(self, agent: _Agent) -> dict[Channel, int]:
        load: dict[Channel, int] = dict.fromkeys(agent.capacity, 0)
        for iid in agent.offers:
            ch = self._waiting[iid].channel
            load[ch] = load.get(ch, 0) + 1
        for iid in agent.held:
            ch = self._held[iid].channel
            load[ch] = load.get(ch, 0) + 1
        return load

    def _pick_agent(self, w: _Waiting) -> _Agent | None:
        best: _Agent | None = None
        for agent in self._agents.values():
            if agent.state is not Presence.AVAILABLE or agent.agent_id in w.declined_by:
                continue
            if self._load(agent).get(w.channel, 0) >= agent.capacity.get(w.channel, 0):
                continue
            # The agent who just let it go comes last, whoever has idled longest.
            if best is None or self._rank(agent, w) < self._rank(best, w):
                best = agent
        return best

    @staticmethod
    def _rank(agent: _Agent, w: _Waiting) -> tuple[bool, datetime, int]:
        return (agent.agent_id == w.last_offered_to, agent.idle_since, agent.agent_id)

    def _dispatch(self, now: datetime, out: list[Command]) -> None:
        for w in sorted(self._waiting.values(), key=_Waiting.order_key):
            if w.offered_to is not None:
                continue
            agent = self._pick_agent(w)
            if agent is None:
                continue
            timeout_s = self._queues[w.queue].offer_timeout_s
            w.offered_to = agent.agent_id
            w.offer_expires_at = now + timedelta(seconds=timeout_s)
            agent.offers.add(w.interaction_id)
            agent.idle_since = now
            out.append(
                OfferInteraction(w.interaction_id, agent.agent_id, w.offer_expires_at, timeout_s)
            )

    def _announce_positions(self, out: list[Command]) -> None:
        by_queue: dict[str, list[_Waiting]] = {}
        for w in self._waiting.values():
            by_queue.setdefault(w.queue, []).append(w)
        for waiting in by_queue.values():
            for position, w in enumerate(sorted(waiting, key=_Waiting.order_key), start=1):
                if self._positions.get(w.interaction_id) != position:
                    self._positions[w.interaction_id] = position
                    out.append(AnnouncePosition(w.interaction_id, position))

    def _report_agents(self, out: list[Command]) -> None:
        for agent in self._agents.values():
            load = self._load(agent)
            seen = (
                agent.state,
                tuple(sorted(load.items())),
                tuple(sorted(agent.capacity.items())),
            )
            if self._reported.get(agent.agent_id) != seen:
                self._reported[agent.agent_id] = seen
                out.append(
                    ReportAgentState(
                        agent.agent_id,
                        agent.state,
                        load,
                        dict(agent.capacity),
                        state_since=agent.state_since,
                    )
                )
