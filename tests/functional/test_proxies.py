"""Behind a reverse proxy: the client's address (audit trail, per-address limits) and scheme
(Secure cookies) come from X-Forwarded-* only when the connection is from a trusted proxy."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import socketio

from hub.model import Role
from tests.functional.conftest import PASSWORD, Running, connect, serve, settings_for
from tests.functional.test_audit import admin, by_action, entries

CLIENT = "203.0.113.9"
TRUSTED = {"HUB_HTTP__TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}


async def sign_in_through_proxy(
    running: Running, email: str, password: str, headers: dict[str, str]
) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{running.base}/api/v1/session",
            json={"email": email, "password": password},
            headers=headers,
        )
        await resp.read()
        return resp


async def failed_sign_in_addresses(running: Running, token: str) -> list[str]:
    found = by_action(await entries(running, token), "signin.failed")
    return [e["actor"]["address"] for e in found]


async def test_a_trusted_proxy_names_the_client_and_its_scheme(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, **TRUSTED)) as running:
        token = await admin(running)
        # nginx appends the client to what the client sent: the right-most untrusted wins.
        forged_then_real = {"X-Forwarded-For": f"198.51.100.1, {CLIENT}"}
        resp = await sign_in_through_proxy(running, "ada@example.com", "wrong", forged_then_real)
        assert resp.status == 401
        assert await failed_sign_in_addresses(running, token) == [CLIENT]

        await running.add_user("al@example.com", "Al Agent", Role.AGENT)
        https = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
        resp = await sign_in_through_proxy(running, "al@example.com", PASSWORD, https)
        assert resp.status == 200
        assert resp.cookies["hub_session"]["secure"]  # the browser spoke HTTPS to nginx
        resp = await sign_in_through_proxy(
            running, "al@example.com", PASSWORD, {"X-Forwarded-For": CLIENT}
        )
        assert resp.status == 200 and not resp.cookies["hub_session"]["secure"]


async def test_without_trusted_proxies_a_forwarded_header_is_ignored(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        token = await admin(running)
        headers = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
        resp = await sign_in_through_proxy(running, "ada@example.com", "wrong", headers)
        assert resp.status == 401
        assert await failed_sign_in_addresses(running, token) == ["127.0.0.1"]


async def test_per_address_chat_limits_count_the_client_behind_the_proxy(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, **TRUSTED, HUB_WEBCHAT__CONNECTIONS_PER_MINUTE_PER_ADDRESS="2"
    )
    async with serve(settings) as running:

        async def visitor_from(address: str) -> bool:
            """Whether a visitor behind the proxy at ``address`` gets a chat connection."""
            try:
                client = await connect(
                    running.base, "/chat", auth={}, headers={"X-Forwarded-For": address}
                )
            except socketio.exceptions.ConnectionError:
                return False
            await client.close()
            return True

        # Two visitors behind one office address use its allowance; the third is refused,
        # while a visitor from another address behind the same proxy still gets in.
        assert await visitor_from(CLIENT)
        assert await visitor_from(CLIENT)
        assert not await visitor_from(CLIENT)
        assert await visitor_from("198.51.100.7")
