"""Today's figures folded from stored steps: queue service level and ASA, agents' handled,
missed offers and occupancy, quarter-hour buckets, the waiting line; CSV cells are safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.daybook import day_start, fold
from hub.model import AgentStep, Channel, Interaction, InteractionState, Presence, Queue, Step
from hub.reports import safe_cell
from routing.engine import Engine
from routing.events import InteractionQueued

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def interaction(iid: int, queue: str = "support") -> Interaction:
    return Interaction(
        interaction_id=iid,
        conversation_id=iid,
        customer_id=iid,
        channel=Channel.WEBCHAT,
        queue=queue,
        priority=0,
        state=InteractionState.ENDED,
        agent_id=7,
        created_at=at(0),
        queued_at=at(0),
    )


def test_day_start_is_local_midnight() -> None:
    now = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # 21:30 the day before in New York
    start = day_start(now, ZoneInfo("America/New_York"))
    assert start == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
    assert day_start(now, UTC) == START


def test_fold_counts_service_level_asa_and_agents() -> None:
    records = [
        # answered in 10 s by agent 7 after one missed offer to agent 8, closed at minute 5
        (
            interaction(1),
            [
                Step("queued", at(0)),
                Step("offered", at(0), 8),
                Step("expired", at(0.1), 8),
                Step("assigned", at(10 / 60), 7),
                Step("closed_by_agent", at(5), 7),
                Step("ended", at(6), 7),
            ],
        ),
        # answered after 60 s: outside the 20 s target
        (interaction(2), [Step("queued", at(20)), Step("assigned", at(21), 7)]),
        # abandoned at minute 31
        (interaction(3), [Step("queued", at(30)), Step("abandoned", at(31))]),
        # still waiting
        (interaction(4), [Step("queued", at(40))]),
    ]
    steps = [AgentStep(7, Presence.AVAILABLE, at(0)), AgentStep(8, Presence.OFFLINE, at(0))]
    day = fold(records, steps, start=START, now=at(60), sla_s={"support": 20})
    q = day.queues["support"]
    assert (q.offered, q.answered, q.abandoned, q.within_sla) == (4, 2, 1, 1)
    assert q.service_level == pytest.approx(1 / 3)
    assert q.asa_s == pytest.approx(35)
    assert day.agents[7].handled == 1
    assert day.agents[8].missed == 1
    # busy minutes 0:10..6 and 21..60 of 60 signed in
    assert day.agents[7].occupancy == pytest.approx((6 - 10 / 60 + 39) / 60)
    assert [sum(b.contacts.values()) for b in day.buckets] == [
        1,
        1,
        2,
        0,
        0,
    ]  # 0:00, 0:20, 0:30 and 0:40
    assert day.buckets[2].service_level == 0.0  # the abandoned one
    assert day.waiting[-1] == (at(60), 1)  # the one still waiting


def test_fold_ignores_yesterday_but_keeps_its_waiting() -> None:
    records = [(interaction(1), [Step("queued", at(-30)), Step("assigned", at(-29), 7)])]
    day = fold(records, [], start=START, now=at(10), sla_s={"support": 20}, queues=["support"])
    assert day.queues["support"].offered == 0 and day.queues["support"].answered == 0
    assert day.agents[7].busy_s == pytest.approx(600)  # holding it since before midnight


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Alice", "Alice"),
        (None, ""),
        (12, "12"),
    ],
)
def test_csv_cells_never_run_as_formulas(cell: object, expected: str) -> None:
    assert safe_cell(cell) == expected


def test_fold_counts_a_transferred_chat_like_the_router() -> None:
    """Offered once; answered twice, the second wait from when it was first queued."""
    records = [
        (
            interaction(1),
            [
                Step("queued", at(0)),
                Step("assigned", at(0.1), 7),
                Step("transferred", at(5), 7),
                Step("assigned", at(6), 8),
            ],
        )
    ]
    day = fold(records, [], start=START, now=at(10), sla_s={"support": 20})
    q = day.queues["support"]
    assert (q.offered, q.answered, q.within_sla) == (1, 2, 1)
    assert q.answer_wait_s == pytest.approx(6 + 360)
    assert day.agents[7].busy_s == pytest.approx(4.9 * 60)
    assert day.agents[8].busy_s == pytest.approx(4 * 60)


def test_engine_day_starts_at_local_midnight_and_can_be_restored() -> None:

    queues = {"support": Queue("support", frozenset({Channel.WEBCHAT}), sla_s=20)}
    engine = Engine(queues, day_zone=ZoneInfo("America/New_York"))
    evening = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 17:00 in New York
    engine.handle(InteractionQueued(1, "support", Channel.WEBCHAT, 0, evening, {}, None), evening)
    after_utc_midnight = evening + timedelta(hours=5)  # 22:00 in New York, the same day there
    (stats,) = engine.queue_stats(after_utc_midnight)
    assert stats.entered_today == 1
    (stats,) = engine.queue_stats(evening + timedelta(hours=8))  # 01:00 the next day there
    assert stats.entered_today == 0
    engine.restore_day(
        "support",
        evening,
        entered=4,
        answered=3,
        abandoned=1,
        within_sla=2,
        answer_wait_s=30.0,
    )
    (stats,) = engine.queue_stats(evening)
    assert (stats.entered_today, stats.service_level_today, stats.asa_today_s) == (4, 0.5, 10.0)
