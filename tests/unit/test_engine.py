"""The routing engine, driven with events and a fake ``now``: who is offered what, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from hub.errors import HubError, IllegalTransition, InvalidInput, NotFound
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
    InteractionHeld,
    InteractionQueued,
    OfferAccepted,
    OfferDeclined,
    Tick,
    WrapUpFinished,
)

C = TypeVar("C")

WEB = Channel.WEBCHAT
EMAIL = Channel.EMAIL
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

SUPPORT = Queue("support", frozenset({WEB}), offer_timeout_s=20.0, wrap_up_s=15.0)
SALES = Queue("sales", frozenset({WEB, EMAIL}), offer_timeout_s=30.0, wrap_up_s=0.0)
QUEUES = {"support": SUPPORT, "sales": SALES}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def of(commands: list[Command], kind: type[C]) -> list[C]:
    return [c for c in commands if isinstance(c, kind)]


def routing(commands: list[Command]) -> list[Command]:
    """The commands that move interactions (positions and agent reports left out)."""
    return [c for c in commands if not isinstance(c, AnnouncePosition | ReportAgentState)]


def join(
    engine: Engine,
    agent_id: int,
    now: datetime,
    *,
    web: int = 1,
    email: int = 0,
    state: Presence = Presence.AVAILABLE,
) -> list[Command]:
    return engine.handle(AgentStateChanged(agent_id, state, {WEB: web, EMAIL: email}), now)


def enqueue(
    engine: Engine,
    interaction_id: int,
    now: datetime,
    *,
    queue: str = "support",
    channel: Channel = WEB,
    priority: int = 0,
    queued_at: datetime | None = None,
) -> list[Command]:
    event = InteractionQueued(interaction_id, queue, channel, priority, queued_at or now)
    return engine.handle(event, now)


def snapshot(engine: Engine, ids: range = range(1, 20)) -> tuple[Any, ...]:
    """Everything a caller can observe about the engine's state."""
    agents = [a.agent_id for a in engine.agent_stats()]
    return (
        engine.queue_stats(),
        engine.agent_stats(),
        engine.next_deadline(),
        {a: engine.offers_for(a) for a in agents},
        {i: engine.position(i) for i in ids},
    )


# ---------------------------------------------------------------- choosing the agent


def test_engine_offers_to_longest_idle_available_agent() -> None:
    engine = Engine(QUEUES)
    join(engine, 3, at(0))
    join(engine, 1, at(1))
    join(engine, 2, at(2))

    commands = enqueue(engine, 10, at(5))

    assert routing(commands) == [OfferInteraction(10, 3, at(25), 20.0)]


def test_engine_rotates_offers_fairly_between_agents() -> None:
    engine = Engine(QUEUES)
    for agent_id, t in ((1, 0), (2, 1), (3, 2)):
        join(engine, agent_id, at(t), web=2)

    offered_to = [
        of(enqueue(engine, i, at(10 + i)), OfferInteraction)[0].agent_id for i in range(6)
    ]

    assert offered_to == [1, 2, 3, 1, 2, 3]


@pytest.mark.parametrize(
    ("first_agent", "why_skipped"),
    [
        ({"state": Presence.AWAY}, "away"),
        ({"state": Presence.OFFLINE}, "offline"),
        ({"web": 0}, "no webchat capacity"),
        ({"web": 0, "email": 3}, "only takes email"),
    ],
)
def test_engine_skips_agents_who_cannot_take_the_contact(
    first_agent: dict[str, Any], why_skipped: str
) -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), **first_agent)  # idle longest, but cannot take it
    join(engine, 2, at(1))

    commands = enqueue(engine, 10, at(2))

    assert [(c.interaction_id, c.agent_id) for c in of(commands, OfferInteraction)] == [(10, 2)], (
        why_skipped
    )


def test_engine_offer_expiry_follows_the_queue_timeout() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=2, email=1)

    support = of(enqueue(engine, 10, at(1)), OfferInteraction)
    sales = of(enqueue(engine, 11, at(2), queue="sales", channel=EMAIL), OfferInteraction)

    assert support == [OfferInteraction(10, 1, at(21), 20.0)]
    assert sales == [OfferInteraction(11, 1, at(32), 30.0)]
    assert engine.offers_for(1) == [(10, at(21)), (11, at(32))]


def test_engine_waits_when_no_agent_is_available() -> None:
    engine = Engine(QUEUES)
    commands = enqueue(engine, 10, at(0))

    assert of(commands, OfferInteraction) == []
    [stats] = [s for s in engine.queue_stats() if s.name == "support"]
    assert (stats.waiting, stats.offered, stats.oldest_queued_at) == (1, 0, at(0))

    commands = join(engine, 1, at(7))
    assert routing(commands) == [OfferInteraction(10, 1, at(27), 20.0)]


# ---------------------------------------------------------------- order of the queue


@pytest.mark.parametrize(
    ("waiting", "expected_order"),
    [
        # (interaction_id, priority, queued at second)
        ([(1, 0, 3), (2, 0, 1), (3, 0, 2)], [2, 3, 1]),  # oldest first
        ([(1, 0, 1), (2, 5, 3), (3, 1, 2)], [2, 3, 1]),  # highest priority first
        ([(1, 2, 5), (2, 2, 1), (3, 9, 9)], [3, 2, 1]),  # priority, then age
        ([(7, 0, 1), (4, 0, 1), (5, 0, 1)], [4, 5, 7]),  # same priority and age: by id
        ([(1, -1, 0), (2, 0, 5)], [2, 1]),  # negative priority goes last
    ],
)
def test_engine_offers_by_priority_then_age_then_id(
    waiting: list[tuple[int, int, int]], expected_order: list[int]
) -> None:
    engine = Engine(QUEUES)
    for interaction_id, priority, queued_s in waiting:
        enqueue(engine, interaction_id, at(20), priority=priority, queued_at=at(queued_s))

    commands = join(engine, 1, at(30), web=len(waiting))

    assert [c.interaction_id for c in of(commands, OfferInteraction)] == expected_order
    assert [engine.position(i) for i in expected_order] == list(range(1, len(waiting) + 1))


def test_engine_gives_the_only_free_slot_to_the_highest_priority_contact() -> None:
    engine = Engine(QUEUES)
    enqueue(engine, 1, at(0), priority=0)
    enqueue(engine, 2, at(5), priority=3)

    commands = join(engine, 1, at(10), web=1)

    assert [c.interaction_id for c in of(commands, OfferInteraction)] == [2]


# ---------------------------------------------------------------- capacity


def test_engine_never_offers_beyond_capacity() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=2)
    for i in (1, 2, 3):
        enqueue(engine, i, at(i))

    assert sorted(i for i, _ in engine.offers_for(1)) == [1, 2]
    [stats] = [s for s in engine.queue_stats() if s.name == "support"]
    assert (stats.waiting, stats.offered) == (3, 2)
    agent = engine.agent(1)
    assert agent is not None
    assert agent.load[WEB] == 2 == agent.capacity[WEB]


def test_engine_counts_capacity_per_channel() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=1, email=1)

    enqueue(engine, 1, at(1), queue="sales", channel=WEB)
    enqueue(engine, 2, at(2), queue="sales", channel=WEB)
    enqueue(engine, 3, at(3), queue="sales", channel=EMAIL)

    assert [i for i, _ in engine.offers_for(1)] == [1, 3]
    agent = engine.agent(1)
    assert agent is not None
    assert dict(agent.load) == {WEB: 1, EMAIL: 1}


def test_engine_counts_assigned_interactions_against_capacity() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=1)
    enqueue(engine, 1, at(1))
    engine.handle(OfferAccepted(1, 1), at(2))

    commands = enqueue(engine, 2, at(3))

    assert of(commands, OfferInteraction) == []
    assert engine.offers_for(1) == []


def test_engine_counts_held_interactions_from_startup_against_capacity() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=1)
    join(engine, 2, at(1), web=1)
    engine.handle(InteractionHeld(50, 1, "support", WEB), at(2))

    commands = enqueue(engine, 1, at(3))

    assert [c.agent_id for c in of(commands, OfferInteraction)] == [2]


def test_engine_lowering_capacity_withdraws_excess_offers() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=2)
    enqueue(engine, 1, at(1))
    enqueue(engine, 2, at(2))

    engine.handle(AgentStateChanged(1, Presence.AVAILABLE, {WEB: 1, EMAIL: 0}), at(3))

    agent = engine.agent(1)
    assert agent is not None
    assert agent.load[WEB] <= agent.capacity[WEB]


def test_engine_reports_agent_when_capacity_changes() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=2)

    commands = engine.handle(AgentStateChanged(1, Presence.AVAILABLE, {WEB: 4, EMAIL: 0}), at(1))

    assert [dict(c.capacity) for c in of(commands, ReportAgentState)] == [{WEB: 4, EMAIL: 0}]


# ---------------------------------------------------------------- decline


def test_engine_decline_offers_to_the_next_agent() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    join(engine, 2, at(1))
    enqueue(engine, 10, at(2))

    commands = engine.handle(OfferDeclined(10, 1), at(3))

    assert routing(commands) == [
        WithdrawOffer(10, 1, "declined"),
        OfferInteraction(10, 2, at(23), 20.0),
    ]


def test_engine_never_reoffers_to_an_agent_who_declined() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    join(engine, 2, at(1))
    enqueue(engine, 10, at(2))
    engine.handle(OfferDeclined(10, 1), at(3))
    engine.handle(OfferDeclined(10, 2), at(4))

    # Neither agent gets it back: not on the next tick, nor after going away and back.
    later = [
        *engine.handle(Tick(), at(60)),
        *join(engine, 1, at(61), state=Presence.AWAY),
        *join(engine, 1, at(62)),
        *engine.handle(Tick(), at(63)),
    ]

    assert of(later, OfferInteraction) == []
    [stats] = [s for s in engine.queue_stats() if s.name == "support"]
    assert (stats.waiting, stats.offered) == (1, 0)

    commands = join(engine, 3, at(64))
    assert [(c.interaction_id, c.agent_id) for c in of(commands, OfferInteraction)] == [(10, 3)]


def test_engine_decliner_still_gets_other_contacts() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    enqueue(engine, 10, at(1))
    engine.handle(OfferDeclined(10, 1), at(2))

    commands = enqueue(engine, 11, at(3))

    assert [(c.interaction_id, c.agent_id) for c in of(commands, OfferInteraction)] == [(11, 1)]


# ---------------------------------------------------------------- expiry


@pytest.mark.parametrize(
    ("tick_at", "expired"),
    [
        (at(21) - timedelta(microseconds=1), False),
        (at(21), True),
        (at(50), True),
    ],
)
def test_engine_expires_offers_on_tick_at_or_after_expiry(tick_at: datetime, expired: bool) -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    join(engine, 2, at(0.5))
    enqueue(engine, 10, at(1))  # offered to 1 until at(21)

    commands = engine.handle(Tick(), tick_at)

    if expired:
        assert routing(commands) == [
            WithdrawOffer(10, 1, "expired"),
            OfferInteraction(10, 2, tick_at + timedelta(seconds=20), 20.0),
        ]
        assert engine.offers_for(1) == []
    else:
        assert routing(commands) == []
        assert engine.offers_for(1) == [(10, at(21))]


def test_engine_moves_the_agent_who_let_an_offer_expire_to_the_back() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=2)
    join(engine, 2, at(1), web=2)
    enqueue(engine, 10, at(2))  # to 1, the longest idle
    enqueue(engine, 11, at(3))  # to 2
    engine.handle(OfferAccepted(11, 2), at(4))

    # Agent 1 got its last offer before agent 2, but let it expire: 2 is now first in line.
    commands = engine.handle(Tick(), at(22))

    assert routing(commands) == [
        WithdrawOffer(10, 1, "expired"),
        OfferInteraction(10, 2, at(42), 20.0),
    ]


def test_engine_next_deadline_is_the_earliest_offer_expiry_or_wrap_up_end() -> None:
    engine = Engine(QUEUES)
    assert engine.next_deadline() is None

    join(engine, 1, at(0), web=2)
    enqueue(engine, 10, at(1))  # offer expires at(21)
    assert engine.next_deadline() == at(21)

    engine.handle(OfferAccepted(10, 1), at(2))
    assert engine.next_deadline() is None

    engine.handle(AgentClosed(10, 1), at(3))  # wrap-up until at(18)
    enqueue(engine, 11, at(4))  # offer expires at(24)
    assert engine.next_deadline() == at(18)

    engine.handle(Tick(), at(18))
    assert engine.next_deadline() == at(24)


# ---------------------------------------------------------------- accept, and illegal events


def test_engine_accept_assigns_the_interaction() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    enqueue(engine, 10, at(1))

    commands = engine.handle(OfferAccepted(10, 1), at(2))

    assert routing(commands) == [AssignInteraction(10, 1)]
    [stats] = [s for s in engine.queue_stats() if s.name == "support"]
    assert (stats.waiting, stats.offered, stats.assigned) == (0, 0, 1)
    assert engine.position(10) is None
    assert engine.next_deadline() is None


def _busy_engine() -> Engine:
    """1 offered to agent 1 (until at(23)); 2 assigned to agent 2; 3 in wrap-up with agent 3
    (until at(19)); 4 waiting unoffered. Every agent has a webchat capacity of 1."""
    engine = Engine(QUEUES)
    for agent_id in (1, 2, 3):
        join(engine, agent_id, at(agent_id - 1))
    for interaction_id in (1, 2, 3, 4):
        enqueue(engine, interaction_id, at(3))
    engine.handle(OfferAccepted(2, 2), at(4))
    engine.handle(OfferAccepted(3, 3), at(4))
    engine.handle(AgentClosed(3, 3), at(4))
    assert engine.offers_for(1) == [(1, at(23))]
    return engine


@pytest.mark.parametrize(
    ("event", "now", "error"),
    [
        pytest.param(OfferAccepted(1, 1), at(23), IllegalTransition, id="accept-at-expiry"),
        pytest.param(OfferAccepted(1, 1), at(40), IllegalTransition, id="accept-after-expiry"),
        pytest.param(OfferAccepted(1, 2), at(5), IllegalTransition, id="accept-wrong-agent"),
        pytest.param(OfferAccepted(2, 2), at(5), IllegalTransition, id="accept-twice"),
        pytest.param(OfferAccepted(4, 1), at(5), IllegalTransition, id="accept-not-offered"),
        pytest.param(OfferAccepted(99, 1), at(5), IllegalTransition, id="accept-unknown"),
        pytest.param(OfferDeclined(1, 2), at(5), IllegalTransition, id="decline-wrong-agent"),
        pytest.param(OfferDeclined(2, 2), at(5), IllegalTransition, id="decline-assigned"),
        pytest.param(AgentClosed(1, 1), at(5), IllegalTransition, id="close-only-offered"),
        pytest.param(AgentClosed(2, 1), at(5), IllegalTransition, id="close-wrong-agent"),
        pytest.param(AgentClosed(3, 3), at(5), IllegalTransition, id="close-twice"),
        pytest.param(CustomerLeft(3), at(5), IllegalTransition, id="leave-in-wrap-up"),
        pytest.param(CustomerLeft(99), at(5), IllegalTransition, id="leave-unknown"),
        pytest.param(WrapUpFinished(2, 2), at(5), IllegalTransition, id="end-not-in-wrap-up"),
        pytest.param(WrapUpFinished(3, 1), at(5), IllegalTransition, id="end-wrong-agent"),
        pytest.param(WrapUpFinished(4, 1), at(5), IllegalTransition, id="end-waiting"),
        pytest.param(
            InteractionQueued(4, "support", WEB, 0, at(5)),
            at(5),
            IllegalTransition,
            id="queue-waiting-twice",
        ),
        pytest.param(
            InteractionQueued(2, "support", WEB, 0, at(5)),
            at(5),
            IllegalTransition,
            id="queue-assigned-again",
        ),
        pytest.param(
            InteractionQueued(5, "billing", WEB, 0, at(5)),
            at(5),
            InvalidInput,
            id="queue-unknown-queue",
        ),
        pytest.param(
            InteractionQueued(5, "support", EMAIL, 0, at(5)),
            at(5),
            InvalidInput,
            id="queue-wrong-channel",
        ),
        pytest.param(
            InteractionHeld(1, 1, "support", WEB), at(5), IllegalTransition, id="held-offered"
        ),
        pytest.param(
            InteractionHeld(5, 99, "support", WEB), at(5), NotFound, id="held-unknown-agent"
        ),
    ],
)
def test_engine_illegal_event_raises_and_changes_nothing(
    event: Event, now: datetime, error: type[HubError]
) -> None:
    engine = _busy_engine()
    before = snapshot(engine)

    with pytest.raises(error):
        engine.handle(event, now)

    assert snapshot(engine) == before
    # The engine still works: the offer to agent 1 can still be accepted while it stands.
    assert routing(engine.handle(OfferAccepted(1, 1), at(6))) == [AssignInteraction(1, 1)]


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (OfferAccepted(99, 1), "conflict"),
        (InteractionQueued(5, "billing", WEB, 0, at(5)), "invalid_input"),
        (InteractionHeld(5, 99, "support", WEB), "not_found"),
    ],
)
def test_engine_errors_carry_a_stable_code(event: Event, code: str) -> None:
    engine = _busy_engine()

    with pytest.raises(HubError) as caught:
        engine.handle(event, at(5))

    assert caught.value.code == code


def test_engine_held_interaction_in_unknown_queue_never_crashes_the_engine() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    try:
        engine.handle(InteractionHeld(7, 1, "retired-queue", WEB), at(1))
    except InvalidInput:
        return  # refused up front: acceptable
    try:
        engine.handle(AgentClosed(7, 1), at(2))
    except HubError:
        pass  # refused with a hub error: acceptable; a KeyError is not


# ---------------------------------------------------------------- presence


@pytest.mark.parametrize(
    ("state", "reason"),
    [(Presence.AWAY, "agent_away"), (Presence.OFFLINE, "agent_offline")],
)
def test_engine_agent_leaving_withdraws_offers_and_reoffers(state: Presence, reason: str) -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), web=2)
    join(engine, 2, at(1), web=2)
    enqueue(engine, 10, at(2))  # to 1
    enqueue(engine, 11, at(2))  # to 2
    enqueue(engine, 12, at(2))  # to 1

    commands = join(engine, 1, at(5), web=2, state=state)

    assert routing(commands) == [
        WithdrawOffer(10, 1, reason),
        WithdrawOffer(12, 1, reason),
        OfferInteraction(10, 2, at(25), 20.0),
    ]
    assert engine.offers_for(1) == []
    agent = engine.agent(1)
    assert agent is not None
    assert (agent.state, agent.state_since) == (state, at(5))


def test_engine_keeps_held_interactions_when_the_agent_goes_offline() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    join(engine, 2, at(1))
    enqueue(engine, 10, at(2))
    engine.handle(OfferAccepted(10, 1), at(3))

    commands = join(engine, 1, at(4), state=Presence.OFFLINE)

    assert routing(commands) == []
    [stats] = [s for s in engine.queue_stats() if s.name == "support"]
    assert stats.assigned == 1
    agent = engine.agent(1)
    assert agent is not None
    assert agent.load[WEB] == 1
    # The agent can still close it when they come back.
    join(engine, 1, at(5))
    assert routing(engine.handle(AgentClosed(10, 1), at(6))) == [
        StartWrapUp(10, 1, at(21), "agent")
    ]


def test_engine_agent_coming_back_takes_the_backlog() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0), state=Presence.AWAY)
    enqueue(engine, 10, at(1))

    commands = join(engine, 1, at(2))

    assert routing(commands) == [OfferInteraction(10, 1, at(22), 20.0)]


# ---------------------------------------------------------------- customer leaves


def test_engine_customer_leaving_while_waiting_abandons() -> None:
    engine = Engine(QUEUES)
    enqueue(engine, 10, at(0))

    commands = engine.handle(CustomerLeft(10), at(1))

    assert routing(commands) == [AbandonInteraction(10, None)]
    assert engine.position(10) is None
    [stats] = [s for s in engine.queue_stats() if s.name == "support"]
    assert (stats.waiting, stats.oldest_queued_at) == (0, None)


def test_engine_customer_leaving_while_offered_abandons_and_frees_the_agent() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    enqueue(engine, 10, at(1))
    enqueue(engine, 11, at(2))  # waits: agent 1 is full

    commands = engine.handle(CustomerLeft(10), at(3))

    assert routing(commands) == [
        AbandonInteraction(10, 1),
        OfferInteraction(11, 1, at(23), 20.0),
    ]
    assert engine.offers_for(1) == [(11, at(23))]


def test_engine_customer_leaving_while_assigned_starts_wrap_up() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    enqueue(engine, 10, at(1))
    engine.handle(OfferAccepted(10, 1), at(2))

    commands = engine.handle(CustomerLeft(10), at(3))

    assert routing(commands) == [StartWrapUp(10, 1, at(18), "customer")]
    assert engine.next_deadline() == at(18)


# ---------------------------------------------------------------- wrap-up


def _assigned(queue: str = "support") -> Engine:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    enqueue(engine, 10, at(1), queue=queue)
    engine.handle(OfferAccepted(10, 1), at(2))
    return engine


def test_engine_agent_close_starts_wrap_up_for_the_queue_duration() -> None:
    engine = _assigned()

    commands = engine.handle(AgentClosed(10, 1), at(10))

    assert routing(commands) == [StartWrapUp(10, 1, at(25), "agent")]
    assert engine.next_deadline() == at(25)


@pytest.mark.parametrize(
    ("tick_at", "ended"),
    [(at(25) - timedelta(microseconds=1), False), (at(25), True), (at(99), True)],
)
def test_engine_ends_wrap_up_on_tick_at_its_end(tick_at: datetime, ended: bool) -> None:
    engine = _assigned()
    engine.handle(AgentClosed(10, 1), at(10))

    commands = engine.handle(Tick(), tick_at)

    assert routing(commands) == ([EndInteraction(10, 1)] if ended else [])


def test_engine_wrap_up_finished_ends_early() -> None:
    engine = _assigned()
    engine.handle(AgentClosed(10, 1), at(10))

    commands = engine.handle(WrapUpFinished(10, 1), at(11))

    assert routing(commands) == [EndInteraction(10, 1)]
    assert engine.next_deadline() is None
    assert routing(engine.handle(Tick(), at(25))) == []


def test_engine_zero_wrap_up_ends_at_once() -> None:
    engine = _assigned(queue="sales")

    commands = engine.handle(AgentClosed(10, 1), at(10))

    assert routing(commands) == [StartWrapUp(10, 1, at(10), "agent"), EndInteraction(10, 1)]
    assert engine.next_deadline() is None
    agent = engine.agent(1)
    assert agent is not None
    assert agent.load[WEB] == 0


def test_engine_held_wrap_up_from_startup_ends_on_tick() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    engine.handle(InteractionHeld(10, 1, "support", WEB, wrap_up_until=at(5)), at(1))

    assert engine.next_deadline() == at(5)
    assert routing(engine.handle(Tick(), at(5))) == [EndInteraction(10, 1)]


@pytest.mark.parametrize(
    "finish",
    [
        pytest.param(lambda e: e.handle(Tick(), at(25)), id="tick"),
        pytest.param(lambda e: e.handle(WrapUpFinished(10, 1), at(12)), id="wrap-up-finished"),
    ],
)
def test_engine_freed_capacity_drains_the_backlog_at_once(finish: Any) -> None:
    engine = _assigned()
    enqueue(engine, 11, at(5))  # waits: agent 1 is full
    engine.handle(AgentClosed(10, 1), at(10))
    assert engine.offers_for(1) == []  # still full during wrap-up

    commands = finish(engine)

    moves = routing(commands)
    assert moves[0] == EndInteraction(10, 1)
    assert [(c.interaction_id, c.agent_id) for c in moves[1:]] == [(11, 1)]
    assert isinstance(moves[1], OfferInteraction)


# ---------------------------------------------------------------- positions


def test_engine_announces_each_new_position_once() -> None:
    engine = Engine(QUEUES)

    assert of(enqueue(engine, 1, at(0)), AnnouncePosition) == [AnnouncePosition(1, 1)]
    assert of(enqueue(engine, 2, at(1)), AnnouncePosition) == [AnnouncePosition(2, 2)]
    assert of(enqueue(engine, 3, at(2)), AnnouncePosition) == [AnnouncePosition(3, 3)]
    # Nothing moved: nothing is re-announced.
    assert of(engine.handle(Tick(), at(3)), AnnouncePosition) == []
    assert of(join(engine, 1, at(4), state=Presence.AWAY), AnnouncePosition) == []


def test_engine_reannounces_only_positions_that_changed() -> None:
    engine = Engine(QUEUES)
    for i in (1, 2, 3):
        enqueue(engine, i, at(i))

    # A higher-priority contact jumps the line: everyone behind it moves down one.
    commands = enqueue(engine, 4, at(4), priority=5)
    assert sorted((c.interaction_id, c.position) for c in of(commands, AnnouncePosition)) == [
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 1),
    ]

    # The last one leaves: nobody else moves.
    assert of(engine.handle(CustomerLeft(3), at(5)), AnnouncePosition) == []

    # The second leaves: only the one behind it moves up.
    assert of(engine.handle(CustomerLeft(1), at(6)), AnnouncePosition) == [AnnouncePosition(2, 2)]
    assert [engine.position(i) for i in (4, 2, 1, 3)] == [1, 2, None, None]


def test_engine_positions_move_up_when_the_head_is_taken() -> None:
    engine = Engine(QUEUES)
    for i in (1, 2, 3):
        enqueue(engine, i, at(i))
    join(engine, 1, at(4))  # offered 1; still position 1 until accepted

    commands = engine.handle(OfferAccepted(1, 1), at(5))

    assert sorted((c.interaction_id, c.position) for c in of(commands, AnnouncePosition)) == [
        (2, 1),
        (3, 2),
    ]


def test_engine_counts_positions_per_queue() -> None:
    engine = Engine(QUEUES)
    enqueue(engine, 1, at(0), queue="support")
    commands = enqueue(engine, 2, at(1), queue="sales", channel=EMAIL)

    assert of(commands, AnnouncePosition) == [AnnouncePosition(2, 1)]
    assert (engine.position(1), engine.position(2)) == (1, 1)


# ---------------------------------------------------------------- agent reports and queries


def test_engine_reports_agent_load_when_it_changes() -> None:
    engine = Engine(QUEUES)
    first = join(engine, 1, at(0), web=2)
    assert [
        (c.agent_id, c.state, dict(c.load), dict(c.capacity)) for c in of(first, ReportAgentState)
    ] == [(1, Presence.AVAILABLE, {WEB: 0, EMAIL: 0}, {WEB: 2, EMAIL: 0})]

    commands = enqueue(engine, 10, at(1))
    assert [dict(c.load) for c in of(commands, ReportAgentState)] == [{WEB: 1, EMAIL: 0}]

    # No change, no report.
    assert of(engine.handle(Tick(), at(2)), ReportAgentState) == []


def test_engine_queries_for_unknown_things() -> None:
    engine = Engine(QUEUES)

    assert engine.agent(42) is None
    assert engine.offers_for(42) == []
    assert engine.position(42) is None
    assert engine.queue("sales") == SALES
    with pytest.raises(NotFound):
        engine.queue("billing")
    assert [s.name for s in engine.queue_stats()] == ["support", "sales"]


def test_engine_expired_offers_swap_agents_rather_than_return_to_the_same_one() -> None:
    engine = Engine(QUEUES)
    join(engine, 1, at(0))
    join(engine, 2, at(0))
    offered = of(enqueue(engine, 10, at(1)) + enqueue(engine, 11, at(1)), OfferInteraction)
    assert {c.interaction_id: c.agent_id for c in offered} == {10: 1, 11: 2}
    out = engine.handle(Tick(), at(21))
    again = {c.interaction_id: c.agent_id for c in of(out, OfferInteraction)}
    expired = {c.interaction_id: c.agent_id for c in of(out, WithdrawOffer)}
    assert expired == {10: 1, 11: 2}
    assert again == {10: 2, 11: 1}  # each goes to the other agent, not back
