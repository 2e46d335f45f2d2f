"""The router lease (Redis) and leadership: one node routes, a stale one is fenced off.

Two "nodes" here are two Leadership objects, each with its own router and connection pool,
on one database and one Redis. A lease running out is simulated by deleting its key (what
Redis does when the holder stops renewing), so no test waits for a clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.app import routing_setup
from hub.bus import InProcessBus
from hub.cluster import keys
from hub.cluster.leadership import Leadership
from hub.cluster.lease import RouterLease
from hub.config import Settings
from hub.errors import StaleRouter, Unavailable
from hub.events import InteractionCreated
from hub.model import Presence, Role
from hub.storage.fence import SqlFence
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
from routing.runner import RouterRunner
from tests.functional.backend import hub_database_url
from tests.functional.redis_server import clean_redis
from tests.functional.test_store import NOW, chat


@pytest.fixture
async def redis() -> AsyncIterator[Any]:
    async for client in clean_redis():
        yield client


async def test_lease_is_held_by_one_node_and_each_new_lease_has_a_higher_token(
    redis: Any,
) -> None:
    a = RouterLease(redis, node_id="node-a", ttl_s=5)
    b = RouterLease(redis, node_id="node-b", ttl_s=5)
    first = await a.acquire()
    assert first is not None
    assert await b.acquire() is None
    assert await a.holder() == "node-a"
    assert not await b.renew(first)  # b cannot extend a's lease, even with a's token
    assert await a.renew(first)
    await b.release(first)  # nor drop it
    assert await b.holder() == "node-a"
    await a.release(first)
    second = await b.acquire()
    assert second is not None and second > first
    assert await redis.pttl(keys.ROUTER_LEASE) > 0  # it runs out unless renewed
    assert not await a.renew(first)


class Node:
    def __init__(self, name: str, url: str, redis: Any) -> None:
        self.store = SqlStore(make_engine(url))
        self.router = RouterRunner(
            setup=routing_setup(Settings()),
            store=self.store,
            bus=InProcessBus(),
            clock=lambda: NOW,
            cluster=True,
        )
        self.leadership = Leadership(
            lease=RouterLease(redis, node_id=name, ttl_s=5),
            fence=SqlFence(self.store),
            router=self.router,
            node_id=name,
            ttl_s=5,
            now=lambda: NOW,
        )

    async def close(self) -> None:
        await self.leadership.stop()
        await self.store.close()


@pytest.fixture
async def nodes(redis: Any, tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    url = hub_database_url(tmp_path)
    a, b = Node("node-a", url, redis), Node("node-b", url, redis)
    await upgrade(a.store.engine)
    yield a, b
    await a.close()
    await b.close()


async def test_one_node_routes_and_another_takes_over_when_its_lease_runs_out(
    nodes: tuple[Node, Node], redis: Any
) -> None:
    a, b = nodes
    agent = await a.store.create_user(
        email="a@example.com", name="A", role=Role.AGENT, password_hash="x", now=NOW
    )
    await a.leadership.step()
    await a.leadership.ready()
    await b.leadership.step()
    await b.leadership.ready()
    assert a.router.running and a.leadership.token is not None
    assert not b.router.running and b.leadership.token is None
    with pytest.raises(Unavailable):  # a standby routes nothing itself
        await b.router.agent_connected(agent)

    # A contact waits while a is paused; a's lease runs out and b takes over.
    recorded = await a.store.record_inbound(chat("v1", "hi"), queue="support", priority=0, now=NOW)
    await redis.delete(keys.ROUTER_LEASE)
    await b.leadership.step()
    await b.leadership.ready()
    assert b.router.running
    assert b.leadership.token is not None and b.leadership.token > a.leadership.token
    assert b.router.position(recorded.interaction.interaction_id) == 1  # rebuilt from the DB

    # a wakes up and routes an event before it renews: the claim is refused as stale, and
    # a stops routing at once; b's picture is untouched.
    await a.router.agent_connected(agent)  # nothing to offer yet: no claim, no refusal
    await a.router.set_state(agent.user_id, Presence.AVAILABLE)
    with pytest.raises(StaleRouter):  # its offer of the new contact
        await a.router.on_created(InteractionCreated(recorded.interaction))
    await a.leadership.step()
    await a.leadership.ready()
    assert not a.router.running and a.leadership.token is None
    assert (await b.store.interaction(recorded.interaction.interaction_id)).agent_id is None


async def test_a_node_that_cannot_renew_stops_routing(nodes: tuple[Node, Node], redis: Any) -> None:
    a, b = nodes
    await a.leadership.step()
    await a.leadership.ready()
    assert a.router.running
    await redis.set(keys.ROUTER_LEASE, "node-b:999")  # someone else's now
    await a.leadership.step()
    await a.leadership.ready()
    assert not a.router.running
    await b.leadership.step()
    await b.leadership.ready()
    assert not b.router.running  # the lease is (apparently) held: nobody else routes
