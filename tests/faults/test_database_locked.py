"""The SQLite file is locked by another program (a backup, a stray ``sqlite3`` shell): every
sender gets a retryable answer in its own language, nothing is half-written, and the hub serves
again by itself once the lock is gone."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import pytest

from tests.faults.hub_process import HubProcess, seed_agents
from tests.functional.conftest import PASSWORD, Client, connect


@contextlib.contextmanager
def locked(db: Path) -> Iterator[None]:
    """Hold SQLite's write lock, as another process would (``BEGIN EXCLUSIVE``)."""
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute("BEGIN EXCLUSIVE")
        yield
        con.execute("ROLLBACK")
    finally:
        con.close()


async def send_everything(
    hub: HubProcess, visitor: Client, http: aiohttp.ClientSession, n: int
) -> dict[str, Any]:
    """One of each: a chat message, a mail, a text and a sign-in; what each sender heard."""

    async def chat() -> Any:
        ack = await visitor.sio.call(
            "message", {"body": f"chat {n}"}, namespace="/chat", timeout=30
        )
        return ack["error"]["code"] if "error" in ack else "ok"

    async def mail() -> Any:
        try:
            await hub.mail(n)
        except aiosmtplib.SMTPResponseException as exc:
            return exc.code
        return 250

    async def text() -> Any:
        status, _ = await hub.sms(http, n)
        return status

    async def sign_in() -> Any:
        body = {"email": "alice@example.com", "password": PASSWORD}
        async with http.post(f"{hub.base}/api/v1/session", json=body) as resp:
            data = await resp.json()
            return resp.status, data.get("error", {}).get("code")

    results = await asyncio.gather(chat(), mail(), text(), sign_in())
    return dict(zip(["chat", "mail", "sms", "sign_in"], results, strict=True))


@pytest.mark.timeout(120)
async def test_a_locked_database_gets_retryable_errors_then_service_resumes(
    tmp_path: Path,
) -> None:
    hub = HubProcess(tmp_path)
    (token,) = await seed_agents(hub.database_url, ["alice@example.com"])
    await hub.start()
    try:
        alice = await connect(hub.base, "/agent", token=token)
        await alice.next("hello")
        await alice.call("set_state", {"state": "available"})
        visitor = await connect(hub.base, "/chat", auth={})
        await visitor.next("session")
        async with aiohttp.ClientSession() as http:
            before = hub.fingerprint()
            with locked(hub.db):
                refused = await send_everything(hub, visitor, http, 1)
                assert hub.fingerprint() == before  # nothing half-written
            assert refused == {
                "chat": "unavailable",
                "mail": 451,
                "sms": 503,
                "sign_in": (503, "unavailable"),
            }

            served = await send_everything(hub, visitor, http, 2)  # no restart, no retry wait
            assert served == {"chat": "ok", "mail": 250, "sms": 200, "sign_in": (200, None)}
            channels = set()
            for _ in range(3):
                channels.add((await alice.next("offer", 15))["channel"])
            assert channels == {"webchat", "email", "sms"}
        await visitor.close()
        await alice.close()
    finally:
        hub.stop()
