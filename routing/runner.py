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
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from hub.daybook import day_start, fold
from hub.errors import HubError, IllegalTransition, StaleRouter, Unavailable
from hub.events import (
    AgentSnapshot,
    AgentStateReported,
    InteractionAbandoned,
    InteractionAssigned,
    InteractionCreated,
    InteractionEnded,
    InteractionRequeued,
    MaxWaitPassed,
    OfferMade,
    OfferWithdrawn,
    QueuePositionChanged,
    QueueSnapshot,
    RoutingSnapshotTaken,
    WrapUpStarted,
)
from hub.followups import OWNER_ATTRIBUTE
from hub.hours import Schedule
from hub.lifecycle import Action
from hub.model import (
    TASK_ATTRIBUTE_PREFIX,
    AgentStep,
    Channel,
    Interaction,
    InteractionState,
    Presence,
    Queue,
    Role,
    User,
)
from hub.ports import Clock, EventBus, Store
from hub.satisfaction import FOLLOWUP_ATTRIBUTE
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
    Tick,
    WrapUpFinished,
)
from routing.expressions import parse
from routing.rules import Rule

log = logging.getLogger(__name__)

PREVIEW_CHARS = 140
SNAPSHOT_EVERY_S = 0.25


DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class RoutingSetup:
    """Everything the router is configured with (from ``config.yaml``)."""

    queues: Mapping[str, Queue]
    default_capacity: Mapping[Channel, int]
    rules: tuple[Rule, ...] = ()
    policy: RoutingPolicy = field(default_factory=RoutingPolicy)
    profiles: Mapping[str, tuple[Mapping[Channel, int], Mapping[str, int]]] = field(
        default_factory=dict
    )  # by lower-case email: (capacity, skills)
    tier_priority: Mapping[str, int] = field(default_factory=dict)
    presence_grace_s: float = 0.0
    seed: int | None = None
    schedules: Mapping[str, Schedule] = field(default_factory=dict)  # business hours by name
    day_zone: tzinfo = UTC  # today's figures start at midnight here (reports.timezone)
    followup_owner_wait_s: float = 300.0  # a follow-up is offered to its owner alone this long


# Attributes a rule's ``when`` may name. Channels set the text ones they know (others are
# ""); ``in_hours`` follows the ``default`` business-hours schedule (true when there is
# none) and ``in_hours_<name>`` each named one.
CHANNEL_ATTRIBUTES = ("address", "language", "subject", "ivr")
BASE_ATTRIBUTES = (
    "channel",
    "queue",
    "priority",
    "tier",
    "customer_id",
    "first_message",
    "in_hours",
    *CHANNEL_ATTRIBUTES,
    TASK_ATTRIBUTE_PREFIX,  # task.<key>: a task's own attributes (channel api)
)


def rule_attributes(schedules: Mapping[str, Schedule]) -> frozenset[str]:
    """Every attribute name an interaction carries into the rules."""
    return frozenset(BASE_ATTRIBUTES) | {f"in_hours_{name}" for name in schedules}


def hours_attributes(schedules: Mapping[str, Schedule], now: datetime) -> dict[str, bool]:
    flags = {f"in_hours_{name}": s.is_open(now) for name, s in schedules.items()}
    default = schedules.get("default")
    flags["in_hours"] = default.is_open(now) if default is not None else True
    return flags


class RouterRunner:
    """The routing engine fed one event at a time.

    On one node (the default) it runs from start to stop and hears new interactions on the
    bus. In a cluster (``cluster=True``) it runs only while its node holds the router lease:
    ``start(fence=token)`` makes every claim carry the lease's fencing token, events reach it
    through ``hub.cluster`` rather than the local bus, and a claim refused as stale stops it
    at once (``on_fenced``) instead of rebuilding.
    """

    def __init__(
        self,
        *,
        setup: RoutingSetup,
        store: Store,
        bus: EventBus,
        clock: Clock,
        snapshot_wanted: Callable[[], bool] = lambda: True,
        cluster: bool = False,
    ) -> None:
        self._setup = setup
        # Whether anyone watches the snapshots (a supervisor connected): with none, the
        # picture of every agent is not built at all (most of the CPU at 1,000 agents).
        self._snapshot_wanted = snapshot_wanted
        self._queues = dict(setup.queues)
        self._store = store
        self._bus = bus
        self._clock = clock
        self._capacity = dict(setup.default_capacity)
        self._requires = {name: parse(q.requires, missing=0) for name, q in self._queues.items()}
        self._engine = self._new_engine()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._names: dict[int, str] = {}
        self._emails: dict[int, str] = {}
        self._connections: Counter[int] = Counter()
        self._presence: dict[int, tuple[Presence, str | None]] = {}
        self._grace: dict[int, asyncio.TimerHandle] = {}
        self._snapshot_task: asyncio.Task[None] | None = None
        self._logged: dict[int, tuple[Presence, str | None]] = {}  # last agent step stored
        self._set_by: dict[int, int] = {}  # the supervisor behind a pending state change
        self._cluster = cluster
        self._fence: int | None = None  # the lease's fencing token while routing (cluster)
        self.on_fenced: Callable[[], None] = lambda: None
        if not cluster:
            bus.subscribe(InteractionCreated, self.on_created)

    def _new_engine(self) -> Engine:
        rng = random.Random(self._setup.seed)  # noqa: S311 (routing, not security)
        return Engine(
            self._queues,
            rules=self._setup.rules,
            policy=self._setup.policy,
            rng=rng,
            day_zone=self._setup.day_zone,
        )

    def _profile(self, agent_id: int) -> tuple[dict[Channel, int], dict[str, int]]:
        found = self._setup.profiles.get(self._emails.get(agent_id, "").lower())
        if found is None:
            return dict(self._capacity), {}
        return dict(found[0]), dict(found[1])

    def _agent_event(self, agent_id: int, state: Presence, reason: str | None = None) -> Event:
        capacity, skills = self._profile(agent_id)
        return AgentStateChanged(agent_id, state, capacity, skills, reason)

    def replace_rules(
        self, rules: tuple[Rule, ...], schedules: Mapping[str, Schedule] | None = None
    ) -> None:
        """New rules (and business hours) for interactions queued from now on; waiting ones
        keep their targets."""
        self._setup = replace(
            self._setup,
            rules=rules,
            schedules=self._setup.schedules if schedules is None else schedules,
        )
        self._engine.replace_rules(rules)

    # ------------------------------------------------------------------ life cycle
    async def start(self, *, fence: int | None = None) -> None:
        """Rebuild the engine from the store and start routing; in a cluster, ``fence`` is the
        router lease's token, carried by every claim from now on."""
        self._fence = fence
        if self._cluster:
            # A new term: whatever this node knew when it last routed is stale. The database
            # has the agents' states, and every node announces its open consoles again.
            self._connections.clear()
            self._presence.clear()
        async with self._lock:
            await self._rebuild()
        self._timer = asyncio.create_task(self._run_timer(), name="router-timer")

    @property
    def running(self) -> bool:
        """Whether this node runs the routing engine (between start and stop)."""
        return self._timer is not None

    async def stop(self) -> None:
        for handle in self._grace.values():
            handle.cancel()
        self._grace.clear()
        if self._snapshot_task is not None:
            self._snapshot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._snapshot_task
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        self._fence = None

    @property
    def fence(self) -> int | None:
        return self._fence

    async def _rebuild(self) -> None:
        """Load the engine from the store: the durable truth after a start or a failure."""
        now = self._clock()
        self._engine = self._new_engine()
        for user in await self._store.users():
            if user.role in (Role.AGENT, Role.SUPERVISOR):
                self._names[user.user_id] = user.name
                self._emails[user.user_id] = user.email
                self._engine.handle(self._agent_event(user.user_id, Presence.OFFLINE), now)
                self._presence.setdefault(user.user_id, (user.presence, None))
        held_commands: list[Command] = []
        for inter in await self._store.routable():
            if inter.state is InteractionState.OFFERED:
                # An offer in flight when we stopped: nobody can answer it now.
                inter = await self._store.transition(
                    inter.interaction_id,
                    Action.REQUEUE,
                    now=now,
                    step="requeued_on_restart",
                    fence=self._fence,
                )
            if inter.queue not in self._queues:
                log.error(
                    "interaction_id=%s is in queue %r, which is no longer configured",
                    inter.interaction_id,
                    inter.queue,
                )
                continue
            if inter.state is InteractionState.QUEUED:
                event: Event = await self._queued_event(inter)
            elif inter.agent_id is not None and inter.agent_id in self._names:
                until = None
                if inter.state is InteractionState.WRAP_UP and inter.wrap_up_at is not None:
                    until = inter.wrap_up_at + timedelta(
                        seconds=self._queues[inter.queue].wrap_up_s
                    )
                event = InteractionHeld(
                    inter.interaction_id,
                    inter.agent_id,
                    inter.queue,
                    inter.channel,
                    until,
                    inter.queued_at,
                    inter.priority,
                )
            else:
                continue
            held_commands += self._engine.handle(event, now)
        for agent_id, count in self._connections.items():
            if count:
                state, reason = self._presence.get(agent_id, (Presence.AWAY, None))
                held_commands += self._engine.handle(
                    self._agent_event(agent_id, state, reason), now
                )
        # After re-queueing the waiting ones, which the engine would count as entering again.
        await self._restore_day(now)
        await self._execute(held_commands, now)

    async def _restore_day(self, now: datetime) -> None:
        """Today's queue counters from the stored steps, so a restart does not zero them."""
        start = day_start(now, self._setup.day_zone)
        records = await self._store.day_records(start, now + timedelta(seconds=1))
        day = fold(
            ((r.interaction, r.steps) for r in records),
            (),
            start=start,
            now=now,
            sla_s={name: q.sla_s for name, q in self._queues.items()},
            queues=self._queues,
        )
        for name, q in day.queues.items():
            if name in self._queues:
                self._engine.restore_day(
                    name,
                    now,
                    entered=q.offered,
                    answered=q.answered,
                    abandoned=q.abandoned,
                    within_sla=q.within_sla,
                    answer_wait_s=q.answer_wait_s,
                )

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
        if self._cluster and not self.running:
            raise Unavailable("this node does not run the router now; try again shortly")
        async with self._lock:
            now = self._clock()
            commands = self._engine.handle(Tick(), now)
            try:
                commands += self._engine.handle(event, now)
            finally:
                await self._execute(commands, now)
        self._wake.set()

    async def on_created(self, e: InteractionCreated) -> None:
        await self.submit(await self._queued_event(e.interaction))

    async def _queued_event(self, i: Interaction) -> InteractionQueued:
        """The routing view of a new interaction: rule attributes, tier priority, last agent."""
        customer = await self._store.customer_summary(i.customer_id, identities=False)
        first = await self._store.first_message(i.interaction_id)
        attributes: dict[str, object] = {
            **{name: "" for name in CHANNEL_ATTRIBUTES},
            **{
                k: v
                for k, v in i.attributes.items()
                if k in CHANNEL_ATTRIBUTES or k.startswith(TASK_ATTRIBUTE_PREFIX)
            },
            **hours_attributes(self._setup.schedules, i.queued_at),
            "tier": customer.tier,
            "customer_id": customer.customer_id,
            "first_message": first.body if first else "",
        }
        priority = i.priority + self._setup.tier_priority.get(customer.tier, 0)
        # An agent's follow-up waits for its owner first, for its own window; a low
        # rating's follow-up is not kept for the agent who was rated.
        sticky_s: float | None = None
        owner = i.attributes.get(OWNER_ATTRIBUTE, "")
        if owner.isdigit():
            last_agent: int | None = int(owner)
            sticky_s = self._setup.followup_owner_wait_s
        elif FOLLOWUP_ATTRIBUTE in i.attributes:
            last_agent = None
        else:
            last_agent = await self._store.last_agent(i.customer_id, i.channel)
        return InteractionQueued(
            i.interaction_id,
            i.queue,
            i.channel,
            priority,
            i.queued_at,
            attributes,
            last_agent,
            sticky_s,
        )

    async def refresh_agents(self) -> None:
        """Make staff added since start-up (e.g. by ``contact-hub user add``) known, offline."""
        for user in await self._store.users():
            if user.role in (Role.AGENT, Role.SUPERVISOR) and user.user_id not in self._names:
                self._names[user.user_id] = user.name
                self._emails[user.user_id] = user.email
                await self.submit(self._agent_event(user.user_id, Presence.OFFLINE))

    async def agent_connected(self, user: User) -> None:
        self._names[user.user_id] = user.name
        self._emails[user.user_id] = user.email
        self._connections[user.user_id] += 1
        pending = self._grace.pop(user.user_id, None)
        if pending is not None:
            pending.cancel()
        state, reason = self._presence.get(user.user_id, (user.presence, None))
        if state is Presence.OFFLINE:
            state, reason = Presence.AWAY, None
        self._presence[user.user_id] = (state, reason)
        await self.submit(self._agent_event(user.user_id, state, reason))

    async def agent_disconnected(self, agent_id: int) -> None:
        """The last socket of an agent closed: away at once (offers go to others), offline
        after the grace period unless they come back (a page reload, a network blip)."""
        if self._connections[agent_id] <= 0:  # logged out by a supervisor: offline already
            return
        self._connections[agent_id] -= 1
        if self._connections[agent_id] > 0:
            return
        del self._connections[agent_id]
        grace = self._setup.presence_grace_s
        if grace <= 0:
            await self.submit(self._agent_event(agent_id, Presence.OFFLINE))
            return
        await self.submit(self._agent_event(agent_id, Presence.AWAY, DISCONNECTED))
        loop = asyncio.get_running_loop()
        self._grace[agent_id] = loop.call_later(
            grace, lambda: asyncio.ensure_future(self._grace_over(agent_id))
        )

    async def _grace_over(self, agent_id: int) -> None:
        self._grace.pop(agent_id, None)
        if not self._connections[agent_id]:
            try:
                await self.submit(self._agent_event(agent_id, Presence.OFFLINE))
            except HubError:
                log.exception("agent_id=%s could not be set offline", agent_id)

    async def set_state(
        self, agent_id: int, state: Presence, reason: str | None = None, *, by: int | None = None
    ) -> None:
        """The agent (or, ``by``, a supervisor) sets their state; the step names who."""
        if by is not None:
            self._set_by[agent_id] = by
        await self._store.set_presence(agent_id, state)
        self._presence[agent_id] = (state, reason)
        await self.submit(self._agent_event(agent_id, state, reason))

    async def log_out(self, agent_id: int, *, by: int) -> None:
        """A supervisor logged the agent out: offline now, with no grace period; the sockets
        they still have are closed by the console, and their closing changes nothing."""
        self._connections.pop(agent_id, None)
        pending = self._grace.pop(agent_id, None)
        if pending is not None:
            pending.cancel()
        await self.set_state(agent_id, Presence.OFFLINE, by=by)

    async def transfer(
        self, interaction_id: int, agent_id: int, *, to_queue: str | None, to_agent: int | None
    ) -> None:
        await self.submit(InteractionTransferred(interaction_id, agent_id, to_queue, to_agent))

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
            agent_id, stats.state, stats.load, stats.capacity, stats.state_since, stats.reason
        )

    def signed_in(self, agent_id: int) -> bool:
        """Whether the agent has a console open on this node."""
        return self._connections[agent_id] > 0

    def offers_for(self, agent_id: int) -> list[tuple[int, datetime]]:
        return self._engine.offers_for(agent_id)

    def position(self, interaction_id: int) -> int | None:
        return self._engine.position(interaction_id)

    def positions(self) -> dict[int, int]:
        return self._engine.positions()

    def queue(self, name: str) -> Queue:
        return self._engine.queue(name)

    def snapshot(self) -> RoutingSnapshotTaken:
        now = self._clock()
        queues = tuple(
            QueueSnapshot(
                q.name,
                q.waiting,
                q.offered,
                q.assigned,
                q.oldest_queued_at,
                q.entered_today,
                q.answered_today,
                q.abandoned_today,
                q.service_level_today,
                q.asa_today_s,
                self._queues[q.name].sla_s,
            )
            for q in self._engine.queue_stats(now)
        )
        agents = tuple(
            AgentSnapshot(
                a.agent_id,
                self._names.get(a.agent_id, f"agent {a.agent_id}"),
                a.state,
                a.state_since,
                a.load,
                a.capacity,
                a.reason,
                a.skills,
                self._serves(a.capacity, a.skills),
            )
            for a in sorted(self._engine.agent_stats(), key=lambda a: a.agent_id)
        )
        return RoutingSnapshotTaken(now, queues, agents)

    def _serves(
        self, capacity: Mapping[Channel, int], skills: Mapping[str, int]
    ) -> tuple[str, ...]:
        """The queues an agent can take contacts from: capacity on one of the queue's
        channels, and skills that meet its ``requires``."""
        return tuple(
            name
            for name, q in sorted(self._queues.items())
            if any(capacity.get(ch, 0) > 0 for ch in q.channels)
            and self._requires[name].evaluate(skills)
        )

    # ------------------------------------------------------------------ carrying out commands
    async def _execute(self, commands: list[Command], now: datetime) -> None:
        if not commands:
            return
        try:
            for command in commands:
                await self._carry_out(command, now)
        except StaleRouter:
            # Another node holds the router lease now: its claims are the truth, so stop
            # deciding at once rather than rebuild (which would requeue its offers).
            log.error("router fenced off by a newer router; this node stops routing")
            self.on_fenced()
            raise
        except HubError as exc:
            log.error("routing command failed (%s); rebuilding from the store", exc.message)
            await self._rebuild()
        self._schedule_snapshot()

    def _schedule_snapshot(self) -> None:
        """Publish the supervisors' picture soon, at most every SNAPSHOT_EVERY_S: a burst of
        routing events costs one snapshot, not one per event (it lists every agent)."""
        if self._snapshot_task is None or self._snapshot_task.done():
            self._snapshot_task = asyncio.create_task(self._publish_snapshot())

    async def _publish_snapshot(self) -> None:
        await asyncio.sleep(SNAPSHOT_EVERY_S)
        if not self._snapshot_wanted():
            return
        try:
            await self._bus.publish(self.snapshot())
        except Exception:
            log.exception("snapshot not published")

    async def _carry_out(self, command: Command, now: datetime) -> None:
        publish = self._bus.publish
        store = _Fenced(self._store, self._fence)
        match command:
            case OfferInteraction(interaction_id=iid, agent_id=agent_id):
                try:
                    inter = await store.transition(iid, Action.OFFER, now=now, agent_id=agent_id)
                except IllegalTransition:
                    # ring_all: the interaction is already offered to others; one more offer.
                    current = await store.interaction(iid)
                    if current.state is not InteractionState.OFFERED:
                        raise
                    inter = await store.add_step(iid, "offered", now=now, agent_id=agent_id)
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
                if command.requeue:
                    await store.transition(
                        iid, Action.REQUEUE, now=now, agent_id=agent_id, step=reason
                    )
                else:
                    await store.add_step(iid, f"offer_{reason}", now=now, agent_id=agent_id)
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
                await publish(
                    QueuePositionChanged(
                        iid, inter.conversation_id, position, command.estimated_wait_s
                    )
                )
            case ReportAgentState(agent_id=agent_id, state=state, load=load, capacity=cap):
                if self._logged.get(agent_id) != (state, command.reason):
                    set_by = self._set_by.pop(agent_id, None)
                    await store.add_agent_step(
                        AgentStep(agent_id, state, now, command.reason, set_by)
                    )
                    self._logged[agent_id] = (state, command.reason)
                await publish(
                    AgentStateReported(
                        agent_id, state, load, cap, command.state_since, command.reason
                    )
                )
            case SetAgentAway(agent_id=agent_id, reason=reason):
                await store.set_presence(agent_id, Presence.AWAY)
                self._presence[agent_id] = (Presence.AWAY, reason)
                log.info("agent_id=%s set away: %s", agent_id, reason)
            case MoveInteraction(interaction_id=iid, queue=queue, reason=reason):
                await store.add_step(iid, f"moved_{reason}:{queue}", now=now, queue=queue)
                log.info("interaction_id=%s moved to queue %s (%s)", iid, queue, reason)
            case MaxWaitReached(interaction_id=iid, action=action):
                inter = await store.add_step(iid, f"max_wait_{action}", now=now)
                log.warning("interaction_id=%s waited the queue's maximum (%s)", iid, action)
                await publish(MaxWaitPassed(inter, action))
            case TransferInteraction(interaction_id=iid, from_agent=from_agent, queue=queue):
                step = "transferred" if command.to_agent is None else "transferred_to_agent"
                inter = await store.transition(
                    iid, Action.TRANSFER, now=now, agent_id=from_agent, step=step, queue=queue
                )
                log.info("interaction_id=%s transferred by agent_id=%s", iid, from_agent)
                await publish(InteractionRequeued(inter, from_agent, command.to_agent))
            case _:
                raise IllegalTransition(f"unknown routing command {command!r}")

    async def _interaction(self, interaction_id: int) -> Interaction:
        return await self._store.interaction(interaction_id)


class _Fenced:
    """The router's claims, each carrying its fencing token (None on a single node)."""

    def __init__(self, store: Store, fence: int | None) -> None:
        self._store = store
        self._fence = fence

    async def transition(self, interaction_id: int, action: Action, **kw: Any) -> Interaction:
        return await self._store.transition(interaction_id, action, fence=self._fence, **kw)

    async def add_step(self, interaction_id: int, step: str, **kw: Any) -> Interaction:
        return await self._store.add_step(interaction_id, step, fence=self._fence, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
