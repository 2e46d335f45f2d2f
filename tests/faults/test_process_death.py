"""The hub process dies (``kill -9``) or is stopped (SIGTERM) in the middle of traffic.

What a customer was told was received (a chat ack, SMTP 250, webhook 200) is in the database;
every interaction not finished is back in its queue with its original age and is offered
again after the restart; a SIGTERM lets the requests in flight finish, tells every socket and
exits within five seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import pytest
import socketio

from tests.faults.hub_process import HubProcess, seed_agents
from tests.functional.conftest import Client, connect

STREAM_ERRORS = (
    socketio.exceptions.SocketIOError,
    aiosmtplib.SMTPException,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)


@contextlib.asynccontextmanager
async def streaming(
    *senders: Callable[[asyncio.Event], Awaitable[None]],
) -> AsyncIterator[asyncio.Event]:
    """Run each sender until the event is set (or its connection dies)."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(send(stop)) for send in senders]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def until(predicate: Callable[[], bool], timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.05)


def at(text: str) -> datetime:
    """A time from the API (ISO with offset) or from the database (naive UTC)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.mark.timeout(150)  # two hub start-ups; slow on a busy CI machine
async def test_kill_9_loses_nothing_acknowledged_and_offers_the_unfinished_again(
    tmp_path: Path,
) -> None:
    hub = HubProcess(tmp_path)
    (token,) = await seed_agents(hub.database_url, ["alice@example.com"])
    chats: list[str] = []
    mails: list[str] = []
    texts: list[str] = []

    async def visitor(n: int, stop: asyncio.Event) -> None:
        client = await connect(hub.base, "/chat", auth={})
        await client.next("session")
        for i in range(10_000):
            if stop.is_set():
                break
            body = f"chat {n}.{i}"
            try:
                ack = await client.sio.call("message", {"body": body}, namespace="/chat", timeout=5)
            except STREAM_ERRORS:
                break
            assert ack.get("ok"), ack
            chats.append(body)
        with contextlib.suppress(*STREAM_ERRORS):
            await client.close()

    async def mailer(stop: asyncio.Event) -> None:
        for n in range(10_000):
            if stop.is_set():
                break
            try:
                await hub.mail(n)
            except STREAM_ERRORS:
                break
            mails.append(f"m{n}@customers.example")  # stored without the <>

    async def texter(stop: asyncio.Event) -> None:
        async with aiohttp.ClientSession() as http:
            for n in range(10_000):
                if stop.is_set():
                    break
                try:
                    status, sid = await hub.sms(http, n)
                except STREAM_ERRORS:
                    break
                assert status == 200
                texts.append(sid)

    await hub.start()
    try:
        alice = await connect(hub.base, "/agent", token=token)
        await alice.next("hello")
        await alice.call("set_state", {"state": "available"})
        senders = [lambda stop, n=n: visitor(n, stop) for n in range(2)]
        async with streaming(*senders, mailer, texter):
            first = await alice.next("offer", 30)
            assert (await alice.call("accept", {"interaction_id": first["interaction_id"]}))["ok"]
            await until(lambda: len(chats) >= 10 and len(mails) >= 2 and len(texts) >= 2, 60)
            hub.kill(signal.SIGKILL)  # mid-stream: requests are in flight
            assert await hub.exited(10) == -signal.SIGKILL

        stored = {row[0] for row in hub.rows("SELECT body FROM messages")}
        assert set(chats) <= stored
        mail_ids = {row[0] for row in hub.rows("SELECT header_message_id FROM email_messages")}
        assert set(mails) <= mail_ids
        sids = {row[0] for row in hub.rows("SELECT message_sid FROM sms_messages")}
        assert set(texts) <= sids
        waiting = dict(
            hub.rows(
                "SELECT interaction_id, queued_at FROM interactions "
                "WHERE state IN ('queued', 'offered')"
            )
        )
        assert len(waiting) >= 5, waiting  # chats, mails and texts not yet taken

        await hub.start()  # the same database and configuration
        alice = await connect(hub.base, "/agent", token=token)
        hello = await alice.next("hello")
        assert [w["interaction_id"] for w in hello["work"]] == [first["interaction_id"]]
        await alice.call("set_state", {"state": "available"})
        offered: dict[int, Any] = {}
        async with asyncio.timeout(30):
            while set(offered) != set(waiting):
                offer = await alice.next("offer", 30)
                offered[offer["interaction_id"]] = offer
        for interaction_id, queued_at in waiting.items():  # the same age as before the crash
            assert at(offered[interaction_id]["queued_at"]) == at(queued_at), interaction_id
        steps = {row[0] for row in hub.rows("SELECT step FROM interaction_steps")}
        assert "requeued_on_restart" in steps  # offers open at the crash were taken back
        await alice.close()
    finally:
        hub.stop()


@pytest.mark.timeout(90)
async def test_sigterm_finishes_requests_in_flight_tells_sockets_and_exits_within_5_s(
    tmp_path: Path,
) -> None:
    hub = HubProcess(tmp_path)
    await hub.start()
    try:
        visitors: list[Client] = [await connect(hub.base, "/chat", auth={}) for _ in range(5)]
        for v in visitors:
            await v.next("session")

        async def write(v: Client, i: int) -> tuple[str, Any]:
            body = f"goodbye {i}"
            try:
                ack = await v.sio.call("message", {"body": body}, namespace="/chat", timeout=5)
                return body, ack
            except STREAM_ERRORS as exc:
                return body, exc

        calls = [
            asyncio.create_task(write(v, n * 100 + i))
            for n, v in enumerate(visitors)
            for i in range(10)
        ]
        await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
        signalled = time.monotonic()
        hub.kill(signal.SIGTERM)  # while most of the 50 are still in flight
        assert await hub.exited(10) == 0
        assert time.monotonic() - signalled < 5
        results = await asyncio.gather(*calls)  # an unanswered one times out (5 s)
        for v in visitors:  # every socket was told (closed by the hub, not left hanging)
            await asyncio.wait_for(v.sio.wait(), 5)

        acked = [body for body, ack in results if isinstance(ack, dict) and ack.get("ok")]
        assert acked, results
        for _, ack in results:  # an answer is a real one, never a half-done internal error
            assert not isinstance(ack, dict) or ack.get("ok"), ack
        stored = {row[0] for row in hub.rows("SELECT body FROM messages")}
        assert set(acked) <= stored
    finally:
        hub.stop()
