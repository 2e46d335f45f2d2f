"""The knowledge base in Chromium: a supervisor writes and publishes an article on
/console/kb (with a preview), an agent finds it beside the composer (Alt+K), reads it, and
inserts it into the reply the visitor receives; the supervisor edits, unpublishes and
deletes articles."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, expect

from hub.model import Role
from tests.browser.test_console_chat import sign_in
from tests.functional.conftest import PASSWORD, Running

pytestmark = pytest.mark.browser
ARTICLE = {
    "title": "Resetting your password",
    "body_markdown": "To reset your password:\n\n1. Open **Settings**.\n2. Choose *Security*.\n\n"
    "<script>window.__pwned = 1</script>",
    "tags": ["account"],
    "published": True,
}
INSERTED = "To reset your password:\n\n1. Open Settings.\n2. Choose Security.\n\n"


async def supervisor_page(browser: Any, hub: Running) -> Page:
    """Sue, a supervisor, on the knowledge base page, reached from the wallboard."""
    await hub.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{hub.base}/console/supervisor")
    await page.fill("#email", "sue@example.com")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{hub.base}/console/supervisor")
    await page.click("#kb-link")
    await page.wait_for_url(f"{hub.base}/console/kb")
    await expect(page.locator("#kbm-status")).to_have_text("No article matches.")
    return page


async def write(page: Page, article: dict[str, Any]) -> None:
    """Fill the editor with ``article`` and save it."""
    await page.fill("#kbm-title", article["title"])
    await page.fill("#kbm-tags", ", ".join(article["tags"]))
    await page.fill("#kbm-body", article["body_markdown"])
    await page.set_checked("#kbm-published", article["published"])
    await page.click("#kbm-save")


async def visitor_says(visitor: Page, base: str, text: str) -> None:
    await visitor.goto(f"{base}/chat")
    await visitor.fill("#prechat-name", "Carol Customer")
    await visitor.fill("#prechat-email", "carol@example.com")
    await visitor.click("#prechat-start")
    await visitor.fill("#chat-input", text)
    await visitor.press("#chat-input", "Enter")


async def chat_accepted(agent: Page, visitor: Page, base: str, text: str) -> None:
    """The visitor says ``text``, is offered the article first and asks for a person; the
    signed-in, available agent accepts the chat."""
    await visitor_says(visitor, base, text)
    suggested = visitor.locator("#chat-suggestions .suggestion-title")
    await expect(suggested).to_have_text(["Resetting your password"])
    await expect(agent.locator(".offer-card")).to_have_count(0)  # held while the visitor reads
    await visitor.click("#chat-suggestions .suggestion-no")
    await expect(visitor.locator("#chat-suggestions")).to_be_hidden()
    card = agent.locator(".offer-card")
    await expect(card).to_be_visible()
    await card.locator(".offer-accept").click()
    await expect(agent.locator("#work-list .work-item")).to_have_count(1)


async def test_agent_inserts_an_article_into_the_reply_the_visitor_receives(
    browser: Any, live_hub: Running
) -> None:
    errors: list[str] = []
    supervisor = await supervisor_page(browser, live_hub)
    await write(supervisor, ARTICLE)
    preview = supervisor.frame_locator("#kbm-preview iframe")
    await expect(preview.locator("strong")).to_have_text("Settings")
    await expect(preview.locator("script")).to_have_count(0)
    saved = supervisor.locator("#kbm-articles .kb-result")
    await expect(saved).to_have_count(1)
    await expect(saved.locator(".kb-result-title")).to_have_text("Resetting your password")
    await expect(saved.locator(".kbm-state")).to_have_text("published")

    await live_hub.add_user("alice@example.com", "Alice Agent")
    agent = await (await browser.new_context()).new_page()
    visitor = await (await browser.new_context()).new_page()
    for page in (supervisor, agent, visitor):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(agent, live_hub.base, "alice@example.com")
    await agent.select_option("#state-select", "available")
    await chat_accepted(agent, visitor, live_hub.base, "I forgot my password")

    await agent.fill("#composer", "Hi Carol!")
    await agent.press("#composer", "Alt+k")  # from the composer itself
    await expect(agent.locator("#kb-panel")).to_be_visible()
    await expect(agent.locator("#kb-query")).to_be_focused()
    await agent.fill("#kb-query", "passwords reset")
    result = agent.locator("#kb-results .kb-result")
    await expect(result).to_have_count(1)
    await expect(result.locator(".kb-result-title")).to_have_text("Resetting your password")
    await expect(result.locator(".kb-result-snippet")).to_contain_text("Open Settings")
    await agent.keyboard.press("Tab")  # the Search button, then the result
    await agent.keyboard.press("Tab")
    await expect(result).to_be_focused()
    await agent.keyboard.press("Enter")
    frame = agent.frame_locator("#kb-article-body iframe")
    await expect(frame.locator("strong")).to_have_text("Settings")
    await expect(frame.locator("ol li")).to_have_count(2)
    await expect(frame.locator("script")).to_have_count(0)
    await expect(agent.locator("#kb-insert")).to_be_focused()
    await agent.keyboard.press("Enter")
    await expect(agent.locator("#kb-panel")).to_be_hidden()
    await expect(agent.locator("#composer")).to_be_focused()
    expected = "Hi Carol!\n\n" + INSERTED + "<script>window.__pwned = 1</script>"
    await expect(agent.locator("#composer")).to_have_value(expected)
    await agent.press("#composer", "Enter")
    received = visitor.locator("#chat-messages .from-agent .chat-body").last
    await expect(received).to_have_text(expected)
    assert await visitor.evaluate("window.__pwned") is None
    assert await agent.evaluate("window.__pwned") is None

    # Escape closes the panel and gives the focus back to the composer.
    await agent.press("#composer", "Alt+k")
    await expect(agent.locator("#kb-query")).to_be_focused()
    await agent.keyboard.press("Escape")
    await expect(agent.locator("#kb-panel")).to_be_hidden()
    await expect(agent.locator("#composer")).to_be_focused()
    assert errors == []


async def test_supervisor_edits_unpublishes_and_deletes_articles(
    browser: Any, live_hub: Running
) -> None:
    page = await supervisor_page(browser, live_hub)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    draft = {**ARTICLE, "title": "Shipping times", "body_markdown": "Orders ship in **2** days."}
    await write(page, {**draft, "published": False})
    items = page.locator("#kbm-articles .kb-result")
    await expect(items.locator(".kbm-state")).to_have_text("draft")
    await write(page, {**ARTICLE, "title": "", "published": False})
    await expect(page.locator("#kbm-error")).to_have_text("Not saved: title is required")
    await page.click("#kbm-new")
    await write(page, {**ARTICLE, "published": True})
    await expect(items).to_have_count(2)

    await page.fill("#kbm-query", "shipping")
    await page.press("#kbm-query", "Enter")
    await expect(items).to_have_count(1)
    await items.click()
    await expect(page.locator("#kbm-editor-title")).to_have_text("Edit article")
    await expect(page.locator("#kbm-title")).to_have_value("Shipping times")
    await page.fill("#kbm-body", "Orders ship in **3** days.")
    preview = page.frame_locator("#kbm-preview iframe")
    await expect(preview.locator("strong")).to_have_text("3")
    await page.check("#kbm-published")
    await page.click("#kbm-save")
    await expect(items.locator(".kbm-state")).to_have_text("published")
    await page.uncheck("#kbm-published")
    await page.click("#kbm-save")
    await expect(items.locator(".kbm-state")).to_have_text("draft")

    await page.click("#kbm-delete")
    await page.click("#kbm-delete-confirm")
    await expect(items).to_have_count(0)
    await expect(page.locator("#kbm-title")).to_have_value("")
    await page.fill("#kbm-query", "")
    await page.press("#kbm-query", "Enter")
    await expect(items.locator(".kb-result-title")).to_have_text(["Resetting your password"])
    assert errors == []


async def test_visitor_reads_a_suggested_article_and_says_it_answered(
    browser: Any, live_hub: Running
) -> None:
    supervisor = await supervisor_page(browser, live_hub)
    await write(supervisor, ARTICLE)
    await expect(supervisor.locator("#kbm-articles .kbm-state")).to_have_text("published")
    await live_hub.add_user("alice@example.com", "Alice Agent")
    agent = await (await browser.new_context()).new_page()
    visitor = await (await browser.new_context()).new_page()
    errors: list[str] = []
    for page in (agent, visitor):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(agent, live_hub.base, "alice@example.com")
    await agent.select_option("#state-select", "available")

    await visitor_says(visitor, live_hub.base, "How can I reset my password?")
    panel = visitor.locator("#chat-suggestions")
    await expect(panel.locator(".suggestion-snippet")).to_contain_text("To reset your password")
    await panel.locator(".suggestion-summary").click()
    frame = visitor.frame_locator("#chat-suggestions iframe")
    await expect(frame.locator("strong")).to_have_text("Settings")
    await expect(frame.locator("script")).to_have_count(0)
    await panel.locator(".suggestion-yes").click()
    await expect(panel).to_have_text("Glad that helped! Write again any time if you need us.")
    await expect(visitor.locator("#chat-status")).to_contain_text("This conversation is closed")
    await expect(visitor.locator("#chat-end")).to_be_disabled()
    await agent.wait_for_timeout(1000)
    await expect(agent.locator(".offer-card")).to_have_count(0)  # no agent was needed
    assert await visitor.evaluate("window.__pwned") is None
    assert errors == []
