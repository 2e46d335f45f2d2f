"""The v2 routing engine (strategies, pools, rules, sticky, delays, max wait, transfers),
driven with events and a fake ``now``: who is offered what, and which commands come out."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
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
    InteractionHeld,
    InteractionQueued,
    InteractionTransferred,
    OfferAccepted,
    OfferDeclined,
    OfferUnreachable,
    Tick,
    WrapUpFinished,
)
from routing.rules import compile_rules

C = TypeVar("C")

WEB = Channel.WEBCHAT
EMAIL = Channel.EMAIL
VOICE = Channel.VOICE
AVAILABLE = Presence.AVAILABLE
AWAY = Presence.AWAY
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ALL = frozenset({WEB, EMAIL, VOICE})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def queue(name: str, **kwargs: Any) -> Queue:
    kwargs.setdefault("channels", ALL)
    kwargs.setdefault("offer_timeout_s", 20.0)
    kwargs.setdefault("wrap_up_s", 0.0)
    return Queue(name, **kwargs)


def make(
    *queues: Queue,
    rules: Sequence[Mapping[str, object]] = (),
    policy: RoutingPolicy | None = None,
    rng: random.Random | None = None,
) -> Engine:
    by_name = {q.name: q for q in queues} or {"support": queue("support")}
    return Engine(by_name, rules=compile_rules(rules, by_name), policy=policy, rng=rng)


def of(commands: list[Command], kind: type[C]) -> list[C]:
    return [c for c in commands if isinstance(c, kind)]


def routing(commands: list[Command]) -> list[Command]:
    """The commands that move interactions (positions and agent reports left out)."""
    return [c for c in commands if not isinstance(c, AnnouncePosition | ReportAgentState)]


def offered(commands: list[Command]) -> list[tuple[int, int]]:
    """(interaction_id, agent_id) of every offer made."""
    return [(c.interaction_id, c.agent_id) for c in of(commands, OfferInteraction)]


def join(
    engine: Engine,
    agent_id: int,
    now: datetime,
    *,
    web: int = 1,
    email: int = 0,
    voice: int = 0,
    skills: Mapping[str, int] | None = None,
    state: Presence = AVAILABLE,
) -> list[Command]:
    capacity = {WEB: web, EMAIL: email, VOICE: voice}
    return engine.handle(AgentStateChanged(agent_id, state, capacity, skills), now)


def set_state(engine: Engine, agent_id: int, state: Presence, now: datetime) -> list[Command]:
    return engine.handle(AgentStateChanged(agent_id, state), now)


def enqueue(
    engine: Engine,
    interaction_id: int,
    now: datetime,
    *,
    queue: str = "support",
    channel: Channel = WEB,
    priority: int = 0,
    queued_at: datetime | None = None,
    attributes: Mapping[str, object] | None = None,
    last_agent_id: int | None = None,
    sticky_s: float | None = None,
) -> list[Command]:
    event = InteractionQueued(
        interaction_id,
        queue,
        channel,
        priority,
        queued_at or now,
        dict(attributes or {}),
        last_agent_id,
        sticky_s,
    )
    return engine.handle(event, now)


def assign(engine: Engine, interaction_id: int, agent_id: int, now: datetime) -> list[Command]:
    commands = engine.handle(OfferAccepted(interaction_id, agent_id), now)
    assert AssignInteraction(interaction_id, agent_id) in commands
    return commands


def snapshot(engine: Engine, ids: Sequence[int] = range(1, 20)) -> tuple[Any, ...]:
    """Everything a caller can observe about the engine's state."""
    agents = [a.agent_id for a in engine.agent_stats()]
    return (
        engine.queue_stats(),
        engine.agent_stats(),
        engine.next_deadline(),
        {a: engine.offers_for(a) for a in agents},
        {i: (engine.position(i), engine.routed_queue(i)) for i in ids},
    )


# ================================================================ strategies


def test_strategy_longest_idle_offers_to_the_agent_idle_longest() -> None:
    engine = make(queue("support", strategy="longest_idle"))
    join(engine, 3, at(0), web=2)
    join(engine, 1, at(1), web=2)
    join(engine, 2, at(2), web=2)

    got = [offered(enqueue(engine, i, at(10 + i)))[0][1] for i in range(1, 5)]

    # An offer puts the agent at the back of the line.
    assert got == [3, 1, 2, 3]


def test_strategy_round_robin_rotates_by_agent_and_wraps_around() -> None:
    engine = make(queue("support", strategy="round_robin"))
    # Joined in the order 3, 1, 2 so that longest idle would give 3, 1, 2, ...
    for agent_id, t in ((3, 0), (1, 1), (2, 2)):
        join(engine, agent_id, at(t), web=5)

    got = [offered(enqueue(engine, i, at(10 + i)))[0][1] for i in range(1, 8)]

    assert got == [1, 2, 3, 1, 2, 3, 1]


def test_strategy_round_robin_skips_an_agent_who_cannot_take_it() -> None:
    engine = make(queue("support", strategy="round_robin"))
    for agent_id in (1, 2, 3):
        join(engine, agent_id, at(0), web=5)
    set_state(engine, 2, AWAY, at(1))

    got = [offered(enqueue(engine, i, at(10 + i)))[0][1] for i in range(1, 5)]

    assert got == [1, 3, 1, 3]


def test_strategy_least_occupied_picks_lowest_load_ratio_across_channels() -> None:
    engine = make(queue("support", strategy="least_occupied"))
    join(engine, 2, at(0), web=2)  # total capacity 2, idle longest
    join(engine, 1, at(1), web=2, email=2)  # total capacity 4

    # Both empty: tie on load, so longest idle (2); then 1 has the lower ratio.
    assert offered(enqueue(engine, 10, at(2))) == [(10, 2)]
    assert offered(enqueue(engine, 11, at(3))) == [(11, 1)]
    assign(engine, 10, 2, at(4))
    assign(engine, 11, 1, at(5))

    # 2 is at 1/2 and idle longer; 1 is at 1/4: the ratio wins over idle time.
    assert offered(enqueue(engine, 12, at(6))) == [(12, 1)]
    # Now 1 is at 2/4 (one held, one offered) and 2 at 1/2: a tie, so longest idle (2).
    assert offered(enqueue(engine, 13, at(7))) == [(13, 2)]


def test_strategy_least_occupied_counts_load_on_every_channel() -> None:
    engine = make(queue("support", strategy="least_occupied"))
    join(engine, 1, at(0), web=2, email=2)  # idle longest
    join(engine, 2, at(1), web=2, email=2)
    assert offered(enqueue(engine, 10, at(2), channel=EMAIL)) == [(10, 1)]

    # Agent 1 has an email offer (1/4), agent 2 nothing (0/4): the chat goes to 2.
    assert offered(enqueue(engine, 11, at(3))) == [(11, 2)]
    # Both at 1/4 now: longest idle since their last offer (1 at t=2).
    assert offered(enqueue(engine, 12, at(4))) == [(12, 1)]


MOST_SKILLED_RULE = [
    {
        "name": "billing",
        "targets": [{"queue": "support", "requires": "billing >= 1 and lang >= 1"}],
    }
]


@pytest.mark.parametrize(
    ("skills", "expected"),
    [
        # agent 1 idles longest, then 2, then 3
        (({"billing": 1, "lang": 1}, {"billing": 3, "lang": 1}, {"billing": 1, "lang": 2}), 2),
        (({"billing": 1, "lang": 1}, {"billing": 2, "lang": 2}, {"billing": 3, "lang": 1}), 2),
        (({"billing": 5, "lang": 5}, {"billing": 2, "lang": 2}, {"billing": 3, "lang": 9}), 3),
        (({"billing": 2, "lang": 1}, {"billing": 1, "lang": 2}, {"billing": 3, "lang": 0}), 1),
        # skills outside the requirement do not count
        (({"billing": 1, "lang": 1, "x": 9}, {"billing": 1, "lang": 2}, {"x": 20}), 2),
    ],
    ids=["highest-sum", "tie-longest-idle", "sum-of-both", "unqualified-skipped", "other-skills"],
)
def test_strategy_most_skilled_scores_the_requirement_then_longest_idle(
    skills: tuple[dict[str, int], ...], expected: int
) -> None:
    engine = make(queue("support", strategy="most_skilled"), rules=MOST_SKILLED_RULE)
    for agent_id, agent_skills in enumerate(skills, start=1):
        join(engine, agent_id, at(agent_id), skills=agent_skills)

    assert offered(enqueue(engine, 10, at(10))) == [(10, expected)]


def test_strategy_most_skilled_scores_the_queue_requirement() -> None:
    engine = make(queue("support", strategy="most_skilled", requires="billing >= 1"))
    join(engine, 1, at(0), skills={"billing": 1})  # idle longest
    join(engine, 2, at(1), skills={"billing": 5})

    assert offered(enqueue(engine, 10, at(2))) == [(10, 2)]


def _random_offers(seed: int, n: int = 40) -> list[int]:
    engine = make(queue("support", strategy="random"), rng=random.Random(seed))
    for agent_id in (1, 2, 3, 4):
        join(engine, agent_id, at(0), web=n)
    return [offered(enqueue(engine, i, at(i)))[0][1] for i in range(1, n + 1)]


def test_strategy_random_repeats_with_the_same_seed_and_spreads() -> None:
    first = _random_offers(7)

    assert first == _random_offers(7)
    assert set(first) == {1, 2, 3, 4}
    assert max(first.count(a) for a in (1, 2, 3, 4)) < 25  # no agent takes almost all
    assert any(_random_offers(seed) != first for seed in (1, 2, 3))


# ---------------------------------------------------------------- ring_all


def ring_all_engine(**policy: Any) -> Engine:
    engine = make(queue("support", strategy="ring_all"), policy=RoutingPolicy(**policy))
    for agent_id in (1, 2, 3):
        join(engine, agent_id, at(0))
    return engine


def test_ring_all_offers_to_every_eligible_agent_at_once() -> None:
    engine = make(queue("support", strategy="ring_all"))
    join(engine, 1, at(0))
    join(engine, 2, at(0), state=AWAY)
    join(engine, 3, at(0), web=0, email=1)
    join(engine, 4, at(0))

    commands = enqueue(engine, 10, at(1))

    assert routing(commands) == [
        OfferInteraction(10, 1, at(21), 20.0),
        OfferInteraction(10, 4, at(21), 20.0),
    ]
    assert engine.queue_stats()[0].offered == 1


def test_ring_all_first_accept_wins_and_the_others_are_withdrawn() -> None:
    engine = ring_all_engine()
    enqueue(engine, 10, at(1))

    commands = engine.handle(OfferAccepted(10, 2), at(2))

    assert routing(commands) == [
        WithdrawOffer(10, 1, "taken", requeue=False),
        WithdrawOffer(10, 3, "taken", requeue=False),
        AssignInteraction(10, 2),
    ]
    assert engine.offers_for(1) == engine.offers_for(3) == []


def test_ring_all_late_accept_is_refused_and_changes_nothing() -> None:
    engine = ring_all_engine()
    enqueue(engine, 10, at(1))
    engine.handle(OfferAccepted(10, 2), at(2))
    before = snapshot(engine)

    with pytest.raises(IllegalTransition):
        engine.handle(OfferAccepted(10, 1), at(3))

    assert snapshot(engine) == before


def test_ring_all_decline_by_one_leaves_the_others_offers() -> None:
    engine = ring_all_engine()
    enqueue(engine, 10, at(1))

    commands = engine.handle(OfferDeclined(10, 2), at(2))

    assert routing(commands) == [WithdrawOffer(10, 2, "declined", requeue=False)]
    assert engine.offers_for(1) == engine.offers_for(3) == [(10, at(21))]
    assert engine.offers_for(2) == []


def test_ring_all_when_all_decline_nobody_who_declined_gets_it_again() -> None:
    engine = ring_all_engine()
    enqueue(engine, 10, at(1))
    engine.handle(OfferDeclined(10, 1), at(2))
    engine.handle(OfferDeclined(10, 2), at(2))

    commands = engine.handle(OfferDeclined(10, 3), at(3))

    assert routing(commands) == [WithdrawOffer(10, 3, "declined", requeue=True)]
    assert routing(engine.handle(Tick(), at(60))) == []
    assert offered(join(engine, 4, at(61))) == [(10, 4)]


def test_ring_all_when_offers_expire_it_rings_again_but_not_the_decliner() -> None:
    engine = ring_all_engine()
    enqueue(engine, 10, at(1))
    engine.handle(OfferDeclined(10, 1), at(2))

    commands = engine.handle(Tick(), at(21))

    assert of(commands, WithdrawOffer) == [
        WithdrawOffer(10, 2, "expired", requeue=False),
        WithdrawOffer(10, 3, "expired", requeue=True),
    ]
    assert offered(commands) == [(10, 2), (10, 3)]


# ================================================================ skills


SKILL_QUEUES = (
    queue("support", requires="lang >= 1"),
    queue("other"),
)
SKILL_RULES = [
    {
        "name": "billing",
        "when": 'topic == "billing"',
        "targets": [{"queue": "support", "requires": "billing >= 2"}],
    }
]


@pytest.mark.parametrize(
    ("skills", "gets_it"),
    [
        ({"lang": 1, "billing": 2}, True),
        ({"lang": 3, "billing": 5}, True),
        ({"lang": 1, "billing": 1}, False),  # the target's requirement fails
        ({"lang": 0, "billing": 3}, False),  # the queue's requirement fails
        ({"billing": 3}, False),  # a missing skill is proficiency 0
        ({}, False),
    ],
)
def test_skills_queue_and_target_requirements_both_apply(
    skills: dict[str, int], gets_it: bool
) -> None:
    engine = make(*SKILL_QUEUES, rules=SKILL_RULES)
    join(engine, 1, at(0), skills=skills)

    commands = enqueue(engine, 10, at(1), attributes={"topic": "billing"})

    assert offered(commands) == ([(10, 1)] if gets_it else [])


def test_skills_agent_without_the_skill_is_never_offered() -> None:
    engine = make(*SKILL_QUEUES, rules=SKILL_RULES)
    join(engine, 1, at(0), web=5, skills={"lang": 1})  # idle longest, no billing
    join(engine, 2, at(1), web=5, skills={"lang": 1, "billing": 2})

    commands: list[Command] = []
    for i in range(10, 14):
        commands += enqueue(engine, i, at(i), attributes={"topic": "billing"})
    engine.handle(OfferDeclined(10, 2), at(20))
    commands += engine.handle(Tick(), at(100))

    assert {agent for _, agent in offered(commands)} == {2}
    assert engine.offers_for(1) == []


def test_skills_change_moves_the_agent_into_and_out_of_pools() -> None:
    engine = make(*SKILL_QUEUES, rules=SKILL_RULES)
    join(engine, 1, at(0), web=3, skills={"lang": 1})
    assert offered(enqueue(engine, 10, at(1), attributes={"topic": "billing"})) == []

    gained = engine.handle(AgentStateChanged(1, AVAILABLE, skills={"lang": 1, "billing": 2}), at(2))
    assert offered(gained) == [(10, 1)]
    assert engine.agent(1).skills == {"lang": 1, "billing": 2}  # type: ignore[union-attr]

    engine.handle(AgentStateChanged(1, AVAILABLE, skills={"lang": 1}), at(3))
    assert offered(enqueue(engine, 11, at(4), attributes={"topic": "billing"})) == []
    # Still in the queue's own pool (lang >= 1): a plain support contact reaches them.
    assert offered(enqueue(engine, 12, at(5))) == [(12, 1)]

    engine.handle(AgentStateChanged(1, AVAILABLE, skills={}), at(6))
    assert offered(enqueue(engine, 13, at(7))) == []


# ================================================================ cross-channel


@pytest.mark.parametrize("hold", ["offered", "assigned"])
def test_cross_channel_voice_is_exclusive(hold: str) -> None:
    engine = make()
    join(engine, 1, at(0), web=3, voice=1)
    assert offered(enqueue(engine, 10, at(1), channel=VOICE)) == [(10, 1)]
    if hold == "assigned":
        assign(engine, 10, 1, at(2))

    assert offered(enqueue(engine, 11, at(3))) == []
    assert offered(enqueue(engine, 12, at(4), channel=EMAIL)) == []

    if hold == "assigned":
        engine.handle(AgentClosed(10, 1), at(5))  # no wrap-up: ends at once
    else:
        engine.handle(OfferDeclined(10, 1), at(5))
    assert engine.offers_for(1) == [(11, at(25))]


@pytest.mark.parametrize(("voice_while_holding", "gets_call"), [(False, False), (True, True)])
def test_cross_channel_no_call_while_holding_a_chat_unless_allowed(
    voice_while_holding: bool, gets_call: bool
) -> None:
    engine = make(policy=RoutingPolicy(voice_while_holding=voice_while_holding))
    join(engine, 1, at(0), web=2, voice=1)
    enqueue(engine, 10, at(1))
    assign(engine, 10, 1, at(2))

    commands = enqueue(engine, 11, at(3), channel=VOICE)

    assert offered(commands) == ([(11, 1)] if gets_call else [])


def test_cross_channel_call_offered_once_the_chats_are_done() -> None:
    engine = make()
    join(engine, 1, at(0), web=2, voice=1)
    enqueue(engine, 10, at(1))
    assign(engine, 10, 1, at(2))
    enqueue(engine, 11, at(3), channel=VOICE)

    commands = engine.handle(AgentClosed(10, 1), at(4))

    assert routing(commands) == [
        StartWrapUp(10, 1, at(4), "agent"),
        EndInteraction(10, 1),
        OfferInteraction(11, 1, at(24), 20.0),
    ]


def test_cross_channel_capacity_is_per_channel() -> None:
    engine = make()
    join(engine, 1, at(0), web=2, email=1)

    commands: list[Command] = []
    for i, channel in enumerate((WEB, WEB, WEB, EMAIL, EMAIL), start=10):
        commands += enqueue(engine, i, at(i), channel=channel)

    assert offered(commands) == [(10, 1), (11, 1), (13, 1)]
    assert engine.agent(1).load == {WEB: 2, EMAIL: 1, VOICE: 0}  # type: ignore[union-attr]


# ================================================================ rules


RULE_QUEUES = (
    queue("support", strategy="longest_idle"),
    queue("billing", channels=frozenset({WEB, EMAIL})),
    queue("phones", channels=frozenset({VOICE})),
)


def test_rules_first_matching_rule_decides_the_targets() -> None:
    engine = make(
        *RULE_QUEUES,
        rules=[
            {"name": "vip", "when": 'tier == "vip"', "targets": [{"queue": "billing"}]},
            {"name": "all", "targets": [{"queue": "support"}]},
            {"name": "never", "when": 'tier == "vip"', "targets": [{"queue": "phones"}]},
        ],
    )

    vip = enqueue(engine, 10, at(0), attributes={"tier": "vip"})
    gold = enqueue(engine, 11, at(0), queue="billing", attributes={"tier": "gold"})

    assert routing(vip) == [MoveInteraction(10, "billing", "rule vip")]
    assert routing(gold) == [MoveInteraction(11, "support", "rule all")]
    assert engine.routed_queue(10) == "billing"
    assert engine.routed_queue(11) == "support"


def test_rules_routing_to_the_queue_it_came_in_on_emits_no_move() -> None:
    engine = make(*RULE_QUEUES, rules=[{"name": "all", "targets": [{"queue": "support"}]}])

    assert routing(enqueue(engine, 10, at(0))) == []
    assert engine.routed_queue(10) == "support"


def test_rules_entered_today_counts_the_queue_it_was_routed_to() -> None:
    engine = make(*RULE_QUEUES, rules=[{"name": "b", "targets": [{"queue": "billing"}]}])

    enqueue(engine, 10, at(0), queue="support")

    entered = {s.name: s.entered_today for s in engine.queue_stats(at(1))}
    assert entered == {"support": 0, "billing": 1, "phones": 0}


@pytest.mark.parametrize(
    ("rule_boost", "target_boost", "first"),
    [(0, 0, 10), (1, 0, 11), (0, 1, 11), (1, -1, 10), (-1, 0, 10)],
)
def test_rules_priority_boosts_change_the_order(
    rule_boost: int, target_boost: int, first: int
) -> None:
    engine = make(
        queue("support"),
        rules=[
            {
                "name": "boost",
                "when": "boost",
                "priority_boost": rule_boost,
                "targets": [{"queue": "support", "priority_boost": target_boost}],
            }
        ],
    )
    enqueue(engine, 10, at(0))  # older, no rule
    enqueue(engine, 11, at(1), attributes={"boost": True})

    commands = join(engine, 1, at(2))

    assert offered(commands) == [(first, 1)]
    assert engine.position(first) == 1


ESCALATION = [
    {
        "name": "billing",
        "when": 'topic == "billing"',
        "targets": [
            {"queue": "billing", "requires": "billing >= 3", "timeout_s": 30},
            {"queue": "billing", "requires": "billing >= 1", "timeout_s": 30},
            {"queue": "support"},
        ],
    }
]


def test_rules_escalation_within_a_queue_emits_no_move() -> None:
    engine = make(*RULE_QUEUES, rules=ESCALATION)
    join(engine, 1, at(0), skills={"billing": 1})
    assert offered(enqueue(engine, 10, at(0), attributes={"topic": "billing"})) == []
    assert engine.next_deadline() == at(30)

    assert routing(engine.handle(Tick(), at(29))) == []
    commands = engine.handle(Tick(), at(30))

    assert routing(commands) == [OfferInteraction(10, 1, at(50), 20.0)]
    assert engine.routed_queue(10) == "billing"


def test_rules_escalation_to_another_queue_emits_a_move() -> None:
    engine = make(*RULE_QUEUES, rules=ESCALATION)
    join(engine, 1, at(0), skills={})  # serves any queue, but no billing skill
    enqueue(engine, 10, at(0), attributes={"topic": "billing"})
    engine.handle(Tick(), at(30))

    commands = engine.handle(Tick(), at(60))

    assert routing(commands) == [
        MoveInteraction(10, "support", "escalated"),
        OfferInteraction(10, 1, at(80), 20.0),
    ]
    assert engine.routed_queue(10) == "support"
    assert engine.next_deadline() == at(80)  # the last target holds it for good


def test_rules_escalation_keeps_the_age() -> None:
    engine = make(*RULE_QUEUES, rules=ESCALATION)
    enqueue(engine, 10, at(0), attributes={"topic": "billing"})
    enqueue(engine, 11, at(40))  # support, newer than 10
    engine.handle(Tick(), at(30))

    engine.handle(Tick(), at(60))

    assert (engine.position(10), engine.position(11)) == (1, 2)
    assert offered(join(engine, 1, at(61))) == [(10, 1)]


def test_rules_target_on_a_queue_without_the_channel_is_skipped() -> None:
    engine = make(
        *RULE_QUEUES,
        rules=[
            {
                "name": "calls first",
                "targets": [{"queue": "phones", "timeout_s": 10}, {"queue": "billing"}],
            }
        ],
    )

    enqueue(engine, 10, at(0), queue="support", channel=WEB)
    enqueue(engine, 11, at(0), queue="support", channel=VOICE)

    assert engine.routed_queue(10) == "billing"
    assert engine.routed_queue(11) == "phones"
    join(engine, 1, at(1), web=1, voice=0)
    assert engine.offers_for(1) == [(10, at(21))]


def test_rules_replace_rules_affects_only_new_interactions() -> None:
    engine = make(*RULE_QUEUES, rules=[{"name": "a", "targets": [{"queue": "billing"}]}])
    enqueue(engine, 10, at(0))

    engine.replace_rules(
        compile_rules([{"name": "b", "targets": [{"queue": "phones"}]}], ["phones"])
    )
    enqueue(engine, 11, at(1), channel=VOICE)
    enqueue(engine, 12, at(1), channel=WEB)  # phones takes no chat: stays where it came in

    assert engine.routed_queue(10) == "billing"
    assert engine.routed_queue(11) == "phones"
    assert engine.routed_queue(12) == "support"


# ================================================================ sticky


def sticky_engine() -> Engine:
    engine = make(policy=RoutingPolicy(sticky_s=30))
    join(engine, 1, at(0))  # idles longest
    join(engine, 2, at(1))
    return engine


def test_sticky_offers_only_the_last_agent_during_the_window() -> None:
    engine = sticky_engine()

    commands = enqueue(engine, 10, at(5), last_agent_id=2)

    assert offered(commands) == [(10, 2)]


def test_sticky_away_last_agent_holds_it_until_the_window_ends() -> None:
    engine = sticky_engine()
    set_state(engine, 2, AWAY, at(2))

    assert offered(enqueue(engine, 10, at(5), last_agent_id=2)) == []
    assert engine.next_deadline() == at(35)
    assert routing(engine.handle(Tick(), at(34))) == []

    commands = engine.handle(Tick(), at(35))

    assert offered(commands) == [(10, 1)]


def test_sticky_busy_last_agent_gets_it_when_free_within_the_window() -> None:
    engine = sticky_engine()
    enqueue(engine, 9, at(2), last_agent_id=2)
    assign(engine, 9, 2, at(3))

    assert offered(enqueue(engine, 10, at(5), last_agent_id=2)) == []  # agent 1 stays idle
    commands = engine.handle(AgentClosed(9, 2), at(10))

    assert offered(commands) == [(10, 2)]


def test_sticky_agent_back_within_the_window_gets_it() -> None:
    engine = sticky_engine()
    set_state(engine, 2, AWAY, at(2))
    enqueue(engine, 10, at(5), last_agent_id=2)

    commands = set_state(engine, 2, AVAILABLE, at(20))

    assert offered(commands) == [(10, 2)]


def test_sticky_unknown_last_agent_holds_it_until_the_window_ends() -> None:
    engine = sticky_engine()

    assert offered(enqueue(engine, 10, at(5), last_agent_id=99)) == []
    assert offered(engine.handle(Tick(), at(35))) == [(10, 1)]


def test_sticky_without_a_window_in_the_policy_is_ignored() -> None:
    engine = make()
    join(engine, 1, at(0))
    join(engine, 2, at(1))

    assert offered(enqueue(engine, 10, at(5), last_agent_id=2)) == [(10, 1)]


def test_sticky_window_of_the_interaction_overrides_the_policy() -> None:
    # A follow-up waits 300 s for its owner (agent 2), though the policy's window is 30 s
    # and agent 1 has been idle longer.
    engine = sticky_engine()
    set_state(engine, 2, AWAY, at(2))

    assert offered(enqueue(engine, 10, at(5), last_agent_id=2, sticky_s=300)) == []
    assert offered(engine.handle(Tick(), at(35))) == []
    assert engine.next_deadline() == at(305)
    assert offered(engine.handle(Tick(), at(305))) == [(10, 1)]


def test_sticky_window_of_the_interaction_applies_without_a_policy_window() -> None:
    engine = make()  # no sticky window in the policy: returning customers are not held
    join(engine, 1, at(0))
    join(engine, 2, at(1))

    assert offered(enqueue(engine, 10, at(5), last_agent_id=2, sticky_s=60)) == [(10, 2)]
    assert offered(enqueue(engine, 11, at(6), last_agent_id=2)) == [(11, 1)]


def test_sticky_owner_who_lets_the_offer_expire_keeps_it_until_the_window_ends() -> None:
    engine = sticky_engine()  # offers expire after 20 s
    assert offered(enqueue(engine, 10, at(5), last_agent_id=2, sticky_s=60)) == [(10, 2)]

    # Expired: offered to the owner again, never to agent 1 who idles longer.
    assert offered(engine.handle(Tick(), at(25))) == [(10, 2)]
    commands = engine.handle(Tick(), at(65))

    assert offered(commands) == [(10, 1)]


# ================================================================ delays


def test_delay_after_decline_keeps_the_agent_out_until_it_ends() -> None:
    engine = make(policy=RoutingPolicy(decline_delay_s=5))
    join(engine, 1, at(0), web=2)
    enqueue(engine, 10, at(1))
    engine.handle(OfferDeclined(10, 1), at(2))

    assert offered(enqueue(engine, 11, at(3))) == []
    assert engine.next_deadline() == at(7)
    assert routing(engine.handle(Tick(), at(6))) == []

    commands = engine.handle(Tick(), at(7))

    assert offered(commands) == [(11, 1)]  # never 10: they declined it


def test_delay_after_no_answer_keeps_the_agent_out_until_it_ends() -> None:
    engine = make(policy=RoutingPolicy(no_answer_delay_s=3))
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))

    commands = engine.handle(Tick(), at(20))

    assert routing(commands) == [WithdrawOffer(10, 1, "expired", requeue=True)]
    assert engine.next_deadline() == at(23)
    assert offered(engine.handle(Tick(), at(23))) == [(10, 1)]


def test_delay_zero_reoffers_at_once_preferring_another_agent() -> None:
    engine = make()
    join(engine, 1, at(0))
    join(engine, 2, at(1), state=AWAY)
    enqueue(engine, 10, at(2))
    set_state(engine, 2, AVAILABLE, at(3))

    commands = engine.handle(Tick(), at(22))

    assert offered(commands) == [(10, 2)]


def test_delay_ends_early_when_the_agent_sets_themself_available_again() -> None:
    engine = make(policy=RoutingPolicy(decline_delay_s=60))
    join(engine, 1, at(0))
    enqueue(engine, 10, at(1))
    engine.handle(OfferDeclined(10, 1), at(2))
    enqueue(engine, 11, at(3))
    set_state(engine, 1, AWAY, at(4))

    commands = set_state(engine, 1, AVAILABLE, at(5))

    assert offered(commands) == [(11, 1)]


# ================================================================ missed offers


def test_missed_offers_set_the_agent_away_and_withdraw_their_offers() -> None:
    engine = make(policy=RoutingPolicy(missed_offers_before_away=2))
    join(engine, 1, at(0), web=3)
    for i, t in ((10, 0), (11, 10), (12, 15)):
        enqueue(engine, i, at(t))
    engine.handle(Tick(), at(20))  # 10 missed (1), offered to them again at once

    commands = engine.handle(Tick(), at(30))  # 11 missed (2)

    assert routing(commands) == [
        WithdrawOffer(11, 1, "expired", requeue=True),
        WithdrawOffer(10, 1, "agent_away", requeue=True),
        WithdrawOffer(12, 1, "agent_away", requeue=True),
        SetAgentAway(1, "missed_offers"),
    ]
    stats = engine.agent(1)
    assert stats is not None
    assert (stats.state, stats.reason, stats.state_since) == (AWAY, "missed_offers", at(30))
    assert (
        ReportAgentState(
            1,
            AWAY,
            {WEB: 0, EMAIL: 0, VOICE: 0},
            {WEB: 3, EMAIL: 0, VOICE: 0},
            at(30),
            "missed_offers",
        )
        in commands
    )
    assert engine.offers_for(1) == []


def test_missed_offers_count_resets_on_accept() -> None:
    engine = make(policy=RoutingPolicy(missed_offers_before_away=2))
    join(engine, 1, at(0), web=3)
    enqueue(engine, 10, at(0))
    enqueue(engine, 11, at(1))
    engine.handle(Tick(), at(20))  # 10 missed (1), re-offered at once
    assign(engine, 11, 1, at(20))  # back to 0

    commands = engine.handle(Tick(), at(40))  # 10 missed again (1)

    assert of(commands, SetAgentAway) == []
    assert engine.agent(1).state is AVAILABLE  # type: ignore[union-attr]
    assert offered(commands) == [(10, 1)]


def test_missed_offers_zero_never_sets_away() -> None:
    engine = make()
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))

    commands = [c for t in range(20, 200, 20) for c in engine.handle(Tick(), at(t))]

    assert of(commands, SetAgentAway) == []
    assert len(of(commands, OfferInteraction)) == 9


# ================================================================ max wait


MAX_WAIT_QUEUES = (
    queue(
        "sales",
        requires="sales >= 1",
        max_wait_s=60,
        on_max_wait="overflow",
        overflow_queue="support",
    ),
    queue("support", requires="support >= 1"),
)


def test_max_wait_overflow_moves_it_and_the_overflow_agents_get_it() -> None:
    engine = make(*MAX_WAIT_QUEUES)
    join(engine, 2, at(0), skills={"support": 1})
    assert offered(enqueue(engine, 10, at(0), queue="sales")) == []
    assert engine.next_deadline() == at(60)
    assert routing(engine.handle(Tick(), at(59))) == []

    commands = engine.handle(Tick(), at(60))

    assert routing(commands) == [
        MoveInteraction(10, "support", "overflow"),
        OfferInteraction(10, 2, at(80), 20.0),
    ]
    assert engine.routed_queue(10) == "support"


def test_max_wait_counts_from_when_it_was_queued() -> None:
    engine = make(*MAX_WAIT_QUEUES)
    enqueue(engine, 10, at(10), queue="sales", queued_at=at(0))

    assert engine.next_deadline() == at(60)
    assert of(engine.handle(Tick(), at(60)), MoveInteraction) == [
        MoveInteraction(10, "support", "overflow")
    ]


@pytest.mark.parametrize("action", ["callback", "voicemail"])
def test_max_wait_other_actions_are_reported_once(action: str) -> None:
    engine = make(queue("support", max_wait_s=60, on_max_wait=action))
    enqueue(engine, 10, at(0))

    first = engine.handle(Tick(), at(60))
    later = engine.handle(Tick(), at(600))

    assert routing(first) == [MaxWaitReached(10, action)]
    assert routing(later) == []
    assert engine.routed_queue(10) == "support"  # still waiting, still offered when possible
    assert offered(join(engine, 1, at(601))) == [(10, 1)]


def test_max_wait_not_reached_once_answered() -> None:
    engine = make(queue("support", max_wait_s=60, on_max_wait="callback"))
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))
    assign(engine, 10, 1, at(5))

    assert routing(engine.handle(Tick(), at(60))) == []


def test_max_wait_not_reached_after_transfer_to_a_queue_without_max_wait() -> None:
    engine = make(
        queue("a", max_wait_s=60, on_max_wait="callback"),
        queue("b"),
    )
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0), queue="a")
    assign(engine, 10, 1, at(1))
    engine.handle(InteractionTransferred(10, 1, to_queue="b"), at(5))

    commands = engine.handle(Tick(), at(60))

    assert of(commands, MaxWaitReached) == []


def test_max_wait_after_escalation_never_reports_overflow_as_an_outside_action() -> None:
    engine = make(
        queue("a", max_wait_s=60, on_max_wait="overflow", overflow_queue="c"),
        queue("b"),
        queue("c"),
        rules=[{"name": "r", "targets": [{"queue": "a", "timeout_s": 30}, {"queue": "b"}]}],
    )
    enqueue(engine, 10, at(0), queue="a")
    assert of(engine.handle(Tick(), at(30)), MoveInteraction) == [
        MoveInteraction(10, "b", "escalated")
    ]

    commands = engine.handle(Tick(), at(60))

    assert MaxWaitReached(10, "overflow") not in commands


# ================================================================ transfers


def test_transfer_to_a_queue_keeps_age_gets_a_boost_and_skips_the_sender() -> None:
    engine = make(policy=RoutingPolicy(transfer_priority_boost=1))
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))
    assign(engine, 10, 1, at(1))
    enqueue(engine, 11, at(5), priority=1)  # waits: agent 1 is full

    commands = engine.handle(InteractionTransferred(10, 1, to_queue="support"), at(10))

    assert routing(commands) == [
        TransferInteraction(10, 1, "support", None),
        OfferInteraction(11, 1, at(30), 20.0),  # not 10: the sender is skipped
    ]
    # 10 kept queued_at=0 and has priority 0 + 1: ahead of 11 (priority 1, queued at 5).
    assert (engine.position(10), engine.position(11)) == (1, 2)
    assert AnnouncePosition(10, 1) in commands
    assert offered(join(engine, 2, at(11))) == [(10, 2)]


def test_transfer_to_another_queue_goes_to_that_queue_s_agents() -> None:
    engine = make(queue("support"), queue("billing", requires="billing >= 1"))
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))
    assign(engine, 10, 1, at(1))
    join(engine, 3, at(2))  # idle longest, but not in billing
    join(engine, 2, at(3), skills={"billing": 1})

    commands = engine.handle(InteractionTransferred(10, 1, to_queue="billing"), at(4))

    assert routing(commands) == [
        TransferInteraction(10, 1, "billing", None),
        OfferInteraction(10, 2, at(24), 20.0),
    ]
    assert engine.routed_queue(10) == "billing"
    assert stats_of(engine, "billing").waiting == 1


@pytest.mark.parametrize("refusal", ["decline", "expiry"])
def test_transfer_to_a_named_agent_offers_only_them_then_the_queue(refusal: str) -> None:
    engine = make()
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))
    assign(engine, 10, 1, at(1))
    join(engine, 2, at(2))  # idle longest of the two others
    join(engine, 3, at(3))

    commands = engine.handle(InteractionTransferred(10, 1, to_agent=3), at(4))

    assert routing(commands) == [
        TransferInteraction(10, 1, "support", 3),
        OfferInteraction(10, 3, at(24), 20.0),
    ]
    if refusal == "decline":
        back = engine.handle(OfferDeclined(10, 3), at(5))
    else:
        back = engine.handle(Tick(), at(24))
    assert offered(back) == [(10, 2)]


@pytest.mark.parametrize("why", ["busy", "away", "in a delay"])
def test_transfer_to_a_named_agent_who_cannot_take_it_now_is_refused(why: str) -> None:
    engine = make(policy=RoutingPolicy(decline_delay_s=60))
    join(engine, 1, at(0))
    join(engine, 3, at(0), web=2)
    enqueue(engine, 10, at(0))
    assign(engine, 10, 1, at(1))
    if why == "busy":
        for i in (11, 12):
            enqueue(engine, i, at(2))
            assign(engine, i, 3, at(2))
    elif why == "away":
        set_state(engine, 3, AWAY, at(2))
    else:
        enqueue(engine, 11, at(2))
        engine.handle(OfferDeclined(11, 3), at(2))
    before = snapshot(engine)

    with pytest.raises(IllegalTransition):
        engine.handle(InteractionTransferred(10, 1, to_agent=3), at(4))

    assert snapshot(engine) == before


def test_transfer_to_a_named_agent_outside_the_queue_is_not_stranded() -> None:
    engine = make(queue("support", requires="billing >= 1"))
    join(engine, 1, at(0), skills={"billing": 1})
    join(engine, 2, at(0), skills={})
    enqueue(engine, 10, at(0))
    assign(engine, 10, 1, at(1))
    join(engine, 3, at(2), skills={"billing": 1})

    try:
        commands = engine.handle(InteractionTransferred(10, 1, to_agent=2), at(3))
    except HubError:
        return  # refusing the transfer is fine too
    commands += engine.handle(Tick(), at(3600))

    assert (10, 3) in offered(commands)


ILLEGAL_TRANSFERS: list[tuple[str, Event, type[HubError]]] = [
    ("waiting", InteractionTransferred(12, 1, to_queue="support"), IllegalTransition),
    ("unknown interaction", InteractionTransferred(99, 1, to_queue="support"), IllegalTransition),
    ("held by another", InteractionTransferred(10, 2, to_queue="support"), IllegalTransition),
    ("closed", InteractionTransferred(11, 2, to_queue="support"), IllegalTransition),
    ("both targets", InteractionTransferred(10, 1, to_queue="support", to_agent=2), InvalidInput),
    ("no target", InteractionTransferred(10, 1), InvalidInput),
    ("unknown queue", InteractionTransferred(10, 1, to_queue="nope"), InvalidInput),
    ("queue without channel", InteractionTransferred(10, 1, to_queue="phones"), InvalidInput),
    ("unknown agent", InteractionTransferred(10, 1, to_agent=99), NotFound),
    ("own agent", InteractionTransferred(10, 1, to_agent=1), InvalidInput),
]


@pytest.mark.parametrize(
    ("event", "error"),
    [(e, err) for _, e, err in ILLEGAL_TRANSFERS],
    ids=[name for name, _, _ in ILLEGAL_TRANSFERS],
)
def test_transfer_illegal_is_refused_and_changes_nothing(
    event: Event, error: type[HubError]
) -> None:
    engine = make(
        queue("support", wrap_up_s=60),
        queue("phones", channels=frozenset({VOICE})),
    )
    join(engine, 1, at(0), web=3)
    join(engine, 2, at(1), web=1)
    enqueue(engine, 10, at(2))  # -> agent 1 (idle longest)
    enqueue(engine, 11, at(3))  # -> agent 2
    enqueue(engine, 13, at(4))  # -> agent 1
    assert offered(engine.handle(Tick(), at(4))) == []
    assert [i for i, _ in engine.offers_for(1)] == [10, 13]
    assign(engine, 10, 1, at(5))
    assign(engine, 11, 2, at(5))
    assign(engine, 13, 1, at(5))
    engine.handle(AgentClosed(11, 2), at(6))  # 11 in wrap-up with agent 2
    set_state(engine, 2, AWAY, at(6))
    enqueue(engine, 12, at(7), queue="support")  # offered to agent 1 (3rd slot)
    before = snapshot(engine)

    with pytest.raises(error):
        engine.handle(event, at(8))

    assert snapshot(engine) == before


# ================================================================ statistics


def stats_of(engine: Engine, name: str, now: datetime | None = None) -> Any:
    return next(s for s in engine.queue_stats(now) if s.name == name)


def test_queue_stats_count_today() -> None:
    engine = make(queue("support", offer_timeout_s=60, sla_s=20), queue("other"))
    join(engine, 1, at(0))
    for i in (10, 11, 12):
        enqueue(engine, i, at(0))
    assign(engine, 10, 1, at(10))  # waited 10 s: within SLA
    engine.handle(AgentClosed(10, 1), at(12))  # 11 offered to agent 1
    assign(engine, 11, 1, at(30))  # waited 30 s: outside SLA
    engine.handle(CustomerLeft(12), at(31))

    s = stats_of(engine, "support", at(32))

    assert (s.entered_today, s.answered_today, s.abandoned_today) == (3, 2, 1)
    assert s.answered_within_sla_today == 1
    assert s.service_level_today == pytest.approx(1 / 3)
    assert s.asa_today_s == pytest.approx(20.0)
    assert (s.waiting, s.offered, s.assigned) == (0, 0, 1)
    other = stats_of(engine, "other", at(32))
    assert (other.entered_today, other.service_level_today, other.asa_today_s) == (0, None, None)


def test_queue_stats_roll_over_at_midnight_utc() -> None:
    engine = make()
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))
    assign(engine, 10, 1, at(1))

    s = stats_of(engine, "support", T0 + timedelta(days=1))

    assert (s.entered_today, s.answered_today, s.asa_today_s) == (0, 0, None)
    assert s.assigned == 1  # what is held now does not roll


def test_queue_stats_waiting_offered_and_oldest() -> None:
    engine = make()
    join(engine, 1, at(0))
    enqueue(engine, 10, at(5), queued_at=at(3))
    enqueue(engine, 11, at(6))

    s = stats_of(engine, "support")

    assert (s.waiting, s.offered, s.assigned, s.oldest_queued_at) == (2, 1, 0, at(3))


def test_estimated_wait_is_position_times_the_recent_answer_gap() -> None:
    engine = make(queue("support", offer_timeout_s=600))
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))
    enqueue(engine, 11, at(0))
    assign(engine, 10, 1, at(10))
    engine.handle(AgentClosed(10, 1), at(11))
    assert engine.estimated_wait_s(11) is None  # one answer: no history yet
    assign(engine, 11, 1, at(30))

    commands = enqueue(engine, 12, at(31)) + enqueue(engine, 13, at(32))

    assert engine.estimated_wait_s(12) == pytest.approx(20.0)
    assert engine.estimated_wait_s(13) == pytest.approx(40.0)
    assert AnnouncePosition(13, 2, 40.0) in commands
    assert engine.estimated_wait_s(11) is None  # no longer waiting


# ================================================================ held at start-up


def test_held_interaction_counts_against_capacity_for_new_offers() -> None:
    engine = make()
    join(engine, 1, at(0), web=1)
    enqueue(engine, 1, at(1))  # builds the pool; offered to agent 1
    engine.handle(CustomerLeft(1), at(2))  # agent 1 free again, listed as ready
    engine.handle(InteractionHeld(2, 1, "support", WEB), at(3))  # now full

    commands = enqueue(engine, 3, at(4))

    assert offered(commands) == []
    assert engine.agent(1).load[WEB] <= 1  # type: ignore[union-attr]


def test_held_interaction_in_wrap_up_ends_at_its_deadline() -> None:
    engine = make()
    join(engine, 1, at(0))
    engine.handle(InteractionHeld(2, 1, "support", WEB, wrap_up_until=at(30)), at(0))
    enqueue(engine, 3, at(1))  # pool built now: agent 1 is full

    assert engine.offers_for(1) == []
    commands = engine.handle(Tick(), at(30))

    assert routing(commands) == [EndInteraction(2, 1), OfferInteraction(3, 1, at(50), 20.0)]


def test_wrap_up_finished_early_frees_the_agent() -> None:
    engine = make(queue("support", wrap_up_s=60))
    join(engine, 1, at(0))
    enqueue(engine, 10, at(0))
    assign(engine, 10, 1, at(1))
    engine.handle(AgentClosed(10, 1), at(2))
    enqueue(engine, 11, at(3))

    commands = engine.handle(WrapUpFinished(10, 1), at(4))

    assert routing(commands) == [EndInteraction(10, 1), OfferInteraction(11, 1, at(24), 20.0)]


# ================================================================ one customer, one place


def test_a_customers_second_email_follows_the_first_and_then_goes_to_the_same_agent() -> None:
    engine = make(policy=RoutingPolicy(sticky_s=10))
    ann = {"customer_id": 7}
    enqueue(engine, 1, at(0), channel=EMAIL, attributes=ann)
    second = enqueue(engine, 2, at(1), channel=EMAIL, attributes=ann)
    enqueue(engine, 3, at(2), channel=EMAIL, attributes={"customer_id": 8})
    # Customer 7 holds one place in the queue; customer 8 is second, not third.
    assert routing(second) == []
    assert [s.waiting for s in engine.queue_stats()] == [2]
    assert (engine.position(1), engine.position(2), engine.position(3)) == (1, None, 2)
    assert engine.routed_queue(2) == "support"
    # Agent 11 gets customer 7's first; 12 the next in line (customer 8), not 7's second.
    assert offered(join(engine, 11, at(3), web=0, email=1)) == [(1, 11)]
    assert offered(join(engine, 12, at(4), web=0, email=1)) == [(3, 12)]
    # Once 11 has the first, the second waits in its own right, for 11 first.
    assert offered(assign(engine, 1, 11, at(5))) == []
    assert (engine.position(2), engine.queue_stats()[0].waiting) == (1, 2)
    assign(engine, 3, 12, at(6))
    assert offered(engine.handle(AgentClosed(1, 11), at(7))) == [(2, 11)]


def test_a_follower_takes_the_place_of_an_abandoned_leader() -> None:
    engine = make()
    bob = {"customer_id": 9}
    for iid in (1, 2, 3):
        enqueue(engine, iid, at(iid), channel=EMAIL, attributes=bob)
    left = engine.handle(CustomerLeft(1), at(4))
    assert (engine.position(2), engine.position(3)) == (1, None)
    assert [s.waiting for s in engine.queue_stats()] == [1]
    assert any(c.interaction_id == 1 for c in of(left, AbandonInteraction))
    # A follower can go too, before its turn: it is abandoned, the leader unaffected.
    gone = engine.handle(CustomerLeft(3), at(5))
    assert of(gone, AbandonInteraction) == [AbandonInteraction(3, None)]
    assert offered(join(engine, 11, at(6), web=0, email=5)) == [(2, 11)]
    assert assign(engine, 2, 11, at(7)) and engine.queue_stats()[0].waiting == 0
    with pytest.raises(HubError):
        engine.handle(CustomerLeft(3), at(8))  # already gone


def test_the_same_customer_on_two_channels_waits_twice() -> None:
    engine = make()
    enqueue(engine, 1, at(0), channel=EMAIL, attributes={"customer_id": 7})
    enqueue(engine, 2, at(1), channel=WEB, attributes={"customer_id": 7})
    assert (engine.position(1), engine.position(2)) == (1, 2)


def test_a_follower_queued_again_is_refused() -> None:
    engine = make()
    enqueue(engine, 1, at(0), channel=EMAIL, attributes={"customer_id": 7})
    enqueue(engine, 2, at(1), channel=EMAIL, attributes={"customer_id": 7})
    before = snapshot(engine)
    with pytest.raises(IllegalTransition):
        enqueue(engine, 2, at(2), channel=EMAIL, attributes={"customer_id": 7})
    assert snapshot(engine) == before


# ================================================================ unreachable devices


def test_a_busy_agent_phone_requeues_the_call_and_rests_the_agent_without_a_miss() -> None:
    engine = make(policy=RoutingPolicy(busy_delay_s=30, missed_offers_before_away=1))
    join(engine, 11, at(0), web=0, voice=1)
    join(engine, 12, at(1), web=0, voice=1)
    assert offered(enqueue(engine, 1, at(2), channel=VOICE)) == [(1, 11)]
    commands = engine.handle(OfferUnreachable(1, 11, "busy"), at(3))
    assert of(commands, WithdrawOffer) == [WithdrawOffer(1, 11, "busy", True)]
    assert offered(commands) == [(1, 12)]  # the next agent, at once
    assert of(commands, SetAgentAway) == []  # busy is not a missed offer
    engine.handle(OfferDeclined(1, 12), at(4))
    # 11 is resting for busy_delay_s, then may be offered the same call again.
    assert offered(engine.handle(Tick(), at(32))) == []
    assert offered(engine.handle(Tick(), at(33))) == [(1, 11)]


def test_an_agent_phone_that_rings_out_counts_as_a_missed_offer() -> None:
    engine = make(policy=RoutingPolicy(missed_offers_before_away=1))
    join(engine, 11, at(0), web=0, voice=1)
    enqueue(engine, 1, at(1), channel=VOICE)
    commands = engine.handle(OfferUnreachable(1, 11, "no_answer"), at(5))
    assert of(commands, WithdrawOffer)[0].reason == "no_answer"
    assert of(commands, SetAgentAway) == [SetAgentAway(11, "missed_offers")]


def test_unreachable_needs_a_known_reason_and_a_live_offer() -> None:
    engine = make()
    join(engine, 11, at(0), web=0, voice=1)
    enqueue(engine, 1, at(1), channel=VOICE)
    before = snapshot(engine)
    with pytest.raises(InvalidInput):
        engine.handle(OfferUnreachable(1, 11, "on fire"), at(2))
    with pytest.raises(IllegalTransition):
        engine.handle(OfferUnreachable(1, 12, "busy"), at(2))
    assert snapshot(engine) == before


def test_sticky_window_can_be_longer_on_email_than_on_chat() -> None:
    policy = RoutingPolicy(sticky_s=10, sticky_by_channel={EMAIL: 3600})
    engine = make(policy=policy)
    join(engine, 11, at(0), web=1, email=1)
    join(engine, 12, at(1), web=1, email=1)
    engine.handle(AgentStateChanged(11, AWAY), at(2))
    enqueue(engine, 1, at(3), channel=WEB, last_agent_id=11)
    enqueue(engine, 2, at(3), channel=EMAIL, last_agent_id=11)
    # The chat widens to anyone after 10 s; the email still waits for agent 11.
    assert offered(engine.handle(Tick(), at(13))) == [(1, 12)]
    assign(engine, 1, 12, at(14))
    assert offered(engine.handle(Tick(), at(3000))) == []
    assert offered(engine.handle(AgentStateChanged(11, AVAILABLE), at(3001))) == [(2, 11)]
