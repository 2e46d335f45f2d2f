"""The router's command stream (real Redis): answered once carried out, errors raised again on
the sender's side, and no command lost when the router changes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.cluster import keys
from hub.cluster.commands import CommandConsumer, CommandSender
from hub.cluster.tasks import cancel
from hub.errors import IllegalTransition, Unavailable
from tests.functional.redis_server import clean_redis


@pytest.fixture
async def redis() -> AsyncIterator[Any]:
    async for client in clean_redis():
        yield client


@contextlib.asynccontextmanager
async def sender(redis: Any, node_id: str = "node-s") -> AsyncIterator[CommandSender]:
    """A sender with its node's reply channel listened to (what ClusterRouter does)."""
    commands = CommandSender(redis, node_id=node_id, timeout_s=10)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.Channels.of(redis).replies(node_id))

    async def listen() -> None:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                commands.answered(message["data"])

    task = asyncio.create_task(listen())
    try:
        yield commands
    finally:
        await cancel(task)
        await pubsub.aclose()


class Router:
    """A router's command handler that records what it carried out."""

    def __init__(self, routing: bool = True) -> None:
        self.done: list[tuple[str, dict[str, Any], str]] = []
        self.routing = routing
        self.hold = asyncio.Event()  # set: carry out; clear: hang (a router about to die)
        self.hold.set()

    async def handle(self, name: str, args: dict[str, Any], node: str) -> dict[str, Any]:
        await self.hold.wait()
        if name == "accept" and args["interaction_id"] == 13:
            raise IllegalTransition("interaction 13 changed meanwhile; cannot accept")
        self.done.append((name, args, node))
        return {"echo": args}

    def consumer(self, redis: Any, node_id: str) -> CommandConsumer:
        return CommandConsumer(
            redis,
            node_id=node_id,
            channels=keys.Channels.of(redis),
            timeout_s=10,
            handle=self.handle,
            routing=lambda: self.routing,
        )


async def test_commands_are_answered_after_they_are_carried_out(redis: Any) -> None:
    router = Router()
    consumer = router.consumer(redis, "node-r")
    await consumer.start_duty(1)
    try:
        async with sender(redis) as commands:
            answer = await commands.send("accept", {"interaction_id": 7, "agent_id": 2})
            assert answer["ok"] and answer["echo"] == {"interaction_id": 7, "agent_id": 2}
            assert router.done == [("accept", {"interaction_id": 7, "agent_id": 2}, "node-s")]
            with pytest.raises(IllegalTransition, match="interaction 13 changed"):
                await commands.send("accept", {"interaction_id": 13, "agent_id": 2})
            await commands.send("created", {"interaction_id": 8}, wait=False)
            await commands.send("accept", {"interaction_id": 9, "agent_id": 2})
            assert [args["interaction_id"] for _, args, _ in router.done] == [7, 8, 9]
    finally:
        await consumer.stop_duty()
    pending = await redis.xpending(keys.ROUTER_COMMANDS, keys.ROUTER_GROUP)
    assert pending["pending"] == 0  # every command acknowledged


async def test_a_command_whose_sender_gave_up_is_skipped(redis: Any) -> None:
    router = Router()
    await redis.xadd(
        keys.ROUTER_COMMANDS,
        {
            "name": "accept",
            "args": '{"interaction_id": 5, "agent_id": 1}',
            "node": "node-s",
            "request": "r-1",
            "sent_at": repr(time.time() - 60),
        },
    )
    consumer = router.consumer(redis, "node-r")
    await consumer.start_duty(1)
    try:
        async with sender(redis) as commands:
            await commands.send("decline", {"interaction_id": 6, "agent_id": 1})
    finally:
        await consumer.stop_duty()
    assert [name for name, _, _ in router.done] == ["decline"]


async def test_commands_survive_the_router_dying_or_being_fenced_off(redis: Any) -> None:
    async with sender(redis) as commands:
        # The old router read a command and died before carrying it out.
        dying = Router()
        dying.hold.clear()
        old = dying.consumer(redis, "node-old")
        await old.start_duty(1)
        waiting = asyncio.create_task(commands.send("accept", {"interaction_id": 1, "agent_id": 4}))
        while (await redis.xpending(keys.ROUTER_COMMANDS, keys.ROUTER_GROUP))["pending"] == 0:
            await asyncio.sleep(0.01)
        await old.stop_duty()

        # A router fenced off meanwhile hands what it reads on, untouched.
        fenced = Router(routing=False)
        stale = fenced.consumer(redis, "node-stale")
        await stale.start_duty(2)
        second = asyncio.create_task(commands.send("decline", {"interaction_id": 2, "agent_id": 4}))
        while await redis.xlen(keys.ROUTER_COMMANDS) < 3:  # the decline, handed on
            await asyncio.sleep(0.01)
        await stale.stop_duty()

        new = Router()
        consumer = new.consumer(redis, "node-new")
        await consumer.start_duty(3)
        try:
            assert (await waiting)["ok"] and (await second)["ok"]
        finally:
            await consumer.stop_duty()
        assert dying.done == [] and fenced.done == []
        assert sorted(name for name, _, _ in new.done) == ["accept", "decline"]


async def test_no_router_means_unavailable_not_a_hang(redis: Any) -> None:
    commands = CommandSender(redis, node_id="node-s", timeout_s=0.2)
    with pytest.raises(Unavailable, match="did not answer"):
        await commands.send("accept", {"interaction_id": 1, "agent_id": 1})
