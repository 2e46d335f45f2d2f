"""Every Redis key and channel the hub uses, under one prefix."""

from __future__ import annotations

PREFIX = "contact-hub:"

ROUTER_LEASE = PREFIX + "router:lease"  # "<node_id>:<token>" of the node that routes, with a TTL
ROUTER_TOKEN = PREFIX + "router:token"  # the fencing-token counter (INCR per new lease)
ROUTER_COMMANDS = PREFIX + "router:commands"  # stream: commands for the router, from any node
ROUTER_GROUP = "router"  # the consumer group of whichever node routes
ROUTER_ELECTED = PREFIX + "router:elected"  # pub/sub: a new router took over (its node id)
ROUTER_VIEW = PREFIX + "router:view"  # the router's latest picture (a key, and pub/sub)
SOCKETIO_CHANNEL = PREFIX + "socketio"  # python-socketio's AsyncRedisManager channel


def broadcast(database: int) -> str:
    """Pub/sub channel of what every node must hear (a session revoked, rules reloaded).

    Pub/sub channels are shared by every database of a Redis server, so this one names the
    database: two hubs (or a test run and CI) on one server, in two databases, never hear
    each other's revocations.
    """
    return f"{PREFIX}broadcast:{database}"


def replies(node_id: str) -> str:
    """Pub/sub channel where the router answers the commands sent by ``node_id``."""
    return f"{PREFIX}router:replies:{node_id}"


def node(node_id: str) -> str:
    """A node's heartbeat: present while the node is alive."""
    return f"{PREFIX}node:{node_id}"
