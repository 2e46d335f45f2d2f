"""The routing engine: a pure, synchronous automatic call distributor (no I/O, no clock).

Theory of operation
-------------------
``Engine.handle(event, now)`` validates the event against the current state, applies it,
runs one routing step, and returns the commands the runner must carry out, in order. An
illegal event raises a ``HubError`` and leaves the state exactly as it was. Time only comes
in as ``now``; the runner calls ``handle(Tick(), now)`` when ``next_deadline()`` passes and
before every other event, so that nothing is ever late.

Invariants kept after every ``handle``:

- every interaction the engine knows is in exactly one place: waiting (with zero or more
  offers; several only under ``ring_all``) or held by one agent (assigned or in wrap-up);
- an agent's load on a channel (offers + held interactions) never exceeds their capacity,
  and the cross-channel rule holds (a voice call is exclusive; no call while holding chats
  or emails unless the policy allows it);
- work-conserving: no ready agent (available, out of any post-decline/no-answer delay) who
  is eligible for an unoffered waiting interaction (free capacity on its channel, skills
  that satisfy its queue and current target, not having declined it, not excluded by a
  sticky window) is left without an offer after a routing step;
- waiting interactions are taken by priority (highest first), then age, then id;
- an interaction is assigned at most once; an accept for an offer that expired, was
  withdrawn or was won by another agent is refused;
- one customer is never in the queue twice on one channel: a second interaction of theirs
  (``customer_id`` attribute) *follows* the one waiting (it is counted by neither the
  queue nor its positions) until that one is assigned, then waits in its own right with
  the same agent preferred for the sticky window, or takes its place if it is abandoned.

How agents are chosen. Agents are grouped into *pools*, one per (queue, skill requirement,
channel); an agent belongs to a pool when their skills satisfy the queue's ``requires`` and
the target's ``requires``. Each pool keeps its *ready* members in a sorted list whose order
is the queue's strategy (``longest_idle``, ``round_robin``, ``least_occupied``,
``most_skilled``, ``random``, ``ring_all``), so a decision costs a logarithmic update, not a
scan of all agents. Deadlines (offer expiry, wrap-up end, delays, escalation, sticky windows,
maximum waits) sit in one heap; stale heap entries are skipped when they surface.

Rules decide, when an interaction is queued, its list of targets; when a target's timeout
passes with no agent taking it, the interaction escalates to the next target (keeping its
age), and to another queue if the target names one.
"""

from __future__ import annotations

import heapq
import random as random_module
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sortedcontainers import SortedList

from hub.errors import IllegalTransition, InvalidInput, NotFound
from hub.model import Channel, Presence, Queue
from routing.commands import (
    AbandonInteraction,
    AnnouncePosition,
    AssignInteraction,
    Command,
    EndInteraction,
    MaxWaitReached,
    MoveInteraction,
    OfferInteraction,
    ReportAgentState,
    SetAgentAway,
    StartWrapUp,
    TransferInteraction,
    WithdrawOffer,
)
from routing.events import (
    AgentClosed,
    AgentStateChanged,
    CustomerLeft,
    Event,
    InteractionHeld,
    InteractionQueued,
    InteractionTransferred,
    OfferAccepted,
    OfferDeclined,
    OfferUnreachable,
    Tick,
    WrapUpFinished,
)
from routing.expressions import Expression, parse
from routing.rules import Rule, Target, first_match

STRATEGIES = frozenset(
    {"longest_idle", "round_robin", "least_occupied", "most_skilled", "ring_all", "random"}
)
MISSED_OFFERS = "missed_offers"
ANYONE = parse("true", missing=0)  # the requirement every agent meets
ANSWER_HISTORY = 20


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """Engine-wide rules (from the ``routing:`` section of the config)."""

    voice_exclusive: bool = True
    voice_while_holding: bool = False
    decline_delay_s: float = 0.0
    no_answer_delay_s: float = 0.0
    busy_delay_s: float = 0.0
    missed_offers_before_away: int = 0  # 0: never set an agent away for missing offers
    sticky_s: float = 0.0
    # Longer (or shorter) windows on some channels: an email can wait an hour for the agent
    # who knows the thread, a chat only seconds.
    sticky_by_channel: Mapping[Channel, float] = field(default_factory=dict)

    def sticky_for(self, channel: Channel) -> float:
        return self.sticky_by_channel.get(channel, self.sticky_s)

    transfer_priority_boost: int = 1


@dataclass(slots=True)
class _Waiting:
    interaction_id: int
    channel: Channel
    base_priority: int
    queued_at: datetime
    targets: tuple[Target, ...]
    rule_boost: int = 0
    target_index: int = 0
    target_since: datetime | None = None
    declined_by: set[int] = field(default_factory=set)
    offers: dict[int, datetime] = field(default_factory=dict)
    last_offered_to: int | None = None
    sticky_agent: int | None = None
    sticky_until: datetime | None = None
    only_agent: int | None = None  # a transfer to a named agent: offered to them alone
    max_wait_at: datetime | None = None  # armed for the queue it waits in now
    max_wait_queue: str | None = None
    max_wait_acted: bool = False  # a callback/voicemail action is taken once per wait
    customer_key: tuple[object, Channel] | None = None  # (customer_id, channel)

    @property
    def target(self) -> Target:
        return self.targets[self.target_index]

    @property
    def queue(self) -> str:
        return self.target.queue

    @property
    def priority(self) -> int:
        return self.base_priority + self.rule_boost + self.target.priority_boost

    def order_key(self) -> tuple[int, datetime, int]:
        return (-self.priority, self.queued_at, self.interaction_id)


@dataclass(slots=True)
class _Held:
    interaction_id: int
    agent_id: int
    queue: str
    channel: Channel
    queued_at: datetime
    priority: int
    wrap_up_until: datetime | None = None


@dataclass(slots=True)
class _Agent:
    agent_id: int
    state: Presence
    state_since: datetime
    idle_since: datetime
    capacity: dict[Channel, int]
    skills: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    offers: set[int] = field(default_factory=set)
    held: set[int] = field(default_factory=set)
    load: dict[Channel, int] = field(default_factory=dict)
    ready_at: datetime | None = None
    missed: int = 0
    pools: set[tuple[str, str, Channel]] = field(default_factory=set)
    entries: dict[tuple[str, str, Channel], tuple[Any, ...]] = field(default_factory=dict)


class _Pool:
    """The agents who can serve one (queue, requirement, channel), ready ones in strategy order."""

    def __init__(
        self, queue: Queue, requires: Expression, channel: Channel, queue_requires: Expression
    ) -> None:
        self.queue = queue
        self.requires = requires
        # most_skilled ranks by the skills both the queue and the target ask for.
        self.scored = requires.names | queue_requires.names
        self.channel = channel
        self.strategy = queue.strategy
        self.members: set[int] = set()
        self.ready: SortedList = SortedList()
        self.rr_last = -1

    def score(self, agent: _Agent) -> int:
        return sum(agent.skills.get(name, 0) for name in self.scored)

    def key(self, agent: _Agent) -> tuple[Any, ...]:
        if self.strategy == "most_skilled":
            return (-self.score(agent), agent.idle_since, agent.agent_id)
        if self.strategy == "least_occupied":
            cap = sum(agent.capacity.values()) or 1
            return (sum(agent.load.values()) / cap, agent.idle_since, agent.agent_id)
        if self.strategy in ("round_robin", "random"):
            return (agent.agent_id,)
        return (agent.idle_since, agent.agent_id)


@dataclass(frozen=True, slots=True)
class QueueStats:
    name: str
    waiting: int
    offered: int
    assigned: int
    oldest_queued_at: datetime | None
    entered_today: int = 0
    answered_today: int = 0
    abandoned_today: int = 0
    answered_within_sla_today: int = 0
    service_level_today: float | None = None
    asa_today_s: float | None = None


@dataclass(frozen=True, slots=True)
class AgentStats:
    agent_id: int
    state: Presence
    state_since: datetime
    load: Mapping[Channel, int]
    capacity: Mapping[Channel, int]
    reason: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Day:
    """Today's counters for one queue (the engine's ``day_zone`` day), kept incrementally."""

    day: Any = None
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    within_sla: int = 0
    answer_wait_s: float = 0.0
    answers: deque[datetime] = field(default_factory=lambda: deque(maxlen=ANSWER_HISTORY))

    def roll(self, now: datetime, zone: tzinfo = UTC) -> None:
        today = now.astimezone(zone).date()
        if self.day != today:
            self.day = today
            self.entered = self.answered = self.abandoned = self.within_sla = 0
            self.answer_wait_s = 0.0


class Engine:
    def __init__(
        self,
        queues: Mapping[str, Queue],
        *,
        rules: Sequence[Rule] = (),
        policy: RoutingPolicy | None = None,
        rng: random_module.Random | None = None,
        day_zone: tzinfo = UTC,
    ) -> None:
        self._queues = dict(queues)
        self._day_zone = day_zone  # "today" starts at midnight here
        for q in self._queues.values():
            if q.strategy not in STRATEGIES:
                raise InvalidInput(f"queue {q.name!r}: unknown strategy {q.strategy!r}")
        self._queue_requires = {
            name: parse(q.requires, missing=0) for name, q in self._queues.items()
        }
        self._rules = tuple(rules)
        self._policy = policy or RoutingPolicy()
        self._rng = rng or random_module.Random(0)  # noqa: S311 (routing, not security)
        self._waiting: dict[int, _Waiting] = {}
        self._order: SortedList = SortedList()  # (order_key, iid) of every waiting interaction
        self._by_queue: dict[str, SortedList] = {name: SortedList() for name in self._queues}
        self._held: dict[int, _Held] = {}
        self._agents: dict[int, _Agent] = {}
        self._pools: dict[tuple[str, str, Channel], _Pool] = {}
        self._deadlines: list[tuple[datetime, int, str, int, int]] = []
        self._seq = 0
        self._positions: dict[int, int] = {}
        # One customer, one channel, one place in the queue: the waiting one leads, the
        # others follow it (in arrival order) outside the queue.
        self._customer_leader: dict[tuple[object, Channel], int] = {}
        self._followers: dict[int, list[_Waiting]] = {}
        self._following: dict[int, int] = {}  # follower -> leader
        self._reported: dict[int, tuple[object, ...]] = {}
        self._fresh: list[int] = []
        self._pending_refresh: set[int] = set()
        self._dirty = False
        self._touched_queues: set[str] = set()
        self._touched_agents: set[int] = set()
        self._days: dict[str, _Day] = {name: _Day() for name in self._queues}

    # ------------------------------------------------------------------ entry point
    def handle(self, event: Event, now: datetime) -> list[Command]:
        out: list[Command] = []
        match event:
            case Tick():
                self._on_tick(now, out)
            case InteractionQueued():
                self._on_queued(event, now, out)
            case InteractionHeld():
                self._on_held(event, out)
            case AgentStateChanged():
                self._on_agent_state(event, now, out)
            case OfferAccepted():
                self._on_accepted(event, now, out)
            case OfferUnreachable():
                self._on_unreachable(event, now, out)
            case OfferDeclined():
                self._on_declined(event, now, out)
            case AgentClosed():
                self._on_agent_closed(event, now, out)
            case CustomerLeft():
                self._on_customer_left(event, now, out)
            case WrapUpFinished():
                self._on_wrap_up_finished(event, out)
            case InteractionTransferred():
                self._on_transferred(event, now, out)
            case _:
                raise InvalidInput(f"unknown routing event {event!r}")
        self._dispatch(now, out)
        self._announce_positions(out)
        self._report_agents(out)
        return out

    def next_deadline(self) -> datetime | None:
        """The earliest time at which a ``Tick`` could change something."""
        while self._deadlines and not self._deadline_live(self._deadlines[0]):
            heapq.heappop(self._deadlines)
        return self._deadlines[0][0] if self._deadlines else None

    # ------------------------------------------------------------------ queries
    def queue_stats(self, now: datetime | None = None) -> list[QueueStats]:
        stats = []
        for name, waiting in self._by_queue.items():
            day = self._days[name]
            if now is not None:
                day.roll(now, self._day_zone)
            offered = sum(1 for _, iid in waiting if self._waiting[iid].offers)
            oldest = min((self._waiting[iid].queued_at for _, iid in waiting), default=None)
            stats.append(
                QueueStats(
                    name=name,
                    waiting=len(waiting),
                    offered=offered,
                    assigned=sum(1 for h in self._held.values() if h.queue == name),
                    oldest_queued_at=oldest,
                    entered_today=day.entered,
                    answered_today=day.answered,
                    abandoned_today=day.abandoned,
                    answered_within_sla_today=day.within_sla,
                    service_level_today=(
                        day.within_sla / (day.answered + day.abandoned)
                        if day.answered + day.abandoned
                        else None
                    ),
                    asa_today_s=day.answer_wait_s / day.answered if day.answered else None,
                )
            )
        return stats

    def restore_day(
        self,
        queue: str,
        now: datetime,
        *,
        entered: int,
        answered: int,
        abandoned: int,
        within_sla: int,
        answer_wait_s: float,
    ) -> None:
        """Today's counters of a queue as the store has them (after a restart they would
        otherwise start from zero)."""
        day = self._days[queue]
        day.roll(now, self._day_zone)
        day.entered, day.answered, day.abandoned = entered, answered, abandoned
        day.within_sla, day.answer_wait_s = within_sla, answer_wait_s

    def agent_stats(self) -> list[AgentStats]:
        return [self._agent_stats(a) for a in self._agents.values()]

    def agent(self, agent_id: int) -> AgentStats | None:
        a = self._agents.get(agent_id)
        return None if a is None else self._agent_stats(a)

    def _agent_stats(self, a: _Agent) -> AgentStats:
        return AgentStats(
            a.agent_id,
            a.state,
            a.state_since,
            dict(a.load),
            dict(a.capacity),
            a.reason,
            dict(a.skills),
        )

    def offers_for(self, agent_id: int) -> list[tuple[int, datetime]]:
        """(interaction_id, expires_at) of the offers an agent holds now."""
        a = self._agents.get(agent_id)
        if a is None:
            return []
        return sorted((iid, self._waiting[iid].offers[agent_id]) for iid in a.offers)

    def position(self, interaction_id: int) -> int | None:
        return self._positions.get(interaction_id)

    def positions(self) -> dict[int, int]:
        """The place in its queue of every waiting interaction, by interaction_id."""
        return dict(self._positions)

    def estimated_wait_s(self, interaction_id: int) -> float | None:
        """Position times the recent time between answers in the queue; None without history."""
        w = self._waiting.get(interaction_id)
        position = self._positions.get(interaction_id)
        if w is None or position is None:
            return None
        answers = self._days[w.queue].answers
        if len(answers) < 2:
            return None
        gap = (answers[-1] - answers[0]).total_seconds() / (len(answers) - 1)
        return round(position * gap, 1)

    def replace_rules(self, rules: Sequence[Rule]) -> None:
        """Rules for interactions queued from now on; waiting ones keep their targets."""
        self._rules = tuple(rules)

    def queue(self, name: str) -> Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise NotFound(f"no queue named {name!r}") from None

    def routed_queue(self, interaction_id: int) -> str | None:
        """The queue an interaction is in now (after rules, escalation, overflow)."""
        w = self._waiting.get(interaction_id)
        if w is not None:
            return w.queue
        leader = self._following.get(interaction_id)
        if leader is not None:
            f = next(f for f in self._followers[leader] if f.interaction_id == interaction_id)
            return f.queue
        h = self._held.get(interaction_id)
        return None if h is None else h.queue

    # ------------------------------------------------------------------ events
    def _on_tick(self, now: datetime, out: list[Command]) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            entry = heapq.heappop(self._deadlines)
            if self._deadline_live(entry):
                self._fire(entry, now, out)

    def _on_queued(self, e: InteractionQueued, now: datetime, out: list[Command]) -> None:
        queue = self._queues.get(e.queue)
        if queue is None:
            raise InvalidInput(f"no queue named {e.queue!r}")
        if e.channel not in queue.channels:
            raise InvalidInput(f"queue {e.queue!r} does not take {e.channel.value} contacts")
        if (
            e.interaction_id in self._waiting
            or e.interaction_id in self._held
            or e.interaction_id in self._following
        ):
            raise IllegalTransition(f"interaction {e.interaction_id} is already routed")
        attributes = {
            "channel": e.channel.value,
            "queue": e.queue,
            "priority": e.priority,
            **dict(e.attributes),
        }
        rule = first_match(self._rules, attributes)
        targets: tuple[Target, ...] = (Target(e.queue, ANYONE, None),)
        boost = 0
        if rule is not None:
            usable = tuple(t for t in rule.targets if e.channel in self._queues[t.queue].channels)
            if usable:
                targets, boost = usable, rule.priority_boost
        w = _Waiting(
            e.interaction_id, e.channel, e.priority, e.queued_at, targets, rule_boost=boost
        )
        if e.last_agent_id is not None:
            self._stick(w, e.last_agent_id, now, e.sticky_s)
        if w.queue != e.queue:
            out.append(
                MoveInteraction(w.interaction_id, w.queue, f"rule {rule.name}" if rule else "rule")
            )
        customer_id = e.attributes.get("customer_id")
        if customer_id is not None:
            w.customer_key = (customer_id, e.channel)
        day = self._days[w.queue]
        day.roll(now, self._day_zone)
        day.entered += 1
        leader = self._customer_leader.get(w.customer_key) if w.customer_key else None
        if leader is not None:
            self._followers.setdefault(leader, []).append(w)
            self._following[w.interaction_id] = leader
            return
        self._lead(w, now, out, since=e.queued_at)

    def _stick(
        self, w: _Waiting, agent_id: int, now: datetime, seconds: float | None = None
    ) -> None:
        """Offer ``w`` to this agent alone for ``seconds``, by default the policy's sticky
        window (none when it has none)."""
        if seconds is None:
            seconds = self._policy.sticky_for(w.channel)
        if seconds <= 0:
            return
        w.sticky_agent = agent_id
        w.sticky_until = now + timedelta(seconds=seconds)
        self._at(w.sticky_until, "sticky", w.interaction_id)

    def _lead(self, w: _Waiting, now: datetime, out: list[Command], since: datetime) -> None:
        """Queue ``w`` as its customer's one waiting interaction on its channel."""
        if w.customer_key is not None:
            self._customer_leader[w.customer_key] = w.interaction_id
        self._enter(w, now, out, since=since)

    def _release_followers(
        self, w: _Waiting, agent_id: int | None, now: datetime, out: list[Command]
    ) -> None:
        """``w`` left the queue (assigned to ``agent_id``, or abandoned): the next interaction
        of the same customer takes its place, preferring the agent who took ``w``."""
        if w.customer_key is not None and self._customer_leader.get(w.customer_key) == (
            w.interaction_id
        ):
            del self._customer_leader[w.customer_key]
        followers = self._followers.pop(w.interaction_id, [])
        if not followers:
            return
        nxt, rest = followers[0], followers[1:]
        del self._following[nxt.interaction_id]
        if agent_id is not None:
            self._stick(nxt, agent_id, now)
        if rest:
            self._followers[nxt.interaction_id] = rest
            for f in rest:
                self._following[f.interaction_id] = nxt.interaction_id
        self._lead(nxt, now, out, since=nxt.queued_at)

    def _enter(
        self, w: _Waiting, now: datetime, out: list[Command], since: datetime | None = None
    ) -> None:
        """Put an interaction in the waiting line at its current target; its maximum wait
        counts from ``since`` (when a new contact was queued) or from now (a transfer)."""
        w.target_since = now
        self._waiting[w.interaction_id] = w
        self._order.add((w.order_key(), w.interaction_id))
        self._by_queue[w.queue].add((w.order_key(), w.interaction_id))
        self._touched_queues.add(w.queue)
        self._fresh.append(w.interaction_id)
        self._arm_target(w)
        self._arm_max_wait(w, since or now)

    def _arm_max_wait(self, w: _Waiting, now: datetime) -> None:
        """A queue's maximum wait counts from when the interaction entered that queue."""
        queue = self._queues[w.queue]
        if queue.max_wait_s is None or w.max_wait_acted:
            w.max_wait_at = w.max_wait_queue = None
            return
        w.max_wait_at = now + timedelta(seconds=queue.max_wait_s)
        w.max_wait_queue = queue.name
        self._at(w.max_wait_at, "max_wait", w.interaction_id)

    def _leave(self, w: _Waiting) -> None:
        del self._waiting[w.interaction_id]
        self._order.discard((w.order_key(), w.interaction_id))
        self._by_queue[w.queue].discard((w.order_key(), w.interaction_id))
        self._positions.pop(w.interaction_id, None)
        self._touched_queues.add(w.queue)

    def _arm_target(self, w: _Waiting) -> None:
        timeout = w.target.timeout_s
        if timeout is not None and w.target_since is not None:
            self._at(
                w.target_since + timedelta(seconds=timeout),
                "escalate",
                w.interaction_id,
                w.target_index,
            )

    def _on_held(self, e: InteractionHeld, out: list[Command]) -> None:
        if e.queue not in self._queues:
            raise InvalidInput(f"no queue named {e.queue!r}")
        if e.interaction_id in self._waiting or e.interaction_id in self._held:
            raise IllegalTransition(f"interaction {e.interaction_id} is already routed")
        agent = self._agents.get(e.agent_id)
        if agent is None:
            raise NotFound(f"agent {e.agent_id} is not known to the router")
        h = _Held(
            e.interaction_id,
            e.agent_id,
            e.queue,
            e.channel,
            e.queued_at or _EPOCH,
            e.priority,
            e.wrap_up_until,
        )
        self._held[e.interaction_id] = h
        agent.held.add(e.interaction_id)
        self._add_load(agent, e.channel, 1)
        self._refresh_later(agent)  # the load may take them out of the ready lists
        if h.wrap_up_until is not None:
            self._at(h.wrap_up_until, "wrap_up", h.interaction_id)

    def _on_agent_state(self, e: AgentStateChanged, now: datetime, out: list[Command]) -> None:
        agent = self._agents.get(e.agent_id)
        if agent is None:
            agent = _Agent(e.agent_id, e.state, now, now, dict(e.capacity))
            agent.load = dict.fromkeys(agent.capacity, 0)
            agent.reason = e.reason
            if e.skills is not None:
                agent.skills = dict(e.skills)
            self._agents[e.agent_id] = agent
            self._join_pools(agent)
        else:
            if e.skills is not None and dict(e.skills) != agent.skills:
                agent.skills = dict(e.skills)
                self._join_pools(agent)
            if e.capacity:
                agent.capacity = dict(e.capacity)
                for ch in agent.capacity:
                    agent.load.setdefault(ch, 0)
                self._shed_excess_offers(agent, now, out)
            if agent.state != e.state or (e.state is Presence.AWAY and e.reason != agent.reason):
                if agent.state != e.state:
                    agent.state_since = now
                agent.state = e.state
                agent.reason = e.reason if e.state is Presence.AWAY else None
                if e.state is Presence.AVAILABLE:
                    agent.idle_since = now
                    agent.missed = 0
                    agent.ready_at = None
        if agent.state is not Presence.AVAILABLE:
            reason = "agent_away" if agent.state is Presence.AWAY else "agent_offline"
            for iid in sorted(agent.offers):
                self._withdraw(self._waiting[iid], agent.agent_id, reason, out)
        self._refresh(agent, now)
        self._touched_agents.add(agent.agent_id)

    def _shed_excess_offers(self, agent: _Agent, now: datetime, out: list[Command]) -> None:
        """After a capacity cut, take back the newest offers above the new limit."""
        newest_first = sorted(
            (self._waiting[iid] for iid in agent.offers),
            key=lambda w: (w.offers[agent.agent_id], w.interaction_id),
            reverse=True,
        )
        for w in newest_first:
            if agent.load.get(w.channel, 0) > agent.capacity.get(w.channel, 0):
                self._withdraw(w, agent.agent_id, "capacity", out)

    def _offer_of(self, interaction_id: int, agent_id: int) -> _Waiting:
        w = self._waiting.get(interaction_id)
        if w is None or agent_id not in w.offers:
            if interaction_id in self._held:
                raise IllegalTransition(f"interaction {interaction_id} has already been taken")
            raise IllegalTransition(
                f"interaction {interaction_id} is not offered to agent {agent_id}"
            )
        return w

    def _on_accepted(self, e: OfferAccepted, now: datetime, out: list[Command]) -> None:
        w = self._offer_of(e.interaction_id, e.agent_id)
        if w.offers[e.agent_id] <= now:
            raise IllegalTransition(f"the offer of interaction {e.interaction_id} has expired")
        agent = self._agents[e.agent_id]
        for other in sorted(a for a in w.offers if a != e.agent_id):
            self._withdraw(w, other, "taken", out)
        del w.offers[e.agent_id]
        agent.offers.discard(w.interaction_id)
        self._leave(w)
        agent.held.add(w.interaction_id)
        agent.missed = 0
        self._held[w.interaction_id] = _Held(
            w.interaction_id, e.agent_id, w.queue, w.channel, w.queued_at, w.priority
        )
        day = self._days[w.queue]
        day.roll(now, self._day_zone)
        waited = (now - w.queued_at).total_seconds()
        day.answered += 1
        day.answer_wait_s += waited
        if waited <= self._queues[w.queue].sla_s:
            day.within_sla += 1
        day.answers.append(now)
        self._refresh(agent, now)
        self._touched_agents.add(agent.agent_id)
        out.append(AssignInteraction(w.interaction_id, e.agent_id))
        self._release_followers(w, e.agent_id, now, out)

    def _on_declined(self, e: OfferDeclined, now: datetime, out: list[Command]) -> None:
        w = self._offer_of(e.interaction_id, e.agent_id)
        w.declined_by.add(e.agent_id)
        agent = self._agents[e.agent_id]
        self._withdraw(w, e.agent_id, "declined", out)
        if w.only_agent == e.agent_id:
            w.only_agent = None  # a named transfer that was refused goes back to the queue
        self._delay(agent, self._policy.decline_delay_s, now)

    def _on_unreachable(self, e: OfferUnreachable, now: datetime, out: list[Command]) -> None:
        if e.reason not in ("busy", "no_answer"):
            raise InvalidInput(f"unreachable reason must be busy or no_answer, not {e.reason!r}")
        w = self._offer_of(e.interaction_id, e.agent_id)
        if e.reason == "no_answer":
            self._expire(w, e.agent_id, now, out, reason="no_answer")
            return
        agent = self._agents[e.agent_id]
        self._withdraw(w, e.agent_id, "busy", out)
        if w.only_agent == e.agent_id:
            w.only_agent = None
        agent.idle_since = now  # to the back of the line
        self._delay(agent, self._policy.busy_delay_s, now)
        self._refresh(agent, now)
        self._touched_agents.add(e.agent_id)

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
        leader = self._following.pop(e.interaction_id, None)
        if leader is not None:  # gone before its turn
            followers = self._followers[leader]
            f = next(f for f in followers if f.interaction_id == e.interaction_id)
            followers.remove(f)
            day = self._days[f.queue]
            day.roll(now, self._day_zone)
            day.abandoned += 1
            out.append(AbandonInteraction(f.interaction_id, None))
            return
        w = self._waiting.get(e.interaction_id)
        if w is not None:
            offered_to = min(w.offers, default=None)
            for agent_id in sorted(w.offers):
                if agent_id != offered_to:  # ring_all: tell the others too
                    out.append(WithdrawOffer(w.interaction_id, agent_id, "abandoned", False))
                agent = self._agents[agent_id]
                agent.offers.discard(w.interaction_id)
                self._add_load(agent, w.channel, -1)
                self._refresh_later(agent)
                self._touched_agents.add(agent_id)
            w.offers.clear()
            self._leave(w)
            day = self._days[w.queue]
            day.roll(now, self._day_zone)
            day.abandoned += 1
            out.append(AbandonInteraction(w.interaction_id, offered_to))
            self._release_followers(w, None, now, out)
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

    def _on_transferred(self, e: InteractionTransferred, now: datetime, out: list[Command]) -> None:
        h = self._held_by(e.interaction_id, e.agent_id)
        if h.wrap_up_until is not None:
            raise IllegalTransition(f"interaction {e.interaction_id} is closed; not transferred")
        if (e.to_queue is None) == (e.to_agent is None):
            raise InvalidInput("transfer to exactly one of: a queue, an agent")
        queue_name = e.to_queue or h.queue
        queue = self._queues.get(queue_name)
        if queue is None:
            raise InvalidInput(f"no queue named {queue_name!r}")
        if h.channel not in queue.channels:
            raise InvalidInput(f"queue {queue_name!r} does not take {h.channel.value} contacts")
        if e.to_agent is not None:
            if e.to_agent not in self._agents:
                raise NotFound(f"agent {e.to_agent} is not known to the router")
            if e.to_agent == e.agent_id:
                raise InvalidInput("an interaction cannot be transferred to its own agent")
            colleague = self._agents[e.to_agent]
            if not self._queue_requires[queue_name].evaluate(colleague.skills):
                raise IllegalTransition(
                    f"agent {e.to_agent} does not have the skills queue {queue_name!r} requires"
                )
            if not self._ready_for(colleague, h.channel, now):
                # Otherwise it would wait for someone who cannot take it.
                raise IllegalTransition(
                    f"agent {e.to_agent} cannot take a {h.channel.value} contact now "
                    "(away, offline or full); transfer to a queue instead"
                )
        agent = self._agents[h.agent_id]
        del self._held[h.interaction_id]
        agent.held.discard(h.interaction_id)
        self._add_load(agent, h.channel, -1)
        self._refresh(agent, now)
        w = _Waiting(
            h.interaction_id,
            h.channel,
            h.priority + self._policy.transfer_priority_boost,
            h.queued_at,
            (Target(queue_name, ANYONE, None),),
        )
        w.declined_by.add(h.agent_id)
        w.only_agent = e.to_agent
        out.append(TransferInteraction(h.interaction_id, h.agent_id, queue_name, e.to_agent))
        self._enter(w, now, out)

    # ------------------------------------------------------------------ deadlines
    def _at(self, when: datetime, kind: str, ident: int, extra: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._deadlines, (when, self._seq, kind, ident, extra))

    def _deadline_live(self, entry: tuple[datetime, int, str, int, int]) -> bool:
        when, _, kind, ident, extra = entry
        if kind == "offer":
            w = self._waiting.get(ident)
            return w is not None and w.offers.get(extra) == when
        if kind == "wrap_up":
            h = self._held.get(ident)
            return h is not None and h.wrap_up_until == when
        if kind == "ready":
            a = self._agents.get(ident)
            return a is not None and a.ready_at == when
        if kind == "escalate":
            w = self._waiting.get(ident)
            return w is not None and w.target_index == extra and len(w.targets) > extra + 1
        if kind == "sticky":
            w = self._waiting.get(ident)
            return w is not None and w.sticky_until == when
        if kind == "max_wait":
            w = self._waiting.get(ident)
            return w is not None and w.max_wait_at == when and w.max_wait_queue == w.queue
        return False

    def _fire(
        self, entry: tuple[datetime, int, str, int, int], now: datetime, out: list[Command]
    ) -> None:
        _, _, kind, ident, extra = entry
        if kind == "offer":
            self._expire(self._waiting[ident], extra, now, out)
        elif kind == "wrap_up":
            self._end(self._held[ident], out)
        elif kind == "ready":
            agent = self._agents[ident]
            agent.ready_at = None
            self._refresh(agent, now)
        elif kind == "escalate":
            self._escalate(self._waiting[ident], now, out)
        elif kind == "sticky":
            w = self._waiting[ident]
            w.sticky_agent = w.sticky_until = None
            self._dirty = True
        elif kind == "max_wait":
            self._max_wait(self._waiting[ident], now, out)

    def _expire(
        self, w: _Waiting, agent_id: int, now: datetime, out: list[Command], reason: str = "expired"
    ) -> None:
        """A missed offer: it expired, or the agent's device rang out (``no_answer``)."""
        agent = self._agents[agent_id]
        self._withdraw(w, agent_id, reason, out)
        if w.only_agent == agent_id:
            w.only_agent = None
        agent.idle_since = now  # to the back of the line
        agent.missed += 1
        limit = self._policy.missed_offers_before_away
        if limit and agent.missed >= limit and agent.state is Presence.AVAILABLE:
            agent.state = Presence.AWAY
            agent.state_since = now
            agent.reason = MISSED_OFFERS
            agent.missed = 0
            for iid in sorted(agent.offers):
                self._withdraw(self._waiting[iid], agent_id, "agent_away", out)
            out.append(SetAgentAway(agent_id, MISSED_OFFERS))
        else:
            self._delay(agent, self._policy.no_answer_delay_s, now)
        self._refresh(agent, now)
        self._touched_agents.add(agent_id)

    def _escalate(self, w: _Waiting, now: datetime, out: list[Command]) -> None:
        old_queue = w.queue
        self._order.discard((w.order_key(), w.interaction_id))
        self._by_queue[old_queue].discard((w.order_key(), w.interaction_id))
        w.target_index += 1
        w.target_since = now
        self._order.add((w.order_key(), w.interaction_id))
        self._by_queue[w.queue].add((w.order_key(), w.interaction_id))
        self._touched_queues.update((old_queue, w.queue))
        if w.queue != old_queue:
            out.append(MoveInteraction(w.interaction_id, w.queue, "escalated"))
            self._arm_max_wait(w, now)
        self._arm_target(w)
        self._dirty = True

    def _max_wait(self, w: _Waiting, now: datetime, out: list[Command]) -> None:
        w.max_wait_at = None
        queue = self._queues[w.queue]
        action = queue.on_max_wait or "overflow"
        if action == "overflow" and queue.overflow_queue in self._queues:
            target_queue = self._queues[str(queue.overflow_queue)]
            if w.channel in target_queue.channels:
                self._order.discard((w.order_key(), w.interaction_id))
                self._by_queue[w.queue].discard((w.order_key(), w.interaction_id))
                self._touched_queues.add(w.queue)
                w.targets = (
                    *w.targets[: w.target_index + 1],
                    Target(target_queue.name, ANYONE, None),
                )
                w.target_index += 1
                w.target_since = now
                self._order.add((w.order_key(), w.interaction_id))
                self._by_queue[w.queue].add((w.order_key(), w.interaction_id))
                self._touched_queues.add(w.queue)
                out.append(MoveInteraction(w.interaction_id, w.queue, "overflow"))
                self._arm_max_wait(w, now)
                self._dirty = True
                return
        w.max_wait_acted = True
        out.append(MaxWaitReached(w.interaction_id, action))

    # ------------------------------------------------------------------ mechanics
    def _start_wrap_up(self, h: _Held, now: datetime, by: str, out: list[Command]) -> None:
        until = now + timedelta(seconds=self._queues[h.queue].wrap_up_s)
        h.wrap_up_until = until
        out.append(StartWrapUp(h.interaction_id, h.agent_id, until, by))
        if until <= now:
            self._end(h, out)
        else:
            self._at(until, "wrap_up", h.interaction_id)

    def _end(self, h: _Held, out: list[Command]) -> None:
        del self._held[h.interaction_id]
        agent = self._agents[h.agent_id]
        agent.held.discard(h.interaction_id)
        self._add_load(agent, h.channel, -1)
        self._refresh_later(agent)
        self._touched_queues.add(h.queue)
        out.append(EndInteraction(h.interaction_id, h.agent_id))

    def _withdraw(self, w: _Waiting, agent_id: int, reason: str, out: list[Command]) -> None:
        agent = self._agents[agent_id]
        del w.offers[agent_id]
        agent.offers.discard(w.interaction_id)
        self._add_load(agent, w.channel, -1)
        w.last_offered_to = agent_id
        self._refresh_later(agent)
        self._touched_agents.add(agent_id)
        if not w.offers:
            self._fresh.append(w.interaction_id)
            self._touched_queues.add(w.queue)
        out.append(WithdrawOffer(w.interaction_id, agent_id, reason, requeue=not w.offers))

    def _delay(self, agent: _Agent, seconds: float, now: datetime) -> None:
        if seconds > 0:
            agent.ready_at = now + timedelta(seconds=seconds)
            self._at(agent.ready_at, "ready", agent.agent_id)

    def _add_load(self, agent: _Agent, channel: Channel, delta: int) -> None:
        agent.load[channel] = agent.load.get(channel, 0) + delta

    # ------------------------------------------------------------------ pools
    def _pool(self, queue_name: str, requires: Expression, channel: Channel) -> _Pool:
        key = (queue_name, requires.source, channel)
        pool = self._pools.get(key)
        if pool is None:
            pool = _Pool(
                self._queues[queue_name], requires, channel, self._queue_requires[queue_name]
            )
            self._pools[key] = pool
            for agent in self._agents.values():
                if self._qualifies(agent, pool):
                    pool.members.add(agent.agent_id)
                    agent.pools.add(key)
                    self._place(agent, key, pool, None)
        return pool

    def _qualifies(self, agent: _Agent, pool: _Pool) -> bool:
        return self._queue_requires[pool.queue.name].evaluate(
            agent.skills
        ) and pool.requires.evaluate(agent.skills)

    def _join_pools(self, agent: _Agent) -> None:
        for key, pool in self._pools.items():
            entry = agent.entries.pop(key, None)
            if entry is not None:
                pool.ready.discard(entry)
            if self._qualifies(agent, pool):
                pool.members.add(agent.agent_id)
                agent.pools.add(key)
            else:
                pool.members.discard(agent.agent_id)
                agent.pools.discard(key)

    def _ready_for(self, agent: _Agent, channel: Channel, now: datetime | None) -> bool:
        if agent.state is not Presence.AVAILABLE:
            return False
        if agent.ready_at is not None and (now is None or agent.ready_at > now):
            return False
        if agent.load.get(channel, 0) >= agent.capacity.get(channel, 0):
            return False
        voice = agent.load.get(Channel.VOICE, 0)
        if self._policy.voice_exclusive and voice > 0:
            return False
        if channel is Channel.VOICE and not self._policy.voice_while_holding:
            if any(n for ch, n in agent.load.items() if ch is not Channel.VOICE):
                return False
        return True

    def _place(
        self, agent: _Agent, key: tuple[str, str, Channel], pool: _Pool, now: datetime | None
    ) -> None:
        old = agent.entries.pop(key, None)
        if old is not None:
            pool.ready.discard(old)
        if self._ready_for(agent, pool.channel, now):
            entry = (*pool.key(agent), agent.agent_id)
            pool.ready.add(entry)
            agent.entries[key] = entry
            if old is None:
                self._dirty = True

    def _refresh(self, agent: _Agent, now: datetime | None) -> None:
        for key in agent.pools:
            self._place(agent, key, self._pools[key], now)

    def _refresh_later(self, agent: _Agent) -> None:
        # Load changed: the agent is placed (or not) in the ready lists at the next step.
        self._pending_refresh.add(agent.agent_id)

    # ------------------------------------------------------------------ routing step
    def _eligible(self, w: _Waiting, agent_id: int) -> bool:
        if agent_id in w.declined_by and w.only_agent != agent_id:
            return False
        if w.only_agent is not None:
            return agent_id == w.only_agent
        if w.sticky_agent is not None:
            return agent_id == w.sticky_agent
        return True

    def _choose(self, w: _Waiting, pool: _Pool) -> list[_Agent]:
        ready = pool.ready
        if not ready:
            return []
        if pool.strategy == "ring_all":
            return [self._agents[entry[-1]] for entry in ready if self._eligible(w, entry[-1])]
        if w.only_agent is not None or w.sticky_agent is not None:
            wanted = w.only_agent if w.only_agent is not None else w.sticky_agent
            agent = self._agents.get(wanted) if wanted is not None else None
            if agent is None or not self._eligible(w, agent.agent_id):
                return []
            entry = agent.entries.get((pool.queue.name, pool.requires.source, pool.channel))
            return [agent] if entry is not None else []
        n = len(ready)
        if pool.strategy == "round_robin":
            start = ready.bisect_right((pool.rr_last, float("inf")))
            order = (ready[(start + i) % n] for i in range(n))
        elif pool.strategy == "random":
            start = self._rng.randrange(n)
            order = (ready[(start + i) % n] for i in range(n))
        else:
            order = iter(ready)
        fallback: _Agent | None = None
        for entry in order:
            agent_id = entry[-1]
            if not self._eligible(w, agent_id):
                continue
            if agent_id == w.last_offered_to:
                fallback = fallback or self._agents[agent_id]
                continue
            if pool.strategy == "round_robin":
                pool.rr_last = agent_id
            return [self._agents[agent_id]]
        return [fallback] if fallback is not None else []

    def _dispatch(self, now: datetime, out: list[Command]) -> None:
        if self._pending_refresh:
            for agent_id in sorted(self._pending_refresh):
                agent = self._agents.get(agent_id)
                if agent is not None:
                    self._refresh(agent, now)
            self._pending_refresh.clear()
        if self._dirty:
            candidates = [iid for _, iid in self._order]
        elif len(self._fresh) == 1:
            candidates = self._fresh[:]
        else:
            candidates = sorted(
                (iid for iid in set(self._fresh) if iid in self._waiting),
                key=lambda i: self._waiting[i].order_key(),
            )
        self._dirty = False
        self._fresh.clear()
        for iid in candidates:
            w = self._waiting.get(iid)
            if w is None or w.offers:
                continue
            pool = self._pool(w.queue, w.target.requires, w.channel)
            for agent in self._choose(w, pool):
                self._offer(w, agent, now, out)

    def _offer(self, w: _Waiting, agent: _Agent, now: datetime, out: list[Command]) -> None:
        queue = self._queues[w.queue]
        expires_at = now + timedelta(seconds=queue.offer_timeout_s)
        w.offers[agent.agent_id] = expires_at
        agent.offers.add(w.interaction_id)
        self._add_load(agent, w.channel, 1)
        agent.idle_since = now
        self._refresh(agent, now)
        self._touched_agents.add(agent.agent_id)
        self._touched_queues.add(w.queue)
        self._at(expires_at, "offer", w.interaction_id, agent.agent_id)
        out.append(
            OfferInteraction(w.interaction_id, agent.agent_id, expires_at, queue.offer_timeout_s)
        )

    def _announce_positions(self, out: list[Command]) -> None:
        if not self._touched_queues:
            return
        for name in sorted(self._touched_queues):
            for position, (_, iid) in enumerate(self._by_queue[name], start=1):
                if self._positions.get(iid) != position:
                    self._positions[iid] = position
                    out.append(
                        AnnouncePosition(iid, position, estimated_wait_s=self.estimated_wait_s(iid))
                    )
        self._touched_queues.clear()

    def _report_agents(self, out: list[Command]) -> None:
        if not self._touched_agents:
            return
        touched = self._touched_agents
        for agent_id in sorted(touched) if len(touched) > 1 else touched:
            agent = self._agents.get(agent_id)
            if agent is None:
                continue
            seen = (
                agent.state,
                agent.reason,
                tuple(agent.load.items()),
                tuple(agent.capacity.items()),
            )
            if self._reported.get(agent_id) != seen:
                self._reported[agent_id] = seen
                out.append(
                    ReportAgentState(
                        agent_id,
                        agent.state,
                        dict(agent.load),
                        dict(agent.capacity),
                        state_since=agent.state_since,
                        reason=agent.reason,
                    )
                )
        self._touched_agents.clear()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
