"""Two hub processes on one PostgreSQL and one Redis: what is done on one node takes effect on
the other at once (``hub.cluster.broadcast``).

A session revoked through one node's REST API closes its consoles on the other node too; and
routing rules reloaded on the node that does not route change what the router does, while
an invalid rules file is refused on that node and changes nothing anywhere. The first test
drives the adapter alone, in one process, on the real Redis.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.app import utc_now
from hub.auth import Authenticator
from hub.bus import InProcessBus
from hub.cluster import keys
from hub.cluster.broadcast import Broadcast
from hub.csrf import csrf_token
from hub.errors import InvalidInput
from hub.events import SessionsRevoked
from hub.model import Role
from hub.storage.sql import SqlStore
from tests.functional.conftest import PASSWORD, Client, connect, csrf_headers
from tests.functional.redis_server import REDIS_URL, clean_redis
from tests.functional.test_cluster import Node, _router, _sign_in, cluster
from tests.functional.test_routing import queue, write_config
from tests.functional.test_sessions import refusal, signed_out

URGENT_RULE = {
    "name": "urgent-to-vip",
    "when": 'first_message contains "urgent"',
    "targets": [{"queue": "vip"}],
}
BROKEN_RULE = {**URGENT_RULE, "name": "broken-rule", "targets": [{"queue": "nowhere"}]}


class Member:
    """A node as the broadcast sees it: its bus (revocations heard) and its rules reloads."""

    def __init__(self, redis: Any, node_id: str, channel: str, *, valid: bool = True) -> None:
        self.bus = InProcessBus()
        self.revoked: list[SessionsRevoked] = []
        self.reloads = 0
        self.valid = valid
        self.bus.subscribe(SessionsRevoked, self._revoked)
        self.broadcast = Broadcast(
            redis, channel=channel, node_id=node_id, bus=self.bus, reload_rules=self._reload
        )

    async def _revoked(self, e: SessionsRevoked) -> None:
        self.revoked.append(e)

    async def _reload(self) -> int:
        self.reloads += 1
        if not self.valid:
            raise InvalidInput("routing.rules: no queue 'nowhere'")
        return 3


async def test_cluster_broadcast_reaches_every_other_node_once_and_never_loops() -> None:
    async for redis in clean_redis():
        channels = keys.Channels.of(redis)
        channel = channels.broadcast
        a, b, c = (Member(redis, n, channel, valid=n != "c") for n in "abc")
        # A hub on another database of the same server.
        elsewhere = Member(redis, "d", keys.Channels(channels.database + 1).broadcast)
        members = (a, b, c, elsewhere)
        for m in members:
            await m.broadcast.start()
        try:
            await redis.publish(channel, b"not json")  # ignored; the listeners carry on
            revoked = SessionsRevoked(7, "abc123", "signed_out")
            await a.bus.publish(revoked)
            await a.broadcast.rules_reloaded()
            for _ in range(100):
                if len(b.revoked) and len(c.revoked) and b.reloads and c.reloads:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)  # time enough for an echo, had there been one
            assert a.revoked == [revoked] and a.reloads == 0  # its own, once; not heard back
            for m in (b, c):
                assert m.revoked == [SessionsRevoked(7, "abc123", "signed_out", from_node="a")]
                assert m.reloads == 1  # c's file is broken: it logs so and keeps its rules
            assert elsewhere.revoked == [] and elsewhere.reloads == 0
        finally:
            for m in members:
                await m.broadcast.stop()


def _configure(rules: list[dict[str, Any]]) -> Any:
    """A config writer: web chats to ``support`` (anyone), a ``vip`` queue only Bob serves."""

    def write(path: Path) -> None:
        write_config(
            path,
            queues=[queue("support"), queue("vip", requires="vip >= 1")],
            routing={"rules": rules, "presence_grace_s": 0},
            agents=[{"email": "bob@example.com", "skills": {"vip": 1}}],
            extra={"cluster": {"redis_url": REDIS_URL, "lease_ttl_s": 3, "command_timeout_s": 8}},
        )

    return write


async def _add_admin(store: SqlStore) -> None:
    await store.create_user(
        email="root@example.com",
        name="Root",
        role=Role.ADMIN,
        password_hash=Authenticator(store, utc_now, session_ttl_s=3600).hash_password(PASSWORD),
        now=utc_now(),
    )


async def _send(node: Node, method: str, path: str, token: str, json: Any = None) -> Any:
    """A request as the console's pages make it (cookie, Origin, CSRF token): (status, body)."""
    async with aiohttp.ClientSession(cookies={"hub_session": token}) as http:
        resp = await http.request(
            method, f"{node.base}{path}", json=json, headers=csrf_headers(node.base, token)
        )
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, body


async def _refused(node: Node, token: str) -> str:
    """The code a console connection to ``node`` with this session is refused with."""
    auth = {"csrf_token": csrf_token(token)}
    return str((await refusal(node.base, "/agent", token, origin=node.base, auth=auth))["code"])


async def _console(node: Node, token: str) -> Client:
    client = await connect(node.base, "/agent", token=token)
    await client.next("hello")
    return client


async def _set_state(client: Client, state: str) -> None:
    ack = await client.call("set_state", {"state": state})
    assert ack.get("ok") and ack["state"] == state, ack


async def _chat(node: Node, body: str) -> int:
    """A visitor's first message on ``node``: the conversation it opened."""
    visitor = await connect(node.base, "/chat", auth={"token": None})
    try:
        await visitor.next("session")
        ack = await visitor.call("message", {"body": body})
        assert ack.get("ok"), ack
        return int(ack["conversation_id"])
    finally:
        await visitor.close()


async def _no_offer(client: Client, seconds: float = 2.0) -> None:
    with pytest.raises(TimeoutError):
        offer = await client.next("offer", timeout=seconds)
        pytest.fail(f"offered {offer}")


async def _take(client: Client) -> dict[str, Any]:
    """Accept the next offer and close it: the offer."""
    offer: dict[str, Any] = await client.next("offer", timeout=10)
    iid = offer["interaction_id"]
    for action in ("accept", "close"):
        ack = await client.call(action, {"interaction_id": iid})
        assert ack.get("ok"), (action, ack)
    return offer


async def _logged(node: Node, line: str) -> None:
    """Wait until ``node`` has logged ``line`` (what its operator reads)."""
    for _ in range(100):
        if line in node.log.read_text():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{node.name} never logged {line!r}:\n{node.log.read_text()[-3000:]}")


@pytest.mark.timeout(120)
async def test_cluster_broadcast_revoked_session_closes_consoles_on_every_node(
    tmp_path: Path,
) -> None:
    async with cluster(tmp_path, count=2, configure=_configure([])) as (nodes, store, _redis):
        a, b = nodes
        await _add_admin(store)
        admin = await _sign_in(a, "root")
        alice = await _sign_in(a, "alice")
        alice_on_a, alice_on_b = await _console(a, alice), await _console(b, alice)
        bob = await _sign_in(b, "bob")
        bob_on_b = await _console(b, bob)
        alice_id = (await store.user_by_email("alice@example.com"))[0].user_id  # type: ignore[index]

        status, body = await _send(
            a, "PATCH", f"/api/v1/users/{alice_id}", admin, {"disabled": True}
        )
        assert status == 200, body
        # Closed on both nodes, each told once; Bob's console on node B is left alone.
        assert await signed_out(alice_on_b) == "disabled"
        assert await signed_out(alice_on_a) == "disabled"
        assert alice_on_b.pending("signed_out") == [] and alice_on_a.pending("signed_out") == []
        assert bob_on_b.sio.connected and bob_on_b.pending("signed_out") == []
        assert await _refused(b, alice) == "unauthorised"

        # Bob signs out on node A: his console on node B closes.
        status, _ = await _send(a, "DELETE", "/api/v1/session", bob)
        assert status in (200, 204)
        assert await signed_out(bob_on_b) == "signed_out"
        assert await _refused(b, bob) == "unauthorised"


@pytest.mark.timeout(180)
async def test_cluster_broadcast_rules_reloaded_on_a_standby_change_the_routing(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.yaml"
    async with cluster(tmp_path, count=2, configure=_configure([])) as (nodes, store, redis):
        router = await _router(redis, nodes)
        standby = next(n for n in nodes if n is not router)
        await _add_admin(store)
        admin = await _sign_in(standby, "root")
        alice = await _console(standby, await _sign_in(standby, "alice"))
        bob = await _console(router, await _sign_in(router, "bob"))  # away until needed
        await _set_state(alice, "available")

        # No rules yet: an urgent chat goes to support, and Alice takes it.
        await _chat(router, "urgent: where is my parcel?")
        await _take(alice)

        # New rules reloaded on the standby: the router sends urgent chats to Bob's queue.
        _configure([URGENT_RULE])(config)
        status, body = await _send(standby, "POST", "/api/v1/admin/routing/reload", admin)
        assert (status, body) == (200, {"rules": 1})
        await _logged(router, f"routing rules reloaded (asked on node {standby.name}): 1 rules")
        await _chat(standby, "urgent: the parcel again")
        await _no_offer(alice)  # it waits in the vip queue, for Bob
        await _set_state(bob, "available")
        assert "urgent" in (await _take(bob))["preview"]
        await _set_state(bob, "away")

        # A broken file is refused on the standby, naming the rule; the old rules hold.
        _configure([BROKEN_RULE])(config)
        status, body = await _send(standby, "POST", "/api/v1/admin/routing/reload", admin)
        assert status == 400 and body["error"]["code"] == "invalid_input", body
        assert "broken-rule" in body["error"]["message"], body
        await _chat(router, "urgent: third time")
        await _no_offer(alice)
        await _set_state(bob, "available")
        assert "third" in (await _take(bob))["preview"]
        await _set_state(bob, "away")

        # SIGHUP on the standby (no rules now) reaches the router too.
        _configure([])(config)
        assert standby.process.poll() is None
        standby.process.send_signal(signal.SIGHUP)
        await _logged(router, f"routing rules reloaded (asked on node {standby.name}): 0 rules")
        await _chat(router, "urgent: last time")
        await _take(alice)
