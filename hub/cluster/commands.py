"""Commands for the router on a Redis stream, from any node; answers on the sender's channel.

Any node ``send``s a command (an agent accepts an offer, a contact was created) with
``XADD``. Only the router node reads the stream, in the consumer group ``router``, and
acknowledges (``XACK``) each entry after it was carried out and answered, so a command is
never lost between nodes: when the router dies with entries read but not acknowledged, the
next router claims them (``XAUTOCLAIM``) and carries them out. A command whose sender has
stopped waiting (its ``timeout_s`` passed, so the agent was told to try again) is skipped.
Carrying out a command twice is harmless: the store's conditional updates refuse the
second claim, and a contact already routed is not routed again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from hub.cluster import keys
from hub.cluster.tasks import cancel
from hub.errors import (
    Conflict,
    Forbidden,
    HubError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    StaleRouter,
    Unavailable,
)

log = logging.getLogger(__name__)

STREAM_MAXLEN = 100_000  # approximate: far more than a router ever has unread
READ_BLOCK_MS = 1000
Result = dict[str, Any]
Handler = Callable[[str, dict[str, Any], str], Awaitable[Result]]

# Errors come back by code and are raised again on the sender's node.
_ERRORS: dict[str, type[HubError]] = {
    cls.code: cls for cls in (InvalidInput, Forbidden, NotFound, Unavailable, StaleRouter, HubError)
}
_ERRORS[Conflict.code] = IllegalTransition


def error_from(reply: dict[str, Any]) -> HubError:
    error = reply.get("error") or {}
    cls = _ERRORS.get(str(error.get("code")), HubError)
    return cls(str(error.get("message", "the router refused the command")))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class CommandSender:
    """The sending side, on every node (the router's own included)."""

    def __init__(self, redis: Any, *, node_id: str, timeout_s: float) -> None:
        self._redis = redis
        self._node_id = node_id
        self._timeout_s = timeout_s
        self._waiting: dict[str, asyncio.Future[Result]] = {}

    async def send(self, name: str, args: dict[str, Any], *, wait: bool = True) -> Result:
        """Put a command on the stream; with ``wait``, return the router's answer (or raise
        the error it answered with, or ``Unavailable`` when none came in time)."""
        request = uuid.uuid4().hex if wait else ""
        fields = {
            "name": name,
            "args": json.dumps(args),
            "node": self._node_id,
            "request": request,
            "sent_at": repr(time.time()),
        }
        answer: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        if wait:
            self._waiting[request] = answer
        try:
            try:
                await self._redis.xadd(
                    keys.ROUTER_COMMANDS, fields, maxlen=STREAM_MAXLEN, approximate=True
                )
            except Exception as exc:
                log.error("router command %s not sent: %s", name, exc.__class__.__name__)
                raise Unavailable("the hub cannot reach its router now; try again") from None
            if not wait:
                return {}
            try:
                reply = await asyncio.wait_for(answer, self._timeout_s)
            except TimeoutError:
                raise Unavailable("the router did not answer in time; try again") from None
        finally:
            self._waiting.pop(request, None)
        if "error" in reply:
            raise error_from(reply)
        return reply

    def answered(self, raw: bytes | str) -> None:
        """An answer arrived on this node's reply channel."""
        try:
            reply = json.loads(raw)
        except ValueError:
            log.error("unreadable router answer dropped")
            return
        waiting = self._waiting.get(str(reply.get("request")))
        if waiting is not None and not waiting.done():
            waiting.set_result(reply)


class _Deposed(Exception):
    """This node was found to route no longer: stop reading commands."""


class CommandConsumer:
    """The reading side: a duty of the router node (``hub.cluster.leadership``)."""

    def __init__(
        self,
        redis: Any,
        *,
        node_id: str,
        channels: keys.Channels,
        timeout_s: float,
        handle: Handler,
        routing: Callable[[], bool],
    ) -> None:
        self._redis = redis
        self._node_id = node_id
        self._channels = channels
        self._timeout_s = timeout_s
        self._handle = handle
        self._routing = routing
        self._task: asyncio.Task[None] | None = None

    async def start_duty(self, token: int) -> None:
        try:
            await self._redis.xgroup_create(
                keys.ROUTER_COMMANDS, keys.ROUTER_GROUP, id="0", mkstream=True
            )
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._task = asyncio.create_task(self._run(), name="router-commands")

    async def stop_duty(self) -> None:
        task, self._task = self._task, None
        await cancel(task)

    async def _run(self) -> None:
        while True:
            try:
                await self._take_over()
                while True:
                    found = await self._redis.xreadgroup(
                        keys.ROUTER_GROUP,
                        self._node_id,
                        {keys.ROUTER_COMMANDS: ">"},
                        count=100,
                        block=READ_BLOCK_MS,
                    )
                    for _stream, entries in found or ():
                        for entry_id, fields in entries:
                            await self._one(entry_id, fields)
            except _Deposed:
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("router commands: Redis unreachable (%s)", exc.__class__.__name__)
                await asyncio.sleep(1)

    async def _take_over(self) -> None:
        """Carry out what an earlier router (or this node before a restart) read but never
        acknowledged; only one node routes, so nobody else is still working on them."""
        start = "0-0"
        while True:
            answer = await self._redis.xautoclaim(
                keys.ROUTER_COMMANDS,
                keys.ROUTER_GROUP,
                self._node_id,
                min_idle_time=0,
                start_id=start,
                count=100,
            )
            start, claimed = _text(answer[0]), answer[1]
            for entry_id, fields in claimed:
                if fields:  # None when the entry was trimmed meanwhile
                    await self._one(entry_id, fields)
            if start == "0-0":
                return

    async def _one(self, entry_id: Any, raw: dict[Any, Any]) -> None:
        fields = {_text(k): _text(v) for k, v in raw.items()}
        name, node, request = fields.get("name", ""), fields.get("node", ""), fields.get("request")
        late = time.time() - float(fields.get("sent_at", "0")) > self._timeout_s
        if request and late:
            log.warning("router command %s from %s skipped: its sender gave up", name, node)
        else:
            try:
                if not self._routing():
                    raise StaleRouter("this node no longer routes")
                result = await self._handle(name, json.loads(fields["args"]), node)
                reply: Result = {"ok": True, **result}
            except StaleRouter:
                # Another node routes now: hand the command on to it, untouched (its sender
                # still waits for the answer), and stop reading.
                await self._redis.xadd(
                    keys.ROUTER_COMMANDS, fields, maxlen=STREAM_MAXLEN, approximate=True
                )
                await self._redis.xack(keys.ROUTER_COMMANDS, keys.ROUTER_GROUP, entry_id)
                raise _Deposed from None
            except HubError as exc:
                reply = exc.to_dict()
            except Exception:
                log.exception("router command %s failed", name)
                reply = {"error": {"code": "error", "message": "internal error"}}
            if request:
                reply["request"] = request
                await self._redis.publish(self._channels.replies(node), json.dumps(reply))
        await self._redis.xack(keys.ROUTER_COMMANDS, keys.ROUTER_GROUP, entry_id)
