"""A real hub on 127.0.0.1 with a temporary SQLite file, and Socket.IO clients for it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web

from hub.app import Hub, build, utc_now
from hub.config import Settings, load_settings
from hub.model import Role
from hub.ports import Clock
from tests.functional.postgres import postgres_database

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


QUEUES = """
queues:
  - name: support
    channels: [webchat]
    offer_timeout_s: {offer_timeout_s}
    wrap_up_s: {wrap_up_s}
"""


def settings_for(
    tmp_path: Path, *, offer_timeout_s: float = 20, wrap_up_s: float = 0, **overrides: str
) -> Settings:
    config = tmp_path / "config.yaml"
    config.write_text(QUEUES.format(offer_timeout_s=offer_timeout_s, wrap_up_s=wrap_up_s))
    environ = {
        "HUB_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        "HUB_HTTP__PORT": str(free_port()),
        "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
    }
    environ.update(overrides)
    return load_settings(config, environ)


@dataclass
class Running:
    hub: Hub
    base: str
    runner: web.AppRunner

    async def add_user(self, email: str, name: str, role: Role = Role.AGENT) -> int:
        user = await self.hub.store.create_user(
            email=email,
            name=name,
            role=role,
            password_hash=self.hub.authenticator.hash_password(PASSWORD),
            now=utc_now(),
        )
        return user.user_id

    async def sign_in(self, email: str) -> str:
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"{self.base}/api/v1/session", json={"email": email, "password": PASSWORD}
            )
            assert resp.status == 200, await resp.text()
            return resp.cookies["hub_session"].value

    async def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        cookies = {"hub_session": token} if token else {}
        async with aiohttp.ClientSession(cookies=cookies) as http:
            resp = await http.get(f"{self.base}{path}", allow_redirects=False)
            body = (
                await resp.json() if resp.content_type == "application/json" else await resp.text()
            )
            return resp.status, body


@contextlib.asynccontextmanager
async def serve(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Running]:
    hub = build(settings) if clock is None else build(settings, clock=clock)
    runner = web.AppRunner(hub.app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.http.port)
    await site.start()
    try:
        yield Running(hub, f"http://127.0.0.1:{settings.http.port}", runner)
    finally:
        await runner.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database for a hub: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def hub_server(tmp_path: Path) -> AsyncIterator[Running]:
    async with serve(settings_for(tmp_path)) as running:
        yield running


@dataclass
class Client:
    """A Socket.IO client that keeps every event it receives, to be awaited in order."""

    namespace: str
    sio: socketio.AsyncClient
    events: dict[str, asyncio.Queue[Any]] = field(default_factory=dict)

    def queue(self, event: str) -> asyncio.Queue[Any]:
        return self.events.setdefault(event, asyncio.Queue())

    async def next(self, event: str, timeout: float = 5.0) -> Any:
        return await asyncio.wait_for(self.queue(event).get(), timeout)

    async def wait_for(self, event: str, predicate: Any, timeout: float = 5.0) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                data = await self.queue(event).get()
                if predicate(data):
                    return data

    def pending(self, event: str) -> list[Any]:
        q = self.queue(event)
        items = []
        while not q.empty():
            items.append(q.get_nowait())
        return items

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(
            event, data if data is not None else {}, namespace=self.namespace, timeout=5
        )

    async def close(self) -> None:
        await self.sio.disconnect()


async def connect(
    base: str, namespace: str, *, token: str | None = None, auth: Any = None
) -> Client:
    sio = socketio.AsyncClient(reconnection=False)
    client = Client(namespace, sio)

    @sio.on("*", namespace=namespace)
    async def _any(event: str, data: Any = None) -> None:
        client.queue(event).put_nowait(data)

    headers = {"Cookie": f"hub_session={token}"} if token else {}
    await sio.connect(
        base,
        namespaces=[namespace],
        headers=headers,
        auth=auth,
        transports=["websocket"],
        wait_timeout=5,
    )
    return client
