"""A busy agent's console for the long-thread test and bench/console_render.py: many open
chats, one of them with a long history written straight into the database (as if the
conversation had gone on for days), all accepted by the agent's own second connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert

from hub.app import utc_now
from hub.storage import tables as t
from hub.storage.sql import make_engine
from tests.functional.conftest import Client, Running, connect


@dataclass
class Workload:
    visitors: list[Client]
    long_interaction_id: int
    long_customer: str

    async def close(self) -> None:
        for visitor in self.visitors:
            await visitor.close()


async def seed_history(database_url: str, interaction_id: int, count: int) -> None:
    """``count`` older messages, alternating customer and agent, a minute apart, in one insert."""
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    t.interactions.select().where(t.interactions.c.interaction_id == interaction_id)
                )
            ).one()
            start = utc_now() - timedelta(minutes=count + 1)
            rows = [
                {
                    "conversation_id": row.conversation_id,
                    "interaction_id": interaction_id,
                    "direction": "in" if n % 2 == 0 else "out",
                    "author_kind": "customer" if n % 2 == 0 else "agent",
                    "author_name": "Long Customer" if n % 2 == 0 else "Alice Agent",
                    "body": f"history message {n + 1}",
                    "created_at": start + timedelta(minutes=n),
                }
                for n in range(count)
            ]
            await conn.execute(insert(t.messages), rows)
    finally:
        await engine.dispose()


async def busy_agent(
    running: Running, database_url: str, email: str, *, chats: int, history: int
) -> Workload:
    """``chats`` open chats held by the (available) agent ``email``; the first one carries
    ``history`` messages before its visitor's opening line."""
    agent = await connect(running.base, "/agent", token=await running.sign_in(email))
    await agent.next("hello")
    await agent.call("set_state", {"state": "available"})
    visitors = []
    first_id = None
    for n in range(chats):
        visitor = await connect(running.base, "/chat", auth={})
        await visitor.next("session")
        name = "Long Customer" if n == 0 else f"Customer {n:02d}"
        assert (await visitor.call("profile", {"name": name}))["ok"]
        assert (await visitor.call("message", {"body": f"hello from {name}"}))["ok"]
        offer = await agent.next("offer", timeout=10)
        if n == 0:
            first_id = offer["interaction_id"]
            await seed_history(database_url, first_id, history)
        ack = await agent.call("accept", {"interaction_id": offer["interaction_id"]})
        assert ack.get("ok"), ack
        visitors.append(visitor)
    await agent.close()
    assert first_id is not None
    return Workload(visitors, first_id, "Long Customer")
