"""A real hub on 127.0.0.1 with a temporary database (tests.functional.backend: SQLite, or
PostgreSQL with HUB_TEST_BACKEND=postgresql), and Socket.IO clients for it."""

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
from hub.csrf import csrf_token
from hub.model import Role
from hub.ports import Clock
from tests.functional.backend import BACKENDS, hub_database_url
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
        "HUB_DATABASE__URL": hub_database_url(tmp_path),
        "HUB_HTTP__PORT": str(free_port()),
        "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
    }
    environ.update(overrides)
    return load_settings(config, environ)


def csrf_headers(base: str, token: str) -> dict[str, str]:
    """What the console's pages send with a state-changing request: the hub's own Origin
    and the session's CSRF token."""
    return {"Origin": base, "X-CSRF-Token": csrf_token(token)}


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
        return await self.send("GET", path, token)

    async def send(
        self,
        method: str,
        path: str,
        token: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """A request as the console's pages make it (with the CSRF header and Origin when
        signed in, unless ``headers`` says otherwise)."""
        cookies = {"hub_session": token} if token else {}
        if headers is None:
            headers = csrf_headers(self.base, token) if token and method != "GET" else {}
        async with aiohttp.ClientSession(cookies=cookies) as http:
            resp = await http.request(
                method, f"{self.base}{path}", json=json, headers=headers, allow_redirects=False
            )
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


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database for a hub: a SQLite file, then a fresh PostgreSQL database (only the
    latter when the whole run is on PostgreSQL)."""
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
    base: str,
    namespace: str,
    *,
    token: str | None = None,
    auth: Any = None,
    origin: str | None = None,
    headers: dict[str, str] | None = None,
) -> Client:
    sio = socketio.AsyncClient(reconnection=False)
    client = Client(namespace, sio)

    @sio.on("*", namespace=namespace)
    async def _any(event: str, data: Any = None) -> None:
        client.queue(event).put_nowait(data)

    headers = dict(headers or {})
    if token:
        headers["Cookie"] = f"hub_session={token}"
    if token and namespace in ("/agent", "/supervisor"):
        # What the console sends: its own Origin and the session's CSRF token.
        headers["Origin"] = origin or base
        if auth is None:
            auth = {"csrf_token": csrf_token(token)}
    try:
        await _open(sio, base, namespace, headers, auth)
    except socketio.exceptions.ConnectionError:
        await sio.disconnect()  # a refused client still holds its HTTP session
        raise
    return client


async def connect_refused(
    base: str, namespace: str, headers: dict[str, str], auth: Any = None
) -> Any:
    """The ``connect_error`` data a socket connection is refused with (and that it is)."""
    sio = socketio.AsyncClient(reconnection=False)
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @sio.on("connect_error", namespace=namespace)
    async def _refused(data: Any = None) -> None:
        if not refused.done():
            refused.set_result(data)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await _open(sio, base, namespace, headers, auth)
    await sio.disconnect()
    return await asyncio.wait_for(refused, 5)


async def _open(
    sio: socketio.AsyncClient, base: str, namespace: str, headers: dict[str, str], auth: Any
) -> None:
    await sio.connect(
        base,
        namespaces=[namespace],
        headers=headers,
        auth=auth,
        transports=["websocket"],
        wait_timeout=5,
    )
