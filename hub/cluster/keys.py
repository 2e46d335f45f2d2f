"""Every Redis key and channel the hub uses, under one prefix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PREFIX = "contact-hub:"

ROUTER_LEASE = PREFIX + "router:lease"  # "<node_id>:<token>" of the node that routes, with a TTL
ROUTER_TOKEN = PREFIX + "router:token"  # the fencing-token counter (INCR per new lease)
ROUTER_COMMANDS = PREFIX + "router:commands"  # stream: commands for the router, from any node
ROUTER_GROUP = "router"  # the consumer group of whichever node routes
ROUTER_VIEW = PREFIX + "router:view"  # the router's latest picture (also published: Channels)


@dataclass(frozen=True, slots=True)
class Channels:
    """The pub/sub channels of the hub whose keys are in Redis database ``database``.

    Pub/sub ignores the database: every client of a server hears every channel. So each
    channel names its database, and two hubs (or a test run and CI) on one server, in two
    databases, never hear each other's emits, routers or revocations.
    """

    database: int

    @classmethod
    def of(cls, redis: Any) -> Channels:
        """The channels of the hub that ``redis`` (a redis-py client) is connected for."""
        return cls(int(redis.connection_pool.connection_kwargs.get("db", 0)))

    def _named(self, name: str) -> str:
        return f"{PREFIX}db{self.database}:{name}"

    @property
    def socketio(self) -> str:
        """python-socketio's AsyncRedisManager channel."""
        return self._named("socketio")

    @property
    def router_elected(self) -> str:
        """A new router took over (its node id)."""
        return self._named("router:elected")

    @property
    def router_view(self) -> str:
        """The router's latest picture, as it is published."""
        return self._named("router:view")

    @property
    def broadcast(self) -> str:
        """What every node must hear: a session revoked, rules reloaded."""
        return self._named("broadcast")

    def replies(self, node_id: str) -> str:
        """Where the router answers the commands sent by ``node_id``."""
        return self._named(f"router:replies:{node_id}")


def node(node_id: str) -> str:
    """A node's heartbeat: present while the node is alive."""
    return f"{PREFIX}node:{node_id}"
