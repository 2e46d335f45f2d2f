"""What every node of a cluster must hear, not only the one where it happened (Redis pub/sub).

Events stay on each node's in-process bus (docs/scaling.md, "events"); two facts cross
nodes on one pub/sub channel (``keys.Channels.broadcast``):

- a session revoked (``SessionsRevoked``, published on this node's bus after its commit):
  every other node publishes it on its own bus, marked ``from_node``, and its namespaces
  close the matching sockets. A revocation marked so is never sent on again, and a node
  ignores its own messages, so nothing loops;
- routing rules reloaded (validated on the node that was asked): every other node re-reads
  its config file and logs what it found.

Pub/sub delivers at most once: a node that misses a message (Redis unreachable) still
refuses the revoked session's next request or event, because its row is gone; and a reload it
missed is made on that node by SIGHUP or another reload.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hub.cluster.tasks import cancel
from hub.errors import HubError
from hub.events import SessionsRevoked
from hub.ports import EventBus

log = logging.getLogger(__name__)

SESSIONS_REVOKED = "sessions_revoked"
RULES_RELOADED = "rules_reloaded"


class Broadcast:
    def __init__(
        self,
        redis: Any,
        *,
        channel: str,
        node_id: str,
        bus: EventBus,
        reload_rules: Callable[[], Awaitable[int]],
    ) -> None:
        """``reload_rules`` re-reads this node's config file and returns how many rules it
        holds now, or raises a HubError naming what is wrong (the old rules stay)."""
        self._redis = redis
        self._channel = channel
        self._node_id = node_id
        self._bus = bus
        self._reload_rules = reload_rules
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        bus.subscribe(SessionsRevoked, self._revoked)

    async def start(self) -> None:
        """Listen; subscribed on return when Redis is reachable (else retried meanwhile)."""
        try:
            await self._subscribe()
        except Exception as exc:
            log.warning("cluster broadcast: Redis unreachable (%s)", exc.__class__.__name__)
        self._task = asyncio.create_task(self._listen(), name="cluster-broadcast")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel(task)
        await self._close()

    async def rules_reloaded(self) -> None:
        """This node reloaded valid rules: every other node reloads its own now."""
        await self._send({"kind": RULES_RELOADED})

    async def _revoked(self, e: SessionsRevoked) -> None:
        if e.from_node is not None:
            return  # another node's, announced here: that node told everyone already
        await self._send(
            {
                "kind": SESSIONS_REVOKED,
                "user_id": e.user_id,
                "session_hash": e.session_hash,
                "reason": e.reason,
            }
        )

    async def _send(self, message: dict[str, Any]) -> None:
        try:
            await self._redis.publish(self._channel, json.dumps({"node": self._node_id, **message}))
        except Exception as exc:
            # The other nodes refuse a revoked session at its next request anyway.
            log.warning(
                "cluster broadcast: %s not sent, Redis unreachable (%s)",
                message["kind"],
                exc.__class__.__name__,
            )

    async def _subscribe(self) -> None:
        await self._close()
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(self._channel)

    async def _close(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()
            except Exception as exc:
                log.debug("cluster broadcast: close failed (%s)", exc.__class__.__name__)

    async def _listen(self) -> None:
        while True:
            try:
                if self._pubsub is None:
                    await self._subscribe()
                async for message in self._pubsub.listen():
                    if message.get("type") == "message":
                        await self._heard(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cluster broadcast: Redis unreachable (%s)", exc.__class__.__name__)
                await self._close()
                await asyncio.sleep(1)

    async def _heard(self, raw: bytes | str) -> None:
        try:
            message = json.loads(raw)
            node = str(message["node"])
            kind = message["kind"]
        except (ValueError, KeyError, TypeError):
            log.warning("cluster broadcast: unreadable message ignored")
            return
        if node == self._node_id:
            return
        if kind == SESSIONS_REVOKED:
            try:
                event = SessionsRevoked(
                    int(message["user_id"]),
                    message["session_hash"],
                    str(message["reason"]),
                    from_node=node,
                )
            except (ValueError, KeyError, TypeError):
                log.warning("cluster broadcast: unreadable revocation from node %s", node)
                return
            log.info(
                "user_id=%s sessions revoked on node %s (%s): closing them here",
                event.user_id,
                node,
                event.reason,
            )
            await self._bus.publish(event)
        elif kind == RULES_RELOADED:
            try:
                count = await self._reload_rules()
            except HubError as exc:
                log.error("rules reloaded on node %s; not here, the old ones stay: %s", node, exc)
            else:
                log.info("routing rules reloaded (asked on node %s): %d rules", node, count)
        else:
            log.warning("cluster broadcast: unknown message %r from node %s", kind, node)
