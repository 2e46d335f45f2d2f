"""A long thread opens at its newest message and draws older ones as the agent scrolls up,
while 50 conversations sit in the work list (timings: bench/console_render.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.test_console_chat import sign_in
from tests.browser.workload import busy_agent
from tests.functional.conftest import serve, settings_for

pytestmark = pytest.mark.browser
PAGE_SIZE = 100  # agent_console/static/thread_pages.js


async def test_long_thread_shows_newest_first_and_older_on_scroll(
    browser: Any, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path,
        HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT="50",
        HUB_WEBCHAT__CONNECTIONS_PER_MINUTE_PER_ADDRESS="100",  # 50 visitors from 127.0.0.1
    )
    async with serve(settings) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, running.base, "alice@example.com")
        work = await busy_agent(
            running, settings.database.url, "alice@example.com", chats=50, history=1999
        )
        items = page.locator("#work-list .work-item")
        await expect(items).to_have_count(50)
        await items.filter(has_text="Customer 07").click()
        await items.filter(has_text=work.long_customer).click()

        messages = page.locator("#messages .message")
        newest = messages.last.locator(".message-body")
        await expect(newest).to_have_text("hello from Long Customer")
        await expect(newest).to_be_in_viewport()
        await expect(messages).to_have_count(PAGE_SIZE)  # not all 2,000 at once
        older = page.locator("#messages .thread-older")
        await expect(older).to_have_text("Show 1900 older messages")

        # Scrolling to the top draws the page before, and the view stays where it was.
        first_shown = messages.first.locator(".message-body")
        await expect(first_shown).to_have_text("history message 1901")
        await page.locator("#messages").evaluate("node => { node.scrollTop = 0; }")
        await expect(messages).to_have_count(2 * PAGE_SIZE)
        await expect(
            page.locator("#messages .message-body", has_text="history message 1901")
        ).to_be_in_viewport()
        await expect(older).to_have_text("Show 1800 older messages")

        # Keyboard users get the same from the button (reaching it may scroll a page in too);
        # the last page removes it.
        await older.press("Enter")
        await expect(older).not_to_have_text("Show 1800 older messages")
        presses = 1
        while await older.count() > 0 and presses < 18:
            await older.press("Enter")
            presses += 1
        await expect(messages).to_have_count(2000)
        await expect(older).to_have_count(0)
        await expect(messages.first.locator(".message-body")).to_have_text("history message 1")

        # A live message still lands at the bottom, once.
        assert (await work.visitors[0].call("message", {"body": "still there?"}))["ok"]
        await expect(newest).to_have_text("still there?")
        await expect(messages).to_have_count(2001)
        assert errors == []
        await work.close()
        await context.close()
