"""Invariants of the routing engine over random event sequences (hypothesis).

A reference model is rebuilt from nothing but the commands the engine emits; after every
``handle`` the model, the engine's own queries and the invariants must all agree:

1. no interaction is ever assigned twice;
2. no interaction is lost: each one queued is exactly one of waiting / offered / held /
   ended / abandoned, and the engine's queries say the same;
3. an agent's offers + held interactions on a channel never exceed their capacity;
4. work-conserving: no available agent with free capacity on a channel while an unoffered
   interaction on that channel waits that the agent has not declined.

Events the model calls illegal must raise ``HubError`` and change nothing observable.
"""

from __future__ import annotations

from collections import Counter
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
    OfferInteraction,
    ReportAgentState,
    StartWrapUp,
    WithdrawOffer,
)
from routing.engine import Engine
from routing.events import (
    AgentClosed,
    AgentStateChanged,
    CustomerLeft,
    Event,
    InteractionQueued,
    OfferAccepted,
    OfferDeclined,
    Tick,
    WrapUpFinished,
)

WEB = Channel.WEBCHAT
EMAIL = Channel.EMAIL
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
QUEUES = {
    "support": Queue("support", frozenset({WEB}), priority=0, offer_timeout_s=20, wrap_up_s=15),
    "sales": Queue("sales", frozenset({WEB, EMAIL}), priority=2, offer_timeout_s=10, wrap_up_s=0),
}
AGENTS = (1, 2, 3)
UNKNOWN_AGENT = 9

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass
class Item:
    queue: str
    channel: Channel
    priority: int
    queued_at: datetime
    status: str = "waiting"  # waiting | offered | held | ended | abandoned
    agent_id: int | None = None  # offered to, or held by
    expires_at: datetime | None = None
    in_wrap_up: bool = False
    declined_by: set[int] = field(default_factory=set)
    assigned: int = 0


@dataclass
class Model:
    """What the outside world knows, rebuilt from events sent and commands received."""

    items: dict[int, Item] = field(default_factory=dict)
    presence: dict[int, Presence] = field(default_factory=dict)
    capacity: dict[int, dict[Channel, int]] = field(default_factory=dict)
    positions: dict[int, int] = field(default_factory=dict)
    assignments: Counter[int] = field(default_factory=Counter)

    # ------------------------------------------------------------ legality oracle
    def is_legal(self, event: Event, now: datetime) -> bool:
        item = self.items.get(getattr(event, "interaction_id", -1))
        match event:
            case Tick() | AgentStateChanged():
                return True
            case InteractionQueued():
                active = item is not None and item.status in ("waiting", "offered", "held")
                queue = QUEUES.get(event.queue)
                return not active and queue is not None and event.channel in queue.channels
            case OfferAccepted():
                return (
                    item is not None
                    and item.status == "offered"
                    and item.agent_id == event.agent_id
                    and item.expires_at is not None
                    and now < item.expires_at
                )
            case OfferDeclined():
                return (
                    item is not None
                    and item.status == "offered"
                    and item.agent_id == (event.agent_id)
                )
            case AgentClosed():
                return (
                    item is not None
                    and item.status == "held"
                    and item.agent_id == event.agent_id
                    and not item.in_wrap_up
                )
            case CustomerLeft():
                return item is not None and (
                    item.status in ("waiting", "offered")
                    or (item.status == "held" and not item.in_wrap_up)
                )
            case WrapUpFinished():
                return (
                    item is not None
                    and item.status == "held"
                    and item.agent_id == event.agent_id
                    and item.in_wrap_up
                )
        raise AssertionError(f"unexpected event {event!r}")

    # ------------------------------------------------------------ applying what happened
    def sent(self, event: Event) -> None:
        match event:
            case InteractionQueued():
                self.items[event.interaction_id] = Item(
                    event.queue, event.channel, event.priority, event.queued_at
                )
            case AgentStateChanged():
                self.presence[event.agent_id] = event.state
                if event.capacity or event.agent_id not in self.capacity:
                    self.capacity[event.agent_id] = dict(event.capacity)
            case OfferDeclined():
                self.items[event.interaction_id].declined_by.add(event.agent_id)

    def received(self, commands: list[Command]) -> None:
        for c in commands:
            match c:
                case OfferInteraction():
                    item = self.items[c.interaction_id]
                    assert item.status == "waiting", c
                    assert c.agent_id not in item.declined_by, f"re-offered to decliner: {c}"
                    item.status, item.agent_id, item.expires_at = (
                        "offered",
                        c.agent_id,
                        (c.expires_at),
                    )
                case WithdrawOffer():
                    item = self.items[c.interaction_id]
                    assert (item.status, item.agent_id) == ("offered", c.agent_id), c
                    item.status, item.agent_id, item.expires_at = "waiting", None, None
                case AssignInteraction():
                    item = self.items[c.interaction_id]
                    assert (item.status, item.agent_id) == ("offered", c.agent_id), c
                    item.status, item.expires_at = "held", None
                    self.assignments[c.interaction_id] += 1
                case StartWrapUp():
                    item = self.items[c.interaction_id]
                    assert (item.status, item.agent_id, item.in_wrap_up) == (
                        "held",
                        c.agent_id,
                        False,
                    ), c
                    item.in_wrap_up = True
                case EndInteraction():
                    item = self.items[c.interaction_id]
                    assert (item.status, item.agent_id, item.in_wrap_up) == (
                        "held",
                        c.agent_id,
                        True,
                    ), c
                    item.status = "ended"
                case AbandonInteraction():
                    item = self.items[c.interaction_id]
                    assert item.status in ("waiting", "offered"), c
                    assert item.agent_id == c.offered_to, c
                    item.status, item.agent_id = "abandoned", None
                    self.positions.pop(c.interaction_id, None)
                case AnnouncePosition():
                    self.positions[c.interaction_id] = c.position
                case ReportAgentState():
                    assert c.state is self.presence[c.agent_id], c

    # ------------------------------------------------------------ derived views
    def load(self, agent_id: int, channel: Channel) -> int:
        return sum(
            1
            for it in self.items.values()
            if it.agent_id == agent_id
            and it.channel == channel
            and it.status in ("offered", "held")
        )

    def active(self, *statuses: str) -> list[int]:
        return sorted(i for i, it in self.items.items() if it.status in statuses)


def snapshot(engine: Engine, ids: list[int]) -> tuple[Any, ...]:
    return (
        engine.queue_stats(),
        engine.agent_stats(),
        engine.next_deadline(),
        {a: engine.offers_for(a) for a in (*AGENTS, UNKNOWN_AGENT)},
        {i: engine.position(i) for i in ids},
    )


def check_invariants(engine: Engine, model: Model) -> None:
    # (1) never assigned twice
    assert all(n == 1 for n in model.assignments.values()), model.assignments

    # (2) nothing lost: every item has one status, and the engine agrees on where each is
    assert all(
        it.status in ("waiting", "offered", "held", "ended", "abandoned")
        for it in model.items.values()
    )
    for stats in engine.queue_stats():
        mine = [it for it in model.items.values() if it.queue == stats.name]
        assert stats.waiting == sum(it.status in ("waiting", "offered") for it in mine)
        assert stats.offered == sum(it.status == "offered" for it in mine)
        assert stats.assigned == sum(it.status == "held" for it in mine)
    for agent_id in AGENTS:
        expected = sorted(
            (i, it.expires_at)
            for i, it in model.items.items()
            if it.status == "offered" and it.agent_id == agent_id
        )
        assert engine.offers_for(agent_id) == expected

    # (3) capacity never exceeded, by the model's count and by the engine's own report
    for agent_id, capacity in model.capacity.items():
        for channel in (WEB, EMAIL):
            assert model.load(agent_id, channel) <= capacity.get(channel, 0), (agent_id, channel)
        stats = engine.agent(agent_id)
        assert stats is not None
        for channel, n in stats.load.items():
            assert n == model.load(agent_id, channel)

    # (4) work-conserving
    for agent_id, presence in model.presence.items():
        if presence is not Presence.AVAILABLE:
            continue
        for channel in (WEB, EMAIL):
            if model.load(agent_id, channel) >= model.capacity[agent_id].get(channel, 0):
                continue
            idle_for = [
                i
                for i, it in model.items.items()
                if it.status == "waiting"
                and it.channel == channel
                and agent_id not in it.declined_by
            ]
            assert not idle_for, f"agent {agent_id} idle on {channel} while {idle_for} wait"

    # Positions announced to customers are current: 1..n in priority / age / id order.
    for queue in QUEUES:
        waiting = sorted(
            (
                i
                for i, it in model.items.items()
                if it.queue == queue and it.status in ("waiting", "offered")
            ),
            key=lambda i: (-model.items[i].priority, model.items[i].queued_at, i),
        )
        for rank, i in enumerate(waiting, start=1):
            assert model.positions[i] == rank == engine.position(i)


@st.composite
def capacities(draw: st.DrawFn) -> dict[Channel, int]:
    return {WEB: draw(st.integers(0, 2)), EMAIL: draw(st.integers(0, 2))}


def draw_event(data: st.DataObject, model: Model, next_id: int) -> Event:
    """One event, legal or not; biased towards events about what exists now."""
    known = sorted(model.items) or [next_id]
    some_interaction = st.sampled_from([*known, next_id + 100])
    some_agent = st.sampled_from([*AGENTS, UNKNOWN_AGENT])
    offered = [(i, it.agent_id) for i, it in model.items.items() if it.status == "offered"]
    held = [(i, it.agent_id) for i, it in model.items.items() if it.status == "held"]

    kind = data.draw(
        st.sampled_from(
            [
                "queue",
                "queue",
                "agent",
                "accept",
                "accept",
                "decline",
                "tick",
                "tick",
                "close",
                "wrap_up_end",
                "leave",
                "random",
            ]
        )
    )
    if kind == "queue":
        queue = data.draw(st.sampled_from(sorted(QUEUES)))
        channel = data.draw(st.sampled_from(sorted(QUEUES[queue].channels)))
        return InteractionQueued(next_id, queue, channel, QUEUES[queue].priority, T0)
    if kind == "agent":
        agent_id = data.draw(st.sampled_from(AGENTS))
        state = data.draw(st.sampled_from(list(Presence)))
        # Capacity is fixed at first sight; later changes repeat it or send none.
        if agent_id in model.capacity:
            capacity = data.draw(st.sampled_from([{}, model.capacity[agent_id]]))
        else:
            capacity = data.draw(capacities())
        return AgentStateChanged(agent_id, state, capacity)
    if kind in ("accept", "decline") and offered:
        i, agent_id = data.draw(st.sampled_from(offered))
        assert agent_id is not None
        return OfferAccepted(i, agent_id) if kind == "accept" else OfferDeclined(i, agent_id)
    if kind in ("close", "wrap_up_end") and held:
        i, agent_id = data.draw(st.sampled_from(held))
        assert agent_id is not None
        return AgentClosed(i, agent_id) if kind == "close" else WrapUpFinished(i, agent_id)
    if kind == "leave":
        return CustomerLeft(data.draw(some_interaction))
    if kind == "random":
        make = data.draw(
            st.sampled_from([OfferAccepted, OfferDeclined, AgentClosed, WrapUpFinished])
        )
        return make(data.draw(some_interaction), data.draw(some_agent))
    return Tick()


@PROPERTY_SETTINGS
@given(data=st.data(), steps=st.integers(1, 40))
def test_engine_invariants_hold_over_random_event_sequences(
    data: st.DataObject, steps: int
) -> None:
    engine = Engine(QUEUES)
    model = Model()
    now = T0
    next_id = 1

    for _ in range(steps):
        now += timedelta(seconds=data.draw(st.sampled_from([0, 0, 1, 5, 10, 20, 30])))
        event = draw_event(data, model, next_id)
        if isinstance(event, InteractionQueued):
            event = InteractionQueued(
                event.interaction_id, event.queue, event.channel, event.priority, now
            )
        legal = model.is_legal(event, now)
        before = snapshot(engine, sorted(model.items))

        try:
            commands = engine.handle(event, now)
        except HubError:
            assert not legal, f"legal event refused: {event!r}"
            assert snapshot(engine, sorted(model.items)) == before, f"changed by {event!r}"
            continue

        assert legal, f"illegal event accepted: {event!r}"
        if isinstance(event, InteractionQueued):
            next_id += 1
        model.sent(event)
        model.received(commands)
        check_invariants(engine, model)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_engine_illegal_events_raise_and_change_nothing(data: st.DataObject) -> None:
    """Build a random busy state, then throw illegal events at it."""
    engine = Engine(QUEUES)
    model = Model()
    now = T0
    for agent_id in AGENTS:
        event = AgentStateChanged(agent_id, Presence.AVAILABLE, data.draw(capacities()))
        model.sent(event)
        model.received(engine.handle(event, now))
    for i in range(1, data.draw(st.integers(1, 6)) + 1):
        queue = data.draw(st.sampled_from(sorted(QUEUES)))
        channel = data.draw(st.sampled_from(sorted(QUEUES[queue].channels)))
        event = InteractionQueued(i, queue, channel, 0, now)
        model.sent(event)
        model.received(engine.handle(event, now))
    now += timedelta(seconds=data.draw(st.sampled_from([1, 10, 25])))  # some offers may lapse

    ids = [*sorted(model.items), 77]
    candidates: list[Event] = [
        make(i, a)
        for make in (OfferAccepted, OfferDeclined, AgentClosed, WrapUpFinished)
        for i in ids
        for a in (*AGENTS, UNKNOWN_AGENT)
    ]
    candidates += [CustomerLeft(77), InteractionQueued(1, "support", WEB, 0, now)]
    candidates += [InteractionQueued(99, "billing", WEB, 0, now)]
    candidates += [InteractionQueued(99, "support", EMAIL, 0, now)]
    illegal = [e for e in candidates if not model.is_legal(e, now)]

    for event in data.draw(st.lists(st.sampled_from(illegal), min_size=1, max_size=10)):
        before = snapshot(engine, ids)
        try:
            engine.handle(event, now)
        except HubError:
            pass
        else:
            raise AssertionError(f"illegal event accepted: {event!r}")
        assert snapshot(engine, ids) == before, f"changed by {event!r}"
