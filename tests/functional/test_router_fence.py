"""The routing fence: the database refuses claims from a router whose lease ended.

Runs on SQLite and PostgreSQL (the stores of tests/functional/test_store.py); the hammering
test needs PostgreSQL, where several connections really claim at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.errors import IllegalTransition, StaleRouter
from hub.lifecycle import Action
from hub.model import InteractionState, Role
from hub.storage import tables as t
from hub.storage.fence import SqlFence
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
from tests.functional.postgres import postgres_database
from tests.functional.test_store import NOW, chat, store  # noqa: F401 (fixture)


async def _agents(db: SqlStore, n: int) -> list[int]:
    return [
        (
            await db.create_user(
                email=f"a{i}@example.com", name=f"A{i}", role=Role.AGENT, password_hash="x", now=NOW
            )
        ).user_id
        for i in range(n)
    ]


async def _steps(db: SqlStore, interaction_id: int) -> list[str]:
    async with db._tx() as conn:
        rows = await conn.execute(
            select(t.interaction_steps.c.step).where(
                t.interaction_steps.c.interaction_id == interaction_id
            )
        )
        return [r.step for r in rows]


async def test_fence_refuses_a_stale_routers_claims_whole(store: SqlStore) -> None:  # noqa: F811
    fence = SqlFence(store)
    [agent] = await _agents(store, 1)
    recorded = await store.record_inbound(chat("v1", "hi"), queue="support", priority=0, now=NOW)
    iid = recorded.interaction.interaction_id
    assert await fence.current() == 0
    assert await fence.raise_epoch(3, node_id="node-a", now=NOW)
    await store.transition(iid, Action.OFFER, now=NOW, agent_id=agent, fence=3)

    assert await fence.raise_epoch(4, node_id="node-b", now=NOW)
    with pytest.raises(StaleRouter) as refused:
        await store.transition(iid, Action.ACCEPT, now=NOW, agent_id=agent, fence=3)
    assert refused.value.code == "stale_router"
    with pytest.raises(StaleRouter):
        await store.add_step(iid, "offered", now=NOW, agent_id=agent, fence=3)
    # Refused whole: still offered, and no step written for the refused claims.
    assert (await store.interaction(iid)).state is InteractionState.OFFERED
    assert await _steps(store, iid) == ["queued", "offered"]
    # The new router's claim goes through; the epoch never goes back down.
    await store.transition(iid, Action.ACCEPT, now=NOW, agent_id=agent, fence=4)
    assert not await fence.raise_epoch(2, node_id="node-a", now=NOW)
    assert await fence.current() == 4


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with postgres_database() as url:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url


async def test_fence_hammered_by_an_old_and_a_new_router_assigns_each_contact_once(
    pg_url: str, tmp_path: Path
) -> None:
    """Two routers (two nodes: two connection pools) claim the same contacts for different
    agents at once while the lease moves from the old to the new one: each contact is
    assigned exactly once, and nothing of the old router's gets through after the move."""
    old, new = SqlStore(make_engine(pg_url)), SqlStore(make_engine(pg_url))
    try:
        fence = SqlFence(new)
        agent_old, agent_new = await _agents(old, 2)
        ids = []
        for n in range(60):
            recorded = await old.record_inbound(
                chat(f"v{n}", "hi"), queue="support", priority=0, now=NOW
            )
            ids.append(recorded.interaction.interaction_id)
        await fence.raise_epoch(1, node_id="old", now=NOW)
        moved = asyncio.Event()
        late_old_wins: list[int] = []

        async def claim(db: SqlStore, token: int, agent: int, iid: int) -> None:
            for action in (Action.OFFER, Action.ACCEPT):
                before_move = not moved.is_set()
                try:
                    await db.transition(iid, action, now=NOW, agent_id=agent, fence=token)
                except (IllegalTransition, StaleRouter):
                    return
                if token == 1 and not before_move:
                    late_old_wins.append(iid)

        async def move_lease() -> None:
            await asyncio.sleep(0)
            await fence.raise_epoch(2, node_id="new", now=NOW)
            moved.set()

        await asyncio.gather(
            move_lease(),
            *(
                claim(db, token, agent, iid)
                for iid in ids
                for db, token, agent in ((old, 1, agent_old), (new, 2, agent_new))
                for _ in range(3)
            ),
        )
        # Once the move committed, the old router wins nothing more.
        with pytest.raises(StaleRouter):
            await old.transition(ids[0], Action.END, now=NOW, agent_id=agent_old, fence=1)
        assert late_old_wins == []
        async with new._tx() as conn:
            assigned = (
                await conn.execute(
                    select(t.interaction_steps.c.interaction_id, func.count())
                    .where(t.interaction_steps.c.step == "assigned")
                    .group_by(t.interaction_steps.c.interaction_id)
                )
            ).all()
        assert all(count == 1 for _, count in assigned), assigned
        for iid in ids:
            inter = await new.interaction(iid)
            if inter.state is InteractionState.ASSIGNED:
                assert inter.agent_id in (agent_old, agent_new)
    finally:
        await old.close()
        await new.close()
