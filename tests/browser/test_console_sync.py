"""The console never goes out of date: it reconnects after the hub restarts and resynchronises
without a reload or duplicates, and two tabs of the same agent show the same work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Route, expect

from tests.browser.test_console_chat import sign_in
from tests.browser.test_console_work import accept_offer, visitor_writes
from tests.functional.conftest import connect, serve, settings_for

pytestmark = pytest.mark.browser


async def test_console_resynchronises_after_the_hub_restarts(browser: Any, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, wrap_up_s=60)
    errors: list[str] = []
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    async with serve(settings) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        await sign_in(page, running.base, "alice@example.com")
        await page.select_option("#state-select", "available")
        visitor, token = await visitor_writes(running, "Carol Customer", "my parcel is late")
        await accept_offer(page, "my parcel is late")
        await page.fill("#composer", "Let me check")
        await page.press("#composer", "Enter")
        await expect(page.locator("#messages .message-out .message-body")).to_have_text(
            ["Let me check"]
        )
        await page.fill("#composer", "a draft kept through the restart")
        await page.evaluate("window.__sameDocument = true")
        await visitor.close()

        # Hold the console's reconnection back until the customer has written meanwhile.
        async def refuse(route: Route) -> None:
            await route.abort()

        await page.route("**/socket.io/**", refuse)
    await expect(page.locator("#connection-status")).to_have_text("reconnecting…")

    async with serve(settings) as running:
        visitor = await connect(running.base, "/chat", auth={"token": token})
        resumed = await visitor.next("session")
        assert resumed["state"] == "assigned", resumed
        assert (await visitor.call("message", {"body": "are you still there?"}))["ok"]
        await page.unroute("**/socket.io/**", refuse)

        await expect(page.locator("#connection-status")).to_have_text("connected", timeout=15000)
        bodies = page.locator("#messages .message-body")
        await expect(bodies).to_have_text(
            ["my parcel is late", "Let me check", "are you still there?"]
        )
        await expect(page.locator("#work-list .work-item")).to_have_count(1)
        await expect(page.locator("#thread-title")).to_have_text("Carol Customer")
        await expect(page.locator("#composer")).to_have_value("a draft kept through the restart")
        await expect(page.locator("#state-label")).not_to_have_text("—")
        assert await page.evaluate("window.__sameDocument") is True  # no reload

        # The conversation goes on both ways after the restart.
        await page.fill("#composer", "Yes, found it: it ships today")
        await page.press("#composer", "Enter")
        reply = await visitor.wait_for("message", lambda m: "ships today" in m["message"]["body"])
        assert reply["message"]["author_name"] == "Alice Agent"
        await expect(bodies).to_have_count(4)
        await visitor.close()
    assert errors == []
    await context.close()


async def test_two_tabs_of_one_agent_show_the_same_work(browser: Any, tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, wrap_up_s=60)) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        context = await browser.new_context(locale="en-US")  # one browser: one session cookie
        first = await context.new_page()
        second = await context.new_page()
        for page in (first, second):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(first, running.base, "alice@example.com")
        await second.goto(f"{running.base}/console")
        await expect(second.locator("#agent-name")).to_have_text("Alice Agent")

        await first.select_option("#state-select", "available")
        await expect(second.locator("#state-select")).to_have_value("available")

        visitor, _ = await visitor_writes(running, "Carol Customer", "hello from Carol")
        await expect(second.locator(".offer-card")).to_have_count(1)
        await accept_offer(first, "hello from Carol")
        await expect(second.locator(".offer-card")).to_have_count(0)
        await expect(second.locator("#work-list .work-item")).to_have_count(1)

        await first.fill("#composer", "Hi Carol")
        await first.press("#composer", "Enter")
        await visitor.wait_for("message", lambda m: m["message"]["body"] == "Hi Carol")
        assert (await visitor.call("message", {"body": "thanks"}))["ok"]
        for page in (first, second):
            await expect(page.locator("#messages .message-body")).to_have_text(
                ["hello from Carol", "Hi Carol", "thanks"]
            )

        await second.click("#close-conversation")
        await expect(first.locator("#end-wrap-up")).to_be_visible()
        await first.click("#end-wrap-up")
        for page in (first, second):
            await expect(page.locator("#work-list .work-item")).to_have_count(0)
        assert errors == []
        await visitor.close()
        await context.close()
