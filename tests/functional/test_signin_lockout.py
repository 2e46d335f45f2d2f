"""Repeated failed sign-ins lock the account, and separately the address, for a while: 429
with Retry-After, the right password refused too while locked, and free again afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from tests.functional.conftest import PASSWORD, serve, settings_for


async def attempt(base: str, email: str, password: str) -> tuple[int, dict[str, Any], str]:
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{base}/api/v1/session", json={"email": email, "password": password}
        )
        return resp.status, await resp.json(), resp.headers.get("Retry-After", "")


async def test_an_account_locks_after_repeated_failures_then_frees(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        HUB_SECURITY__SIGNIN_FAILURES_PER_ACCOUNT="3",
        HUB_SECURITY__SIGNIN_LOCKOUT_S="1.5",
    )
    async with serve(settings) as running:
        await running.add_user("alice@example.com", "Alice")
        await running.add_user("bob@example.com", "Bob")
        for _ in range(3):
            status, body, _ = await attempt(running.base, "alice@example.com", "wrong password!")
            assert status == 401 and body["error"]["code"] == "unauthorised"
        status, body, retry_after = await attempt(running.base, "alice@example.com", PASSWORD)
        assert status == 429 and body["error"]["code"] == "rate_limited", body
        assert "too many failed sign-ins" in body["error"]["message"]
        # Rounded up to whole seconds, and counting down (a slow machine may be past 0.5 s).
        assert int(retry_after) in (1, 2)
        # Another account from the same address is not locked out by Alice's failures.
        assert (await attempt(running.base, "BOB@example.com", PASSWORD))[0] == 200
        await asyncio.sleep(1.6)
        assert (await attempt(running.base, "Alice@Example.com", PASSWORD))[0] == 200


async def test_an_address_guessing_across_accounts_locks(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, HUB_SECURITY__SIGNIN_FAILURES_PER_ADDRESS="4")
    async with serve(settings) as running:
        await running.add_user("alice@example.com", "Alice")
        for n in range(4):
            status, _, _ = await attempt(running.base, f"user{n}@example.com", "guess guess!")
            assert status == 401
        status, body, retry_after = await attempt(running.base, "alice@example.com", PASSWORD)
        assert status == 429 and int(retry_after) > 0, body
