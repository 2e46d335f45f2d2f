"""A new agent with a temporary password: the sign-in page asks for a password of their own
before the console opens; an administrator disabling them sends the open console back to the
sign-in page with the reason. A supervisor with an authenticator is asked for its code."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from hub import totp
from hub.app import utc_now
from hub.model import Role
from tests.functional.conftest import PASSWORD, Running

pytestmark = pytest.mark.browser
TEMPORARY = "temporary pass 123"
CHOSEN = "my own long passphrase"


async def test_first_sign_in_asks_for_a_new_password(browser: Any, live_hub: Running) -> None:
    hub = live_hub.hub
    zoe = await hub.store.create_user(
        email="zoe@example.com",
        name="Zoe Agent",
        role=Role.AGENT,
        password_hash=hub.authenticator.hash_password(TEMPORARY),
        now=utc_now(),
        must_change_password=True,
    )
    await live_hub.add_user("admin@example.com", "Ada Admin", Role.ADMIN)
    admin = await live_hub.sign_in("admin@example.com")
    errors: list[str] = []
    context = await browser.new_context()
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    await page.goto(f"{live_hub.base}/console")
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("#email", "zoe@example.com")
    await page.fill("#password", TEMPORARY)
    await page.click("#login-submit")

    # Not the console yet: the page asks for a new password (the temporary one is known).
    await expect(page.locator("#password-form")).to_be_visible()
    await expect(page.locator("#login-form")).to_be_hidden()
    await expect(page.locator("#current-password-field")).to_be_hidden()
    # Reloading keeps her here (the hub says a change is pending) and asks again for the
    # current password, which the page no longer knows.
    await page.reload()
    await expect(page.locator("#password-form")).to_be_visible()
    await expect(page.locator("#current-password-field")).to_be_visible()
    await page.fill("#current-password", TEMPORARY)

    async def choose(new: str, repeat: str, error: str) -> None:
        await page.fill("#new-password", new)
        await page.fill("#new-password-repeat", repeat)
        await page.click("#password-submit")
        await expect(page.locator("#password-error")).to_contain_text(error)

    await choose("short", "short", "at least 10 characters")
    await choose(CHOSEN, CHOSEN + "!", "do not match")
    await choose("zoe@example.com", "zoe@example.com", "must not be your email address")
    await choose("Password123", "Password123", "most common passwords")
    await choose(TEMPORARY, TEMPORARY, "must differ from the current one")

    await page.fill("#new-password", CHOSEN)
    await page.fill("#new-password-repeat", CHOSEN)
    await page.click("#password-submit")
    await page.wait_for_url(f"{live_hub.base}/console")
    await expect(page.locator("#agent-name")).to_have_text("Zoe Agent")
    await expect(page.locator("#connection-status")).to_have_text("connected")

    # An administrator disables her: the open console goes to the sign-in page and says why.
    status, _ = await live_hub.send(
        "PATCH", f"/api/v1/users/{zoe.user_id}", admin, json={"disabled": True}
    )
    assert status == 200
    await page.wait_for_url("**/login?**")
    await expect(page.locator("#login-info")).to_contain_text("Your account has been disabled")
    await expect(page.locator("#login-form")).to_be_visible()
    assert errors == []
    await context.close()


async def test_console_sign_out_and_back_in(browser: Any, live_hub: Running) -> None:
    """Sign-out from the console (a CSRF-checked DELETE) ends the session for real."""
    await live_hub.add_user("alice@example.com", "Alice Agent")
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{live_hub.base}/console")
    await page.fill("#email", "alice@example.com")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{live_hub.base}/console")
    await expect(page.locator("#connection-status")).to_have_text("connected")
    cookie = next(c for c in await context.cookies() if c["name"] == "hub_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    await page.click("#logout")
    await page.wait_for_url("**/login**")
    assert (await live_hub.get("/api/v1/me", cookie["value"]))[0] == 401
    await context.close()


async def test_supervisor_signs_in_with_an_authenticator_code(
    browser: Any, live_hub: Running
) -> None:
    sue = await live_hub.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
    secret = totp.new_secret()
    await live_hub.hub.store.set_totp(sue, secret, enabled=True)
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{live_hub.base}/login")
    await page.fill("#email", "sue@example.com")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    # The password was right; the page now asks for the code.
    await expect(page.locator("#totp-field")).to_be_visible()
    await expect(page.locator("#login-error")).to_contain_text("authenticator app")
    await page.fill("#totp-code", totp.code_at(secret, utc_now()))
    await page.click("#login-submit")
    await page.wait_for_url(f"{live_hub.base}/console/supervisor")
    await context.close()
