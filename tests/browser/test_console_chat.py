"""An agent signs in, accepts a visitor's chat from the offer card, and they talk both ways."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.functional.conftest import PASSWORD, Running

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="window.__pwned=1">'


async def sign_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/console")
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{base}/console")


async def test_agent_accepts_offer_and_chats_with_visitor(browser: Any, live_hub: Running) -> None:
    await live_hub.add_user("alice@example.com", "Alice Agent")
    errors: list[str] = []
    agent_ctx = await browser.new_context()
    visitor_ctx = await browser.new_context()
    agent = await agent_ctx.new_page()
    visitor = await visitor_ctx.new_page()
    for page in (agent, visitor):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    await sign_in(agent, live_hub.base, "alice@example.com")
    await expect(agent.locator("#agent-name")).to_have_text("Alice Agent")
    await agent.select_option("#state-select", "available")
    await expect(agent.locator("#state-label")).to_contain_text("vailable")

    await visitor.goto(f"{live_hub.base}/chat")
    await expect(visitor.locator("#prechat-form")).to_be_visible()  # a new visitor
    await visitor.fill("#prechat-name", "Carol Customer")
    await visitor.fill("#prechat-email", "carol@example.com")
    await visitor.click("#prechat-start")
    await visitor.fill("#chat-input", "Hello, is anyone there?")
    await visitor.press("#chat-input", "Enter")
    await expect(visitor.locator("#chat-messages .chat-body").last).to_have_text(
        "Hello, is anyone there?"
    )

    card = agent.locator(".offer-card")
    await expect(card).to_be_visible(timeout=5000)
    await expect(card.locator(".offer-customer")).to_contain_text("Carol Customer")
    await expect(card.locator(".offer-preview")).to_contain_text("Hello, is anyone there?")
    await card.locator(".offer-accept").click()
    await expect(agent.locator(".offer-card")).to_have_count(0)
    await expect(agent.locator("#work-list .work-item")).to_have_count(1)
    await expect(visitor.locator("#chat-status")).to_contain_text("Alice Agent")
    await expect(agent.locator("#customer-name")).to_contain_text("Carol Customer")

    await agent.fill("#composer", "Hi Carol, Alice here. How can I help?")
    await agent.press("#composer", "Enter")
    await expect(visitor.locator("#chat-messages .from-agent .chat-body").last).to_have_text(
        "Hi Carol, Alice here. How can I help?"
    )

    await visitor.fill("#chat-input", HOSTILE)
    await visitor.press("#chat-input", "Enter")
    incoming = agent.locator("#messages .message-in .message-body").last
    await expect(incoming).to_have_text(HOSTILE)  # shown as text, not as an element
    assert await agent.locator("#messages img").count() == 0
    assert await visitor.locator("#chat-messages img").count() == 0
    assert await agent.evaluate("window.__pwned") is None

    await agent.fill("#note-body", "Asked about a late order")
    await agent.click("#add-note")
    await expect(agent.locator("#customer-notes")).to_contain_text("Asked about a late order")

    await agent.click("#close-conversation")
    await expect(visitor.locator("#chat-status")).to_contain_text("closed")
    await agent.click("#end-wrap-up")
    await expect(agent.locator("#work-list .work-item")).to_have_count(0)
    assert errors == []
    await agent_ctx.close()
    await visitor_ctx.close()


async def test_visitor_reload_resumes_conversation(browser: Any, live_hub: Running) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await page.goto(f"{live_hub.base}/chat")
    await expect(page.locator("#prechat-skip")).to_be_visible()
    await page.click("#prechat-skip")
    await page.fill("#chat-input", "remember me")
    await page.press("#chat-input", "Enter")
    await expect(page.locator("#chat-status")).to_contain_text("number 1")
    await page.reload()
    await expect(page.locator("#chat-messages .chat-body")).to_have_text(["remember me"])
    await expect(page.locator("#chat-status")).to_contain_text("number 1")
    await ctx.close()


async def test_supervisor_wallboard_updates_live(browser: Any, live_hub: Running) -> None:
    from hub.model import Role
    from tests.functional.conftest import connect

    await live_hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    await live_hub.add_user("alice@example.com", "Alice Agent")
    errors: list[str] = []
    ctx = await browser.new_context()
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{live_hub.base}/console/supervisor")
    await page.fill("#email", "sam@example.com")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{live_hub.base}/console/supervisor")
    row = page.locator('[data-queue="support"]')
    await expect(row.locator(".q-waiting")).to_have_text("0")
    await expect(row.locator(".q-longest")).to_have_text("—")
    # Alice was added after start-up and has not signed in: listed, offline.
    agent_row = page.locator("#agents-table tr", has_text="Alice Agent")
    await expect(agent_row.locator(".a-state")).to_contain_text("offline")

    visitor = await connect(live_hub.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("message", {"body": "help"}))["ok"]
    await expect(row.locator(".q-waiting")).to_have_text("1")
    await expect(row.locator(".q-longest")).to_have_text(re.compile(r"^0:0[0-9]$"))

    alice = await connect(
        live_hub.base, "/agent", token=await live_hub.sign_in("alice@example.com")
    )
    await alice.next("hello")
    await alice.call("set_state", {"state": "available"})
    await expect(agent_row.locator(".a-state")).to_contain_text("available")
    await expect(row.locator(".q-offered")).to_have_text("1")
    offer = await alice.next("offer")
    assert (await alice.call("accept", {"interaction_id": offer["interaction_id"]}))["ok"]
    await expect(row.locator(".q-waiting")).to_have_text("0")
    await expect(row.locator(".q-assigned")).to_have_text("1")
    await expect(agent_row.locator(".a-load")).to_contain_text("1/3")
    assert errors == []
    await alice.close()
    await visitor.close()
    await ctx.close()
