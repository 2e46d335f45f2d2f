"""docs/console.png, the README's picture of the agent console, taken from the current code:
an agent at 1280x720 mid-chat, with a second conversation and a new offer waiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.test_console_chat import sign_in
from tests.browser.test_console_work import accept_offer, visitor_writes
from tests.functional.conftest import serve, settings_for

pytestmark = pytest.mark.browser
DOCS = Path(__file__).parents[2] / "docs"


async def test_console_screenshot_for_the_readme(browser: Any, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, offer_timeout_s=120, wrap_up_s=60)
    async with serve(settings) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
        page = await context.new_page()
        await sign_in(page, running.base, "alice@example.com")
        await page.select_option("#state-select", "available")
        dan, _ = await visitor_writes(running, "Dan Brown", "Can I change my delivery address?")
        await accept_offer(page, "Can I change my delivery address?")
        carol, _ = await visitor_writes(
            running, "Carol Smith", "Hi, my order #1042 has not arrived"
        )
        await accept_offer(page, "Hi, my order #1042 has not arrived")
        await page.fill(
            "#composer", "Hello Carol, I'm sorry to hear that. Let me check order #1042."
        )
        await page.press("#composer", "Enter")
        await carol.wait_for("message", lambda m: "#1042" in m["message"]["body"])
        assert (await carol.call("message", {"body": "Thank you! It was due on Monday."}))["ok"]
        await page.fill("#note-body", "Parcel held at the depot; re-sent by courier")
        await page.click("#add-note")
        await expect(page.locator("#customer-notes")).to_contain_text("re-sent by courier")
        await page.fill("#composer", "It is at our depot: I have asked the courier to")
        eve, _ = await visitor_writes(running, "Eve Martin", "Do you ship to Norway?")
        await expect(page.locator(".offer-card")).to_be_visible()
        await expect(page.locator("#messages .message-body").last).to_have_text(
            "Thank you! It was due on Monday."
        )
        await page.locator("#composer").focus()
        await page.screenshot(path=str(DOCS / "console.png"))
        for visitor in (dan, carol, eve):
            await visitor.close()
        await context.close()
