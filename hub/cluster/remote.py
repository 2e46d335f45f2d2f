"""The router as every node's use cases see it in a cluster (the ``Router`` port).

Commands (an agent connects, accepts, sets a state; a contact was created) go to whichever
node routes, over the command stream (``hub.cluster.commands``), and are answered after the
router carried them out; questions (an agent's state and offers, a contact's place, the
supervisors' snapshot) are answered on the router node by the router itself and elsewhere
from the router's latest published picture (``hub.cluster.view``), refreshed by each
command's answer for the agent who sent it.

Agents' connections are counted per node: the router hears "connected" when an agent's first
console opens on a node and "disconnected" when their last one there closes. When a node
dies (its heartbeat key runs out), the router counts its consoles as closed; when a new
router is elected, every node announces its consoles again, so the new router, rebuilt from
the database, knows who is signed in where.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.cluster import keys
from hub.cluster.commands import CommandSender
from hub.cluster.tasks import cancel
from hub.cluster.view import (
    RouterView,
    empty_view,
    offers_json,
    parse_offers,
    parse_state,
    parse_view,
    state_json,
    view_json,
)
from hub.errors import IllegalTransition, NotFound
from hub.events import AgentStateReported, InteractionCreated, RoutingSnapshotTaken
from hub.model import Channel, InteractionState, Presence, Queue, User
from hub.ports import Clock, EventBus, Store
from routing.events import Event, OfferUnreachable
from routing.rules import Rule
from routing.runner import RouterRunner

log = logging.getLogger(__name__)


class ClusterRouter:
    def __init__(
        self,
        *,
        runner: RouterRunner,
        sender: CommandSender,
        redis: Any,
        store: Store,
        bus: EventBus,
        clock: Clock,
        node_id: str,
        channels: keys.Channels,
        heartbeat_s: float,
        default_capacity: Mapping[Channel, int],
    ) -> None:
        self._runner = runner
        self._sender = sender
        self._redis = redis
        self._store = store
        self._clock = clock
        self._node_id = node_id
        self._channels = channels
        self._heartbeat_s = heartbeat_s
        self._capacity = dict(default_capacity)
        self._local: Counter[int] = Counter()  # consoles open on this node, by agent
        self._hosted: dict[str, set[int]] = {}  # on the router node: agents by node
        self._view: RouterView = empty_view(clock())
        self._tasks: list[asyncio.Task[None]] = []
        self._watch: asyncio.Task[None] | None = None
        bus.subscribe(InteractionCreated, self._created)
        bus.subscribe(RoutingSnapshotTaken, self._publish_view)

    @property
    def routes(self) -> bool:
        """Whether this node runs the router now."""
        return self._runner.running

    # ------------------------------------------------------------------ life cycle (every node)
    async def start(self) -> None:
        with contextlib.suppress(Exception):
            raw = await self._redis.get(keys.ROUTER_VIEW)
            if raw is not None:
                self._view = parse_view(json.loads(raw))
        self._tasks = [
            asyncio.create_task(self._listen(), name="cluster-listen"),
            asyncio.create_task(self._beat(), name="cluster-heartbeat"),
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            await cancel(task)
        with contextlib.suppress(Exception):
            await self._redis.delete(keys.node(self._node_id))

    async def _beat(self) -> None:
        while True:
            try:
                await self._redis.set(
                    keys.node(self._node_id), "1", px=int(self._heartbeat_s * 2000)
                )
            except Exception as exc:
                log.warning("cluster heartbeat: Redis unreachable (%s)", exc.__class__.__name__)
            await asyncio.sleep(self._heartbeat_s)

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                ch = self._channels
                await pubsub.subscribe(ch.replies(self._node_id), ch.router_elected, ch.router_view)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    channel = message["channel"]
                    channel = channel.decode() if isinstance(channel, bytes) else channel
                    if channel == ch.router_view:
                        self._view = parse_view(json.loads(message["data"]))
                    elif channel == ch.router_elected:
                        self._tasks.append(asyncio.create_task(self._announce()))
                    else:
                        self._sender.answered(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cluster listener: Redis unreachable (%s)", exc.__class__.__name__)
                await asyncio.sleep(1)

    async def _announce(self) -> None:
        """A new router was elected: tell it whose consoles are open here."""
        for agent_id in [a for a, n in self._local.items() if n > 0]:
            try:
                await self._sender.send("connected", {"agent_id": agent_id})
            except Exception as exc:
                log.warning("agent_id=%s not announced to the new router: %s", agent_id, exc)

    # ------------------------------------------------------------------ router duty
    async def start_duty(self, token: int) -> None:
        """This node routes now: it knows no console yet (every node announces its own)."""
        self._hosted.clear()
        self._watch = asyncio.create_task(self._watch_nodes(), name="cluster-watch")
        await self._redis.publish(self._channels.router_elected, self._node_id)

    async def stop_duty(self) -> None:
        watch, self._watch = self._watch, None
        await cancel(watch)

    async def _watch_nodes(self) -> None:
        """Count the consoles of a node that died as closed."""
        while True:
            await asyncio.sleep(self._heartbeat_s)
            for node in list(self._hosted):
                try:
                    alive = await self._redis.exists(keys.node(node))
                except Exception as exc:
                    log.warning("node %s not checked: %s", node, exc.__class__.__name__)
                    continue
                if not alive:
                    log.warning("node %s is gone: its agents' consoles count as closed", node)
                    for agent_id in self._hosted.pop(node, set()):
                        try:
                            await self._runner.agent_disconnected(agent_id)
                        except Exception:
                            log.exception("agent_id=%s not counted as gone", agent_id)

    async def handle(self, name: str, args: dict[str, Any], node: str) -> dict[str, Any]:
        """Carry out one command on the router node (``CommandConsumer``)."""
        r = self._runner
        agent_id: Any = args.get("agent_id")
        match name:
            case "created":
                inter = await self._store.interaction(int(args["interaction_id"]))
                if inter.state is InteractionState.QUEUED:
                    with contextlib.suppress(IllegalTransition):  # already routed
                        await r.on_created(InteractionCreated(inter))
                return {}
            case "connected":
                user = await self._store.user(int(args["agent_id"]))
                if user is None:
                    raise NotFound(f"no user {agent_id}")
                hosted = self._hosted.setdefault(node, set())
                if user.user_id not in hosted:
                    await r.agent_connected(user)
                    hosted.add(user.user_id)
            case "disconnected":
                if agent_id in self._hosted.get(node, set()):
                    self._hosted[node].discard(agent_id)
                    await r.agent_disconnected(agent_id)
            case "set_state":
                await r.set_state(
                    agent_id, Presence(args["state"]), args.get("reason"), by=args.get("by")
                )
            case "log_out":
                for agents in self._hosted.values():
                    agents.discard(agent_id)
                await r.log_out(agent_id, by=args["by"])
            case "transfer":
                await r.transfer(
                    args["interaction_id"],
                    agent_id,
                    to_queue=args.get("to_queue"),
                    to_agent=args.get("to_agent"),
                )
            case "accept":
                await r.accept(args["interaction_id"], agent_id)
            case "decline":
                await r.decline(args["interaction_id"], agent_id)
            case "close":
                await r.close(args["interaction_id"], agent_id)
            case "end_wrap_up":
                await r.end_wrap_up(args["interaction_id"], agent_id)
            case "customer_left":
                await r.customer_left(args["interaction_id"])
            case "unreachable":
                await r.submit(OfferUnreachable(args["interaction_id"], agent_id, args["reason"]))
            case "refresh_agents":
                await r.refresh_agents()
            case _:
                raise NotFound(f"no router command {name!r}")
        if agent_id is None:
            return {}
        return {
            "agent": state_json(r.state_of(agent_id)),
            "offers": offers_json(r.offers_for(agent_id)),
        }

    async def _publish_view(self, snapshot: RoutingSnapshotTaken) -> None:
        if not self._runner.running:
            return
        r = self._runner
        view = RouterView(
            snapshot,
            {a.agent_id: tuple(r.offers_for(a.agent_id)) for a in snapshot.agents},
            r.positions(),
            frozenset(a for agents in self._hosted.values() for a in agents),
        )
        raw = json.dumps(view_json(view))
        await self._redis.set(keys.ROUTER_VIEW, raw)
        await self._redis.publish(self._channels.router_view, raw)

    async def _created(self, e: InteractionCreated) -> None:
        # Persisted already: the router hears of it now, or finds it when it rebuilds.
        await self._sender.send(
            "created", {"interaction_id": e.interaction.interaction_id}, wait=False
        )

    # ------------------------------------------------------------------ commands (any node)
    async def _command(self, name: str, name_of: str = "", **args: Any) -> None:
        reply = await self._sender.send(name, args)
        if "agent" in reply:
            state = parse_state(reply["agent"])
            self._view = self._view.with_agent(state, parse_offers(reply["offers"]), name_of)

    async def agent_connected(self, user: User) -> None:
        self._local[user.user_id] += 1
        if self._local[user.user_id] > 1:
            return
        try:
            await self._command("connected", user.name, agent_id=user.user_id)
        except Exception:
            self._local[user.user_id] -= 1
            raise

    async def agent_disconnected(self, agent_id: int) -> None:
        if self._local[agent_id] <= 0:
            return
        self._local[agent_id] -= 1
        if self._local[agent_id] == 0:
            del self._local[agent_id]
            await self._command("disconnected", agent_id=agent_id)

    async def set_state(
        self, agent_id: int, state: Presence, reason: str | None = None, *, by: int | None = None
    ) -> None:
        await self._command("set_state", agent_id=agent_id, state=state.value, reason=reason, by=by)

    async def log_out(self, agent_id: int, *, by: int) -> None:
        self._local.pop(agent_id, None)
        await self._command("log_out", agent_id=agent_id, by=by)

    async def transfer(
        self, interaction_id: int, agent_id: int, *, to_queue: str | None, to_agent: int | None
    ) -> None:
        await self._command(
            "transfer",
            interaction_id=interaction_id,
            agent_id=agent_id,
            to_queue=to_queue,
            to_agent=to_agent,
        )

    async def accept(self, interaction_id: int, agent_id: int) -> None:
        await self._command("accept", interaction_id=interaction_id, agent_id=agent_id)

    async def decline(self, interaction_id: int, agent_id: int) -> None:
        await self._command("decline", interaction_id=interaction_id, agent_id=agent_id)

    async def close(self, interaction_id: int, agent_id: int) -> None:
        await self._command("close", interaction_id=interaction_id, agent_id=agent_id)

    async def end_wrap_up(self, interaction_id: int, agent_id: int) -> None:
        await self._command("end_wrap_up", interaction_id=interaction_id, agent_id=agent_id)

    async def customer_left(self, interaction_id: int) -> None:
        await self._command("customer_left", interaction_id=interaction_id)

    async def submit(self, event: Event) -> None:
        """The voice channel's one direct event: the agent's phone could not take an offer."""
        if not isinstance(event, OfferUnreachable):
            raise IllegalTransition(f"{type(event).__name__} is not sent across nodes")
        await self._command(
            "unreachable",
            interaction_id=event.interaction_id,
            agent_id=event.agent_id,
            reason=event.reason,
        )

    async def refresh_agents(self) -> None:
        await self._command("refresh_agents")

    def replace_rules(self, rules: tuple[Rule, ...], schedules: Any = None) -> None:
        # Each node keeps its own copy of the rules: the one that routes (or will) uses it.
        self._runner.replace_rules(rules, schedules)

    # ------------------------------------------------------------------ questions
    def state_of(self, agent_id: int) -> AgentStateReported:
        if self.routes:
            return self._runner.state_of(agent_id)
        return self._view.state_of(agent_id, self._capacity)

    def offers_for(self, agent_id: int) -> list[tuple[int, datetime]]:
        if self.routes:
            return self._runner.offers_for(agent_id)
        return self._view.offers_for(agent_id)

    def position(self, interaction_id: int) -> int | None:
        if self.routes:
            return self._runner.position(interaction_id)
        return self._view.positions.get(interaction_id)

    def signed_in(self, agent_id: int) -> bool:
        if self.routes:
            return any(agent_id in agents for agents in self._hosted.values())
        return agent_id in self._view.signed_in or self._local[agent_id] > 0

    def snapshot(self) -> RoutingSnapshotTaken:
        if self.routes:
            return self._runner.snapshot()
        return self._view.snapshot

    def queue(self, name: str) -> Queue:
        return self._runner.queue(name)
