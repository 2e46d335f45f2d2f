"""Invariants of the v2 routing engine over random event sequences (hypothesis).

The configuration has two queues (``sales`` with a drawn strategy and an overflow max wait,
``help`` with ``ring_all``, a queue skill requirement and a callback max wait), a rule with a
skill requirement that escalates sales -> help -> sales (so every escalation shows as a
``MoveInteraction``), agents with random skills and capacities on webchat and voice, and a
policy with small delays, ``missed_offers_before_away=2`` and a sticky window.

A reference model is rebuilt from the events sent, the configuration and the commands the
engine emits (never from the engine's private state). Skill requirements are checked with
plain Python predicates, not with the engine's expression parser. The runner's contract is
followed: a ``Tick`` at ``now`` is handled before every other event. After every ``handle``:

1. an interaction is never assigned twice (at most once per waiting period; a transfer
   starts a new period);
2. nothing is lost: each queued interaction is exactly one of waiting / held / ended /
   abandoned, and the engine's queries (queue stats, offers, routed queue, positions) agree;
3. an agent's offers + held interactions per channel never exceed their capacity, and a
   voice call is exclusive (no other channel while one is offered or held);
4. work-conserving: no agent who is available, out of any delay, with free capacity (and
   the cross-channel rule allowing it), whose skills meet the queue's and the current
   target's requirement, who has not declined it and is not excluded by a sticky window or
   a transfer to a named agent, is left idle while an unoffered interaction waits.

Every offer is also checked to go to an agent eligible in that sense. Events the model
calls illegal must raise ``HubError`` and change nothing observable.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import HubError
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
from routing.engine import Engine, RoutingPolicy
from routing.events import (
    AgentClosed,
    AgentStateChanged,
    CustomerLeft,
    Event,
    InteractionQueued,
    InteractionTransferred,
    OfferAccepted,
    OfferDeclined,
    Tick,
    WrapUpFinished,
)
from routing.rules import compile_rules

WEB = Channel.WEBCHAT
VOICE = Channel.VOICE
EMAIL = Channel.EMAIL
CHANNELS = (WEB, VOICE)
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
AGENTS = (1, 2, 3, 4)
UNKNOWN_AGENT = 9
SALES_STRATEGIES = ("longest_idle", "round_robin", "least_occupied", "most_skilled", "random")

POLICY = RoutingPolicy(
    voice_exclusive=True,
    voice_while_holding=False,
    decline_delay_s=3,
    no_answer_delay_s=2,
    missed_offers_before_away=2,
    sticky_s=12,
    transfer_priority_boost=1,
)

Skills = Mapping[str, int]
Requirement = Callable[[Skills], bool]


def anyone(skills: Skills) -> bool:
    return True


def billing(level: int) -> Requirement:
    return lambda skills: skills.get("billing", 0) >= level


QUEUE_REQUIRES: dict[str, Requirement] = {
    "sales": anyone,
    "help": lambda skills: skills.get("lang", 0) >= 1,
}
RAW_RULES = [
    {
        "name": "billing",
        "when": 'topic == "billing"',
        "priority_boost": 1,
        "targets": [
            {"queue": "sales", "requires": "billing >= 2", "timeout_s": 15, "priority_boost": 1},
            {"queue": "help", "requires": "billing >= 1", "timeout_s": 15},
            {"queue": "sales"},
        ],
    }
]


@dataclass(frozen=True)
class Step:
    """One rule target as the model sees it."""

    queue: str
    requires: Requirement
    timeout_s: float | None
    boost: int = 0


BILLING_TARGETS = (
    Step("sales", billing(2), 15, 1),
    Step("help", billing(1), 15),
    Step("sales", anyone, None),
)
BILLING_RULE_BOOST = 1


def make_queues(sales_strategy: str) -> dict[str, Queue]:
    both = frozenset(CHANNELS)
    return {
        "sales": Queue(
            "sales",
            both,
            offer_timeout_s=10,
            wrap_up_s=5,
            strategy=sales_strategy,
            max_wait_s=45,
            on_max_wait="overflow",
            overflow_queue="help",
        ),
        "help": Queue(
            "help",
            both,
            offer_timeout_s=8,
            wrap_up_s=0,
            strategy="ring_all",
            requires="lang >= 1",
            max_wait_s=60,
            on_max_wait="callback",
        ),
    }


PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ==================================================================== the model


@dataclass
class Item:
    channel: Channel
    queued_at: datetime
    targets: list[Step]
    base: int  # priority before rule and target boosts
    rule_boost: int = 0
    index: int = 0
    target_since: datetime = T0
    status: str = "waiting"  # waiting | held | ended | abandoned
    offers: dict[int, datetime] = field(default_factory=dict)
    holder: int | None = None
    in_wrap_up: bool = False
    declined_by: set[int] = field(default_factory=set)
    only_agent: int | None = None
    sticky_agent: int | None = None
    sticky_until: datetime | None = None
    assigned_this_period: int = 0
    max_wait_actions_this_period: int = 0
    held_queue: str | None = None
    held_priority: int = 0

    @property
    def target(self) -> Step:
        return self.targets[self.index]

    @property
    def queue(self) -> str:
        if self.status == "held" and self.held_queue is not None:
            return self.held_queue
        return self.target.queue

    @property
    def priority(self) -> int:
        return self.base + self.rule_boost + self.target.boost


@dataclass
class AgentModel:
    presence: Presence
    capacity: dict[Channel, int]
    skills: dict[str, int]
    ready_at: datetime | None = None
    missed: int = 0


@dataclass
class Model:
    """What the outside world knows, rebuilt from events sent and commands received."""

    queues: dict[str, Queue]
    items: dict[int, Item] = field(default_factory=dict)
    agents: dict[int, AgentModel] = field(default_factory=dict)
    positions: dict[int, int] = field(default_factory=dict)
    now: datetime = T0

    # ------------------------------------------------------------ derived views
    def load(self, agent_id: int, channel: Channel) -> int:
        return sum(
            (agent_id in it.offers or (it.status == "held" and it.holder == agent_id))
            for it in self.items.values()
            if it.channel == channel and it.status in ("waiting", "held")
        )

    def can_take(self, agent_id: int, channel: Channel) -> bool:
        """Available, out of any delay, with room on ``channel`` under the cross-channel rule."""
        agent = self.agents.get(agent_id)
        if agent is None or agent.presence is not Presence.AVAILABLE:
            return False
        if agent.ready_at is not None and agent.ready_at > self.now:
            return False
        if self.load(agent_id, channel) >= agent.capacity.get(channel, 0):
            return False
        if self.load(agent_id, VOICE) > 0:  # voice_exclusive
            return False
        if channel is VOICE and self.load(agent_id, WEB) > 0:  # not voice_while_holding
            return False
        return True

    def eligible(self, item: Item, agent_id: int) -> bool:
        """Whether the engine may (and, if the item is unoffered, must) offer it to the agent."""
        if not self.can_take(agent_id, item.channel):
            return False
        skills = self.agents[agent_id].skills
        if not (QUEUE_REQUIRES[item.target.queue](skills) and item.target.requires(skills)):
            return False
        if item.only_agent is not None:
            return agent_id == item.only_agent
        if agent_id in item.declined_by:
            return False
        if item.sticky_agent is not None:
            return agent_id == item.sticky_agent
        return True

    # ------------------------------------------------------------ legality oracle
    def is_legal(self, event: Event) -> bool:
        item = self.items.get(getattr(event, "interaction_id", -1))
        match event:
            case Tick() | AgentStateChanged():
                return True
            case InteractionQueued():
                active = item is not None and item.status in ("waiting", "held")
                queue = self.queues.get(event.queue)
                return not active and queue is not None and event.channel in queue.channels
            case OfferAccepted():
                return (
                    item is not None
                    and item.status == "waiting"
                    and event.agent_id in item.offers
                    and self.now < item.offers[event.agent_id]
                )
            case OfferDeclined():
                return (
                    item is not None and item.status == "waiting" and event.agent_id in item.offers
                )
            case AgentClosed():
                return self.holds(item, event.agent_id) and not item.in_wrap_up  # type: ignore[union-attr]
            case CustomerLeft():
                return item is not None and (
                    item.status == "waiting" or (item.status == "held" and not item.in_wrap_up)
                )
            case WrapUpFinished():
                return self.holds(item, event.agent_id) and item.in_wrap_up  # type: ignore[union-attr]
            case InteractionTransferred():
                if not self.holds(item, event.agent_id) or item.in_wrap_up:  # type: ignore[union-attr]
                    return False
                assert item is not None
                if (event.to_queue is None) == (event.to_agent is None):
                    return False
                if event.to_queue is not None:
                    queue = self.queues.get(event.to_queue)
                    return queue is not None and item.channel in queue.channels
                return (
                    event.to_agent in self.agents
                    and event.to_agent != event.agent_id
                    and self.can_take(event.to_agent, item.channel)
                    # the colleague must be able to serve the queue it waits in
                    and QUEUE_REQUIRES[item.queue](self.agents[event.to_agent].skills)
                )
        raise AssertionError(f"unexpected event {event!r}")

    @staticmethod
    def holds(item: Item | None, agent_id: int) -> bool:
        return item is not None and item.status == "held" and item.holder == agent_id

    # ------------------------------------------------------------ applying what happened
    def sent(self, event: Event) -> None:
        match event:
            case Tick():
                for it in self.items.values():
                    if it.sticky_until is not None and it.sticky_until <= self.now:
                        it.sticky_agent = it.sticky_until = None
            case InteractionQueued():
                item = Item(
                    event.channel,
                    event.queued_at,
                    [Step(event.queue, anyone, None)],
                    event.priority,
                )
                if event.attributes.get("topic") == "billing":
                    item.targets = list(BILLING_TARGETS)
                    item.rule_boost = BILLING_RULE_BOOST
                item.target_since = self.now
                if event.last_agent_id is not None:
                    item.sticky_agent = event.last_agent_id
                    item.sticky_until = self.now + timedelta(seconds=POLICY.sticky_s)
                self.items[event.interaction_id] = item
            case AgentStateChanged():
                agent = self.agents.get(event.agent_id)
                if agent is None:
                    self.agents[event.agent_id] = AgentModel(
                        event.state, dict(event.capacity), dict(event.skills or {})
                    )
                    return
                if event.skills is not None:
                    agent.skills = dict(event.skills)
                if event.state is not agent.presence:
                    agent.presence = event.state
                    if event.state is Presence.AVAILABLE:
                        agent.ready_at = None
                        agent.missed = 0
            case OfferDeclined():
                self.items[event.interaction_id].declined_by.add(event.agent_id)
                self.agents[event.agent_id].ready_at = self.now + timedelta(
                    seconds=POLICY.decline_delay_s
                )

    def received(self, commands: list[Command]) -> None:
        for c in commands:
            self.receive(c)

    def receive(self, c: Command) -> None:
        match c:
            case OfferInteraction():
                item = self.items[c.interaction_id]
                assert item.status == "waiting", c
                assert c.agent_id not in item.offers, c
                if self.queues[item.target.queue].strategy != "ring_all":
                    assert not item.offers, f"second offer outside ring_all: {c}"
                assert self.eligible(item, c.agent_id), f"offer to an ineligible agent: {c}"
                timeout = self.queues[item.target.queue].offer_timeout_s
                assert c.expires_at == self.now + timedelta(seconds=timeout), c
                item.offers[c.agent_id] = c.expires_at
            case WithdrawOffer():
                item = self.items[c.interaction_id]
                assert item.status == "waiting" and c.agent_id in item.offers, c
                expires_at = item.offers.pop(c.agent_id)
                assert c.requeue == (not item.offers), c
                if c.reason in ("declined", "expired") and item.only_agent == c.agent_id:
                    item.only_agent = None  # a named transfer refused: back to the queue
                if c.reason == "expired":
                    assert expires_at <= self.now, c
                    agent = self.agents[c.agent_id]
                    agent.missed += 1
                    agent.ready_at = self.now + timedelta(seconds=POLICY.no_answer_delay_s)
            case AssignInteraction():
                item = self.items[c.interaction_id]
                assert item.status == "waiting" and set(item.offers) == {c.agent_id}, c
                item.held_queue, item.held_priority = item.queue, item.priority
                item.status, item.holder, item.offers = "held", c.agent_id, {}
                item.assigned_this_period += 1
                assert item.assigned_this_period == 1, f"assigned twice: {c}"
                self.agents[c.agent_id].missed = 0
                self.positions.pop(c.interaction_id, None)
            case StartWrapUp():
                item = self.items[c.interaction_id]
                assert self.holds(item, c.agent_id) and not item.in_wrap_up, c
                item.in_wrap_up = True
            case EndInteraction():
                item = self.items[c.interaction_id]
                assert self.holds(item, c.agent_id) and item.in_wrap_up, c
                item.status = "ended"
            case AbandonInteraction():
                item = self.items[c.interaction_id]
                assert item.status == "waiting", c
                assert c.offered_to == next(iter(item.offers), None), c
                item.status, item.offers = "abandoned", {}
                self.positions.pop(c.interaction_id, None)
            case MoveInteraction(reason="escalated"):
                item = self.items[c.interaction_id]
                assert item.status == "waiting" and item.index + 1 < len(item.targets), c
                assert item.target.timeout_s is not None
                assert item.target_since + timedelta(seconds=item.target.timeout_s) <= self.now
                item.index += 1
                item.target_since = self.now
                assert item.target.queue == c.queue, c
            case MoveInteraction(reason="rule billing"):
                item = self.items[c.interaction_id]
                assert item.status == "waiting" and item.index == 0, c
                assert item.target.queue == c.queue, c
            case MoveInteraction(reason="overflow"):
                item = self.items[c.interaction_id]
                assert item.status == "waiting", c
                item.targets = [*item.targets[: item.index + 1], Step(c.queue, anyone, None)]
                item.index += 1
                item.target_since = self.now
                # Overflow moves it on; the next queue's own maximum wait then applies.
            case MaxWaitReached():
                item = self.items[c.interaction_id]
                assert item.status == "waiting", c
                item.max_wait_actions_this_period += 1
                assert item.max_wait_actions_this_period == 1, c
            case TransferInteraction():
                item = self.items[c.interaction_id]
                assert self.holds(item, c.from_agent) and not item.in_wrap_up, c
                self.items[c.interaction_id] = Item(
                    item.channel,
                    item.queued_at,  # keeps its age
                    [Step(c.queue, anyone, None)],
                    item.held_priority + POLICY.transfer_priority_boost,
                    target_since=self.now,
                    declined_by={c.from_agent},
                    only_agent=c.to_agent,
                )
            case AnnouncePosition():
                self.positions[c.interaction_id] = c.position
            case ReportAgentState():
                agent = self.agents[c.agent_id]
                assert c.state is agent.presence, c
                assert dict(c.capacity) == agent.capacity, c
                assert all(n == self.load(c.agent_id, ch) for ch, n in c.load.items()), c
            case SetAgentAway():
                agent = self.agents[c.agent_id]
                assert c.reason == "missed_offers", c
                assert agent.presence is Presence.AVAILABLE, c
                assert agent.missed >= POLICY.missed_offers_before_away, c
                assert not any(c.agent_id in it.offers for it in self.items.values()), c
                agent.presence = Presence.AWAY
                agent.missed = 0
            case _:
                raise AssertionError(f"unexpected command {c!r}")


def snapshot(engine: Engine, ids: list[int]) -> tuple[Any, ...]:
    return (
        engine.queue_stats(),
        engine.agent_stats(),
        engine.next_deadline(),
        {a: engine.offers_for(a) for a in (*AGENTS, UNKNOWN_AGENT)},
        {i: (engine.position(i), engine.routed_queue(i)) for i in ids},
    )


def check_invariants(engine: Engine, model: Model) -> None:
    items = model.items

    # (1) is checked as each AssignInteraction arrives (once per waiting period).

    # (2) nothing lost, and the engine's queries agree with the model.
    for i, it in items.items():
        assert it.status in ("waiting", "held", "ended", "abandoned")
        expected = it.queue if it.status in ("waiting", "held") else None
        assert engine.routed_queue(i) == expected, (i, it.status)
    for stats in engine.queue_stats():
        waiting = [it for it in items.values() if it.status == "waiting" and it.queue == stats.name]
        assert stats.waiting == len(waiting), stats
        assert stats.offered == sum(bool(it.offers) for it in waiting), stats
        held = [it for it in items.values() if it.status == "held" and it.queue == stats.name]
        assert stats.assigned == len(held), stats
    for agent_id in (*AGENTS, UNKNOWN_AGENT):
        mine = sorted((i, it.offers[agent_id]) for i, it in items.items() if agent_id in it.offers)
        assert engine.offers_for(agent_id) == mine, agent_id

    # (3) capacity and the cross-channel rule, by the model and by the engine's report.
    for agent_id, agent in model.agents.items():
        loads = {ch: model.load(agent_id, ch) for ch in CHANNELS}
        for channel, n in loads.items():
            assert n <= agent.capacity.get(channel, 0), (agent_id, channel, loads)
        if loads[VOICE]:
            assert loads[WEB] == 0, f"agent {agent_id} has a call and a chat: {loads}"
        reported = engine.agent(agent_id)
        assert reported is not None
        assert reported.state is agent.presence
        assert {ch: reported.load.get(ch, 0) for ch in CHANNELS} == loads, agent_id
        # missed offers: never left available at the limit
        if agent.presence is Presence.AVAILABLE:
            assert agent.missed < POLICY.missed_offers_before_away, agent_id

    # (4) work-conserving.
    for iid, item in items.items():
        if item.status != "waiting" or item.offers:
            continue
        idle = [a for a in model.agents if model.eligible(item, a)]
        assert not idle, f"agents {idle} left idle while interaction {iid} waits unoffered"

    # Positions: 1..n per queue in priority / age / id order, as announced.
    for name in model.queues:
        in_line = sorted(
            (n for n, it in items.items() if it.status == "waiting" and it.queue == name),
            key=lambda n: (-items[n].priority, items[n].queued_at, n),
        )
        for rank, n in enumerate(in_line, start=1):
            assert model.positions.get(n) == rank == engine.position(n), (name, n)
    for i, it in items.items():
        if it.status != "waiting":
            assert engine.position(i) is None, i


def check_after_tick(model: Model) -> None:
    """Nothing is late after a Tick: due escalations have happened, sticky windows are over."""
    for i, it in model.items.items():
        if it.status != "waiting":
            continue
        timeout = it.target.timeout_s
        if timeout is not None and it.index + 1 < len(it.targets):
            due = it.target_since + timedelta(seconds=timeout)
            assert due > model.now, f"interaction {i} should have escalated at {due}"


# ==================================================================== random events


def draw_event(data: st.DataObject, model: Model, next_id: int) -> Event:
    """One event, legal or not; biased towards events about what exists now."""
    known = sorted(model.items) or [next_id]
    some_interaction = st.sampled_from([*known, next_id + 100])
    some_agent = st.sampled_from([*AGENTS, UNKNOWN_AGENT])
    offered = [(i, a) for i, it in model.items.items() for a in it.offers]
    held = [(i, it.holder) for i, it in model.items.items() if it.status == "held"]
    open_held = [
        (i, it.holder) for i, it in model.items.items() if it.status == "held" and not it.in_wrap_up
    ]

    kind = data.draw(
        st.sampled_from(
            [
                *["queue"] * 3,
                *["agent"] * 2,
                *["accept"] * 4,
                *["decline"] * 2,
                *["close"] * 2,
                "wrap_up_end",
                "leave",
                *["transfer"] * 3,
                "random",
            ]
        ),
        label="kind",
    )
    if kind == "queue":
        variant = data.draw(st.sampled_from(["new"] * 8 + ["again", "no queue", "email"]))
        queue = data.draw(st.sampled_from(sorted(model.queues)))
        channel = data.draw(st.sampled_from(CHANNELS))
        topic = data.draw(st.sampled_from(["billing", "other"]))
        last_agent = data.draw(st.sampled_from([None, None, None, *AGENTS, UNKNOWN_AGENT]))
        iid = next_id if variant != "again" else data.draw(some_interaction)
        if variant == "no queue":
            queue = "nope"
        if variant == "email":
            channel = EMAIL
        priority = data.draw(st.integers(0, 2))
        return InteractionQueued(
            iid, queue, channel, priority, model.now, {"topic": topic}, last_agent
        )
    if kind == "agent":
        agent_id = data.draw(st.sampled_from(AGENTS))
        state = data.draw(
            st.sampled_from([Presence.AVAILABLE] * 3 + [Presence.AWAY, Presence.OFFLINE])
        )
        # Capacity is fixed at first sight; later changes repeat it or send none.
        if agent_id in model.agents:
            capacity = data.draw(st.sampled_from([{}, model.agents[agent_id].capacity]))
        else:
            capacity = {WEB: data.draw(st.integers(0, 2)), VOICE: data.draw(st.integers(0, 1))}
        skills = data.draw(
            st.none()
            | st.fixed_dictionaries({"billing": st.integers(0, 3), "lang": st.integers(0, 2)})
        )
        if agent_id not in model.agents and skills is None:
            skills = {"billing": 1, "lang": 1}
        reason = "lunch" if state is Presence.AWAY else None
        return AgentStateChanged(agent_id, state, capacity, skills, reason)
    if kind in ("accept", "decline") and offered:
        i, agent_id = data.draw(st.sampled_from(offered))
        return OfferAccepted(i, agent_id) if kind == "accept" else OfferDeclined(i, agent_id)
    if kind in ("close", "wrap_up_end") and held:
        i, holder = data.draw(st.sampled_from(held))
        assert holder is not None
        return AgentClosed(i, holder) if kind == "close" else WrapUpFinished(i, holder)
    if kind == "leave":
        return CustomerLeft(data.draw(some_interaction))
    if kind == "transfer" and (open_held or held):
        i, holder = data.draw(st.sampled_from(open_held or held))
        assert holder is not None
        to = data.draw(st.sampled_from([*["queue"] * 4, *["agent"] * 4, "both", "neither"]))
        to_queue = data.draw(st.sampled_from([*sorted(model.queues) * 3, "nope"]))
        channel = model.items[i].channel
        free = [a for a in model.agents if a != holder and model.can_take(a, channel)]
        pick_free = bool(free) and data.draw(st.integers(0, 3)) > 0
        to_agent = data.draw(st.sampled_from(free) if pick_free else some_agent)
        return InteractionTransferred(
            i,
            holder if data.draw(st.integers(0, 19)) else data.draw(some_agent),
            to_queue if to in ("queue", "both") else None,
            to_agent if to in ("agent", "both") else None,
        )
    if kind == "random":
        makers: list[Callable[[int, int], Event]] = [
            OfferAccepted,
            OfferDeclined,
            AgentClosed,
            WrapUpFinished,
        ]
        make = data.draw(st.sampled_from(makers))
        return make(data.draw(some_interaction), data.draw(some_agent))
    return Tick()


def handle_and_check(engine: Engine, model: Model, event: Event) -> bool:
    """Handle one event; check legality, the commands and the invariants. True if accepted."""
    legal = model.is_legal(event)
    ids = [*sorted(model.items), 999]
    before = snapshot(engine, ids)
    try:
        commands = engine.handle(event, model.now)
    except HubError:
        assert not legal, f"legal event refused: {event!r}"
        assert snapshot(engine, ids) == before, f"changed by refused {event!r}"
        return False
    assert legal, f"illegal event accepted: {event!r}"
    model.sent(event)
    model.received(commands)
    check_invariants(engine, model)
    if isinstance(event, Tick):
        check_after_tick(model)
    return True


@PROPERTY_SETTINGS
@given(
    data=st.data(),
    steps=st.integers(1, 40),
    sales_strategy=st.sampled_from(SALES_STRATEGIES),
    seed=st.integers(0, 2**16),
)
def test_engine_v2_invariants_hold_over_random_event_sequences(
    data: st.DataObject, steps: int, sales_strategy: str, seed: int
) -> None:
    queues = make_queues(sales_strategy)
    engine = Engine(
        queues,
        rules=compile_rules(RAW_RULES, queues),
        policy=POLICY,
        rng=random.Random(seed),
    )
    model = Model(queues)
    next_id = 1
    for agent_id in AGENTS:  # most examples start with a team at work
        if data.draw(st.integers(0, 3)):
            capacity = {WEB: data.draw(st.integers(1, 2)), VOICE: data.draw(st.integers(0, 1))}
            skills = {"billing": data.draw(st.integers(0, 3)), "lang": data.draw(st.integers(0, 2))}
            joined = AgentStateChanged(agent_id, Presence.AVAILABLE, capacity, skills)
            handle_and_check(engine, model, joined)

    for _ in range(steps):
        model.now += timedelta(seconds=data.draw(st.sampled_from([0, 0, 1, 2, 3, 5, 8, 15, 30])))
        handle_and_check(engine, model, Tick())  # the runner ticks before every event
        event = draw_event(data, model, next_id)
        accepted = handle_and_check(engine, model, event)
        if accepted and isinstance(event, InteractionQueued) and event.interaction_id == next_id:
            next_id += 1
