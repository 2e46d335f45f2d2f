"""The async runner: feeds the pure engine events, one at a time, and carries out its commands.

Every command is persisted (a conditional update in the store) before it is announced on the
bus. Events are serialised by a lock, so the engine sees one at a time and an offer can
never be accepted twice. The runner sleeps until the engine's next deadline and then ticks.
If carrying out a command fails (the database went away, or another writer changed the
interaction), the engine is rebuilt from the store, which is the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from hub.errors import HubError, IllegalTransition
from hub.events import (
    AgentSnapshot,
    AgentStateReported,
    InteractionAbandoned,
    InteractionAssigned,
    InteractionCreated,
    InteractionEnded,
    OfferMade,
    OfferWithdrawn,
    QueuePositionChanged,
    QueueSnapshot,
    RoutingSnapshotTaken,
    WrapUpStarted,
)
from hub.lifecycle import Action
from hub.model import Channel, Interaction, InteractionState, Presence, Queue, Role, User
from hub.ports import Clock, EventBus, Store
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

log = logging.getLogger(__name__)

PREVIEW_CHARS = 140


class RouterRunner:
    def __init__(
        self,
        *,
        queues: Mapping[str, Queue],
        store: Store,
        bus: EventBus,
        clock: Clock,
        capacity: Mapping[Channel, int],
    ) -> None:
        self._queues = dict(queues)
        self._store = store
        self._bus = bus
        self._clock = clock
        self._capacity = dict(capacity)
        self._engine = Engine(self._queues)
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._names: dict[int, str] = {}
        self._connections: Counter[int] = Counter()
        self._presence: dict[int, Presence] = {}
        bus.subscribe(InteractionCreated, self._on_created)

    # ------------------------------------------------------------------ life cycle
    async def start(self) -> None:
        async with self._lock:
            await self._rebuild()
        self._timer = asyncio.create_task(self._run_timer(), name="router-timer")

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None

    async def _rebuild(self) -> None:
        """Load the engine from the store: the durable truth after a start or a failure."""
        now = self._clock()
        self._engine = Engine(self._queues)
        for user in await self._store.users():
            if user.role in (Role.AGENT, Role.SUPERVISOR):
                self._names[user.user_id] = user.name
                self._engine.handle(
                    AgentStateChanged(user.user_id, Presence.OFFLINE, self._capacity), now
                )
                self._presence.setdefault(user.user_id, user.presence)
        held_commands: list[Command] = []
        for inter in await self._store.routable():
            if inter.state is InteractionState.OFFERED:
                # An offer in flight when we stopped: nobody can answer it now.
                inter = await self._store.transition(
                    inter.interaction_id, Action.REQUEUE, now=now, step="requeued_on_restart"
                )
            if inter.queue not in self._queues:
                log.error(
                    "interaction_id=%s is in queue %r, which is no longer configured",
                    inter.interaction_id,
                    inter.queue,
                )
                continue
            if inter.state is InteractionState.QUEUED:
                event: Event = InteractionQueued(
                    inter.interaction_id,
                    inter.queue,
                    inter.channel,
                    inter.priority,
                    inter.queued_at,
                )
            elif inter.agent_id is not None and inter.agent_id in self._names:
                until = None
                if inter.state is InteractionState.WRAP_UP and inter.wrap_up_at is not None:
                    until = inter.wrap_up_at + timedelta(
                        seconds=self._queues[inter.queue].wrap_up_s
                    )
                event = InteractionHeld(
                    inter.interaction_id, inter.agent_id, inter.queue, inter.channel, until
                )
            else:
                continue
            held_commands += self._engine.handle(event, now)
        for agent_id, count in self._connections.items():
            if count:
                held_commands += self._engine.handle(
                    AgentStateChanged(
                        agent_id, self._presence.get(agent_id, Presence.AWAY), self._capacity
                    ),
                    now,
                )
        await self._execute(held_commands, now)

    async def _run_timer(self) -> None:
        while True:
            deadline = self._engine.next_deadline()
            timeout = None
            if deadline is not None:
                timeout = max(0.0, (deadline - self._clock()).total_seconds())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                try:
                    await self.submit(Tick())
                except Exception:
                    log.exception("router tick failed")
                    await asyncio.sleep(1)
            self._wake.clear()

    # ------------------------------------------------------------------ feeding events
    async def submit(self, event: Event) -> None:
        """Hand one event to the engine and carry out what it decides (persist, announce).

        Raises the engine's ``HubError`` when the event is illegal; nothing changes then.
        """
        async with self._lock:
            now = self._clock()
            commands = self._engine.handle(Tick(), now)
            try:
                commands += self._engine.handle(event, now)
            finally:
                await self._execute(commands, now)
        self._wake.set()

    async def _on_created(self, e: InteractionCreated) -> None:
        i = e.interaction
        await self.submit(
            InteractionQueued(i.interaction_id, i.queue, i.channel, i.priority, i.queued_at)
        )

    async def refresh_agents(self) -> None:
        """Make staff added since start-up (e.g. by ``contact-hub user add``) known, offline."""
        for user in await self._store.users():
            if user.role in (Role.AGENT, Role.SUPERVISOR) and user.user_id not in self._names:
                self._names[user.user_id] = user.name
                await self.submit(AgentStateChanged(user.user_id, Presence.OFFLINE, self._capacity))

    async def agent_connected(self, user: User) -> None:
        self._names[user.user_id] = user.name
        self._connections[user.user_id] += 1
        state = self._presence.get(user.user_id, user.presence)
        if state is Presence.OFFLINE:
            state = Presence.AWAY
        self._presence[user.user_id] = state
        await self.submit(AgentStateChanged(user.user_id, state, self._capacity))

    async def agent_disconnected(self, agent_id: int) -> None:
        self._connections[agent_id] -= 1
        if self._connections[agent_id] <= 0:
            del self._connections[agent_id]
            await self.submit(AgentStateChanged(agent_id, Presence.OFFLINE))

    async def set_state(self, agent_id: int, state: Presence) -> None:
        await self._store.set_presence(agent_id, state)
        self._presence[agent_id] = state
        await self.submit(AgentStateChanged(agent_id, state))

    async def accept(self, interaction_id: int, agent_id: int) -> None:
        await self.submit(OfferAccepted(interaction_id, agent_id))

    async def decline(self, interaction_id: int, agent_id: int) -> None:
        await self.submit(OfferDeclined(interaction_id, agent_id))

    async def close(self, interaction_id: int, agent_id: int) -> None:
        await self.submit(AgentClosed(interaction_id, agent_id))

    async def customer_left(self, interaction_id: int) -> None:
        await self.submit(CustomerLeft(interaction_id))

    async def end_wrap_up(self, interaction_id: int, agent_id: int) -> None:
        await self.submit(WrapUpFinished(interaction_id, agent_id))

    # ------------------------------------------------------------------ queries
    def state_of(self, agent_id: int) -> AgentStateReported:
        stats = self._engine.agent(agent_id)
        if stats is None:
            return AgentStateReported(agent_id, Presence.OFFLINE, {}, dict(self._capacity))
        return AgentStateReported(
            agent_id, stats.state, stats.load, stats.capacity, stats.state_since
        )

    def offers_for(self, agent_id: int) -> list[tuple[int, datetime]]:
        return self._engine.offers_for(agent_id)

    def position(self, interaction_id: int) -> int | None:
        return self._engine.position(interaction_id)

    def queue(self, name: str) -> Queue:
        return self._engine.queue(name)

    def snapshot(self) -> RoutingSnapshotTaken:
        queues = tuple(
            QueueSnapshot(q.name, q.waiting, q.offered, q.assigned, q.oldest_queued_at)
            for q in self._engine.queue_stats()
        )
        agents = tuple(
            AgentSnapshot(
                a.agent_id,
                self._names.get(a.agent_id, f"agent {a.agent_id}"),
                a.state,
                a.state_since,
                a.load,
                a.capacity,
            )
            for a in sorted(self._engine.agent_stats(), key=lambda a: a.agent_id)
        )
        return RoutingSnapshotTaken(self._clock(), queues, agents)

    # ------------------------------------------------------------------ carrying out commands
    async def _execute(self, commands: list[Command], now: datetime) -> None:
        if not commands:
            return
        try:
            for command in commands:
                await self._carry_out(command, now)
        except HubError as exc:
            log.error("routing command failed (%s); rebuilding from the store", exc.message)
            await self._rebuild()
        await self._bus.publish(self.snapshot())

    async def _carry_out(self, command: Command, now: datetime) -> None:
        store, publish = self._store, self._bus.publish
        match command:
            case OfferInteraction(interaction_id=iid, agent_id=agent_id):
                inter = await store.transition(iid, Action.OFFER, now=now, agent_id=agent_id)
                customer = await store.customer_summary(inter.customer_id)
                first = await store.first_message(iid)
                preview = first.body[:PREVIEW_CHARS] if first else ""
                log.info("interaction_id=%s offered to agent_id=%s", iid, agent_id)
                await publish(
                    OfferMade(
                        inter, agent_id, customer, preview, command.expires_at, command.timeout_s
                    )
                )
            case WithdrawOffer(interaction_id=iid, agent_id=agent_id, reason=reason):
                await store.transition(iid, Action.REQUEUE, now=now, agent_id=agent_id, step=reason)
                log.info(
                    "interaction_id=%s offer to agent_id=%s withdrawn: %s", iid, agent_id, reason
                )
                await publish(OfferWithdrawn(iid, agent_id, reason))
            case AssignInteraction(interaction_id=iid, agent_id=agent_id):
                inter = await store.transition(iid, Action.ACCEPT, now=now, agent_id=agent_id)
                log.info("interaction_id=%s assigned to agent_id=%s", iid, agent_id)
                await publish(InteractionAssigned(inter, self._names.get(agent_id, "")))
            case StartWrapUp(interaction_id=iid, agent_id=agent_id, until=until, closed_by=by):
                inter = await store.transition(
                    iid,
                    Action.CLOSE,
                    now=now,
                    agent_id=agent_id,
                    step=f"closed_by_{by}",
                    closed_by=by,
                )
                log.info("interaction_id=%s closed by %s; wrap-up", iid, by)
                await publish(WrapUpStarted(inter, until, by))
            case EndInteraction(interaction_id=iid, agent_id=agent_id):
                inter = await store.transition(iid, Action.END, now=now, agent_id=agent_id)
                log.info("interaction_id=%s ended", iid)
                await publish(InteractionEnded(inter))
            case AbandonInteraction(interaction_id=iid, offered_to=offered_to):
                inter = await store.transition(iid, Action.ABANDON, now=now, step="abandoned")
                log.info("interaction_id=%s abandoned by the customer", iid)
                if offered_to is not None:
                    await publish(OfferWithdrawn(iid, offered_to, "abandoned"))
                await publish(InteractionAbandoned(inter, offered_to))
            case AnnouncePosition(interaction_id=iid, position=position):
                inter = await self._interaction(iid)
                await publish(QueuePositionChanged(iid, inter.conversation_id, position))
            case ReportAgentState(agent_id=agent_id, state=state, load=load, capacity=cap):
                await publish(AgentStateReported(agent_id, state, load, cap, command.state_since))
            case _:
                raise IllegalTransition(f"unknown routing command {command!r}")

    async def _interaction(self, interaction_id: int) -> Interaction:
        return await self._store.interaction(interaction_id)
