"""Prometheus metrics of one hub node, served as ``/metrics`` (prometheus-client).

Each hub has its own ``CollectorRegistry`` (never the library's global one), so several hubs
can live in one process. Two kinds of figures:

- counters and the latency histogram follow the facts announced on this node's bus: offers
  by outcome, first-offer latency, interactions created and finished;
- gauges are read when scraped: unfinished interactions and the email outbox from the
  database (the same on every node), queues from the router, sockets from this node.

Offer outcomes: ``accepted``; ``declined``; ``expired`` (nobody answered in time);
``unreachable`` (the agent's phone was busy or rang out); ``withdrawn`` (taken back for any
other reason: another agent took it, the customer left, the agent went away, capacity cut).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from hub.errors import HubError
from hub.events import (
    InteractionAbandoned,
    InteractionAssigned,
    InteractionCreated,
    InteractionEnded,
    OfferMade,
    OfferWithdrawn,
    RoutingSnapshotTaken,
)
from hub.lifecycle import ACTIVE_STATES
from hub.model import Channel, InteractionState
from hub.ports import Clock, EventBus
from hub.web import errors_middleware, from_networks, public

CONTENT_TYPE = CONTENT_TYPE_LATEST
OUTCOMES = ("accepted", "declined", "expired", "unreachable", "withdrawn")
# The router's reasons for taking an offer back (routing.engine), as outcomes.
WITHDRAWN_AS = {
    "declined": "declined",
    "expired": "expired",
    "no_answer": "unreachable",
    "busy": "unreachable",
}
# From seconds (chat on an idle floor) to an hour (email, a long queue).
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
REMEMBERED_OFFERS = 100_000  # interactions whose first offer was seen, until they finish


class Counts(Protocol):
    async def active_interactions(self) -> dict[tuple[Channel, InteractionState], int]: ...
    async def outbox_backlog(self) -> int: ...
    async def webhook_backlog(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Connections:
    """Who is connected to this node now."""

    agents: int
    visitors: int


class HubMetrics:
    def __init__(
        self,
        *,
        bus: EventBus,
        counts: Counts,
        snapshot: Callable[[], RoutingSnapshotTaken],
        connections: Callable[[], Connections],
        leader: Callable[[], bool],
        clock: Clock,
    ) -> None:
        self._counts = counts
        self._snapshot = snapshot
        self._connections = connections
        self._leader = leader
        self._clock = clock
        self._first_offer_seen: OrderedDict[int, None] = OrderedDict()
        r = self.registry = CollectorRegistry()
        self.created = Counter(
            "hub_interactions_created",
            "Interactions taken in by this node, by channel.",
            ["channel"],
            registry=r,
        )
        self.finished = Counter(
            "hub_interactions_finished",
            "Interactions finished by the router on this node, by channel and final state.",
            ["channel", "state"],
            registry=r,
        )
        self.active = Gauge(
            "hub_interactions",
            "Unfinished interactions by channel and state (from the database).",
            ["channel", "state"],
            registry=r,
        )
        self.offers_made = Counter("hub_offers", "Offers made to agents.", registry=r)
        self.offers = Counter(
            "hub_offer_outcomes", "How offers to agents ended, by outcome.", ["outcome"], registry=r
        )
        self.latency = Histogram(
            "hub_ingress_to_offer_seconds",
            "From an interaction's creation to its first offer to an agent.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.waiting = Gauge(
            "hub_queue_waiting", "Interactions waiting in the queue.", ["queue"], registry=r
        )
        self.longest_wait = Gauge(
            "hub_queue_longest_wait_seconds",
            "How long the queue's oldest waiting interaction has waited (0 when none).",
            ["queue"],
            registry=r,
        )
        self.agents = Gauge(
            "hub_connected_agents", "Agents with the console open on this node.", registry=r
        )
        self.visitors = Gauge(
            "hub_connected_visitors", "Web-chat visitors connected to this node.", registry=r
        )
        self.outbox = Gauge(
            "hub_email_outbox_backlog",
            "Emails waiting to be handed to the relay (from the database).",
            registry=r,
        )
        self.webhooks = Gauge(
            "hub_webhook_backlog",
            "Webhook deliveries waiting to be posted or retried (from the database).",
            registry=r,
        )
        self.router_leader = Gauge(
            "hub_router_leader", "1 on the node that runs the routing engine, else 0.", registry=r
        )
        for channel in Channel:
            self.created.labels(channel.value)
        for outcome in OUTCOMES:
            self.offers.labels(outcome)
        bus.subscribe(InteractionCreated, self._on_created)
        bus.subscribe(OfferMade, self._on_offer)
        bus.subscribe(OfferWithdrawn, self._on_withdrawn)
        bus.subscribe(InteractionAssigned, self._on_assigned)
        bus.subscribe(InteractionEnded, self._on_ended)
        bus.subscribe(InteractionAbandoned, self._on_abandoned)

    # ------------------------------------------------------------------ scraping
    async def render(self) -> bytes:
        """The text exposition format, gauges read now."""
        counts = await self._counts.active_interactions()
        backlog = await self._counts.outbox_backlog()
        for channel in Channel:
            for state in ACTIVE_STATES:
                self.active.labels(channel.value, state.value).set(counts.get((channel, state), 0))
        self.outbox.set(backlog)
        self.webhooks.set(await self._counts.webhook_backlog())
        snapshot = self._snapshot()
        for q in snapshot.queues:
            self.waiting.labels(q.name).set(q.waiting)
            oldest = q.oldest_queued_at
            waited = (snapshot.at - oldest).total_seconds() if oldest is not None else 0.0
            self.longest_wait.labels(q.name).set(max(0.0, waited))
        connected = self._connections()
        self.agents.set(connected.agents)
        self.visitors.set(connected.visitors)
        self.router_leader.set(1 if self._leader() else 0)
        return generate_latest(self.registry)

    # ------------------------------------------------------------------ facts on the bus
    async def _on_created(self, e: InteractionCreated) -> None:
        self.created.labels(e.interaction.channel.value).inc()

    async def _on_offer(self, e: OfferMade) -> None:
        self.offers_made.inc()
        iid = e.interaction.interaction_id
        if iid in self._first_offer_seen:
            return  # a re-offer: the customer has been waiting since the first one
        self._first_offer_seen[iid] = None
        if len(self._first_offer_seen) > REMEMBERED_OFFERS:
            self._first_offer_seen.popitem(last=False)
        offered_at = e.interaction.offered_at or self._clock()
        waited = (offered_at - e.interaction.created_at).total_seconds()
        self.latency.observe(max(0.0, waited))

    async def _on_withdrawn(self, e: OfferWithdrawn) -> None:
        self.offers.labels(WITHDRAWN_AS.get(e.reason, "withdrawn")).inc()

    async def _on_assigned(self, e: InteractionAssigned) -> None:
        self.offers.labels("accepted").inc()

    async def _on_ended(self, e: InteractionEnded) -> None:
        self._finished(e.interaction.interaction_id, e.interaction.channel, "ended")

    async def _on_abandoned(self, e: InteractionAbandoned) -> None:
        self._finished(e.interaction.interaction_id, e.interaction.channel, "abandoned")

    def _finished(self, interaction_id: int, channel: Channel, state: str) -> None:
        self._first_offer_seen.pop(interaction_id, None)
        self.finished.labels(channel.value, state).inc()


# ---------------------------------------------------------------------- serving
def rooms_in_use(server: Any, namespace: str, prefix: str) -> int:
    """Rooms named ``prefix...`` with a member on this node: one per signed-in agent or
    per visitor, however many tabs they have open (``server``: a socketio.AsyncServer)."""
    rooms = server.manager.rooms.get(namespace, {})
    return sum(
        1
        for name, members in rooms.items()
        if isinstance(name, str) and name.startswith(prefix) and members
    )


def add_route(
    app: web.Application,
    metrics: HubMetrics,
    allow: Iterable[IPv4Network | IPv6Network] | None,
) -> None:
    """``GET /metrics`` for the addresses in ``allow``, or for anyone when it is None."""

    async def scrape(_request: web.Request) -> web.Response:
        body = await metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    handler = public(scrape) if allow is None else from_networks(allow)(scrape)
    app.router.add_get("/metrics", handler)


def listener(metrics: HubMetrics, host: str, port: int) -> Callable[[web.Application], Any]:
    """A cleanup context for the hub's app: ``/metrics``, public, on a port of its own."""

    async def serve(_app: web.Application) -> AsyncIterator[None]:
        app = web.Application(middlewares=[errors_middleware])
        add_route(app, metrics, None)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise HubError(f"cannot listen for metrics on {host}:{port}: {exc.strerror}") from None
        yield
        await runner.cleanup()

    return serve
