"""What the wallboard's day is read from, on SQLite and PostgreSQL: the interactions with a
step in the day (and every open one), agents' steps with their state at the day's start,
and signing a user out everywhere."""

from __future__ import annotations

from datetime import timedelta

from hub.lifecycle import Action
from hub.model import AgentStep, Presence, Role
from hub.storage.sql import SqlStore
from tests.functional.test_store import NOW, chat, store  # noqa: F401 (the store fixture)

DAY = timedelta(days=1)


async def test_store_day_records_are_the_days_steps_and_open_ones(store: SqlStore) -> None:  # noqa: F811
    a = await store.create_user(
        email="a@example.com", name="A", role=Role.AGENT, password_hash="x", now=NOW
    )
    old = await store.record_inbound(
        chat("v-old", "yesterday"), queue="support", priority=0, now=NOW - DAY
    )
    old_id = old.interaction.interaction_id
    await store.transition(old_id, Action.ABANDON, now=NOW - DAY)
    still = await store.record_inbound(
        chat("v-still", "waiting"), queue="support", priority=0, now=NOW - DAY
    )
    today = await store.record_inbound(chat("v-today", "hi"), queue="support", priority=0, now=NOW)
    tid = today.interaction.interaction_id
    await store.transition(tid, Action.OFFER, now=NOW, agent_id=a.user_id)
    await store.transition(tid, Action.ACCEPT, now=NOW, agent_id=a.user_id)

    records = await store.day_records(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    ids = [r.interaction.interaction_id for r in records]
    assert ids == [still.interaction.interaction_id, tid]  # oldest first, not yesterday's
    assert [s.step for s in records[1].steps] == ["queued", "offered", "assigned"]


async def test_store_agent_steps_start_with_the_state_at_the_start(store: SqlStore) -> None:  # noqa: F811
    a = await store.create_user(
        email="a@example.com", name="A", role=Role.AGENT, password_hash="x", now=NOW
    )
    s = await store.create_user(
        email="s@example.com", name="S", role=Role.SUPERVISOR, password_hash="x", now=NOW
    )
    await store.add_agent_step(AgentStep(a.user_id, Presence.AWAY, NOW - DAY))
    await store.add_agent_step(AgentStep(a.user_id, Presence.AVAILABLE, NOW - DAY / 2))
    await store.add_agent_step(AgentStep(a.user_id, Presence.AWAY, NOW, "lunch", s.user_id))
    steps = await store.agent_steps(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert [(x.state, x.reason, x.by) for x in steps] == [
        (Presence.AVAILABLE, None, None),
        (Presence.AWAY, "lunch", s.user_id),
    ]


async def test_store_signs_a_user_out_everywhere(store: SqlStore) -> None:  # noqa: F811
    a = await store.create_user(
        email="a@example.com", name="A", role=Role.AGENT, password_hash="x", now=NOW
    )
    for n in range(2):
        await store.create_session(f"hash-{n}", a.user_id, NOW, NOW + DAY)
    assert await store.delete_sessions_of(a.user_id) == 2
    assert await store.session_user("hash-0", NOW) is None
