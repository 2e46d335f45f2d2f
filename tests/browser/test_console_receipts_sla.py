"""Delivered / read under the agent's chat replies, and the work list's reply-wait colour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_console_chat import sign_in
from tests.functional.conftest import Running, serve, settings_for

pytestmark = pytest.mark.browser

# The visitor's tab can be put in the background: Chromium's own visibility cannot be switched
# from a test, so the page's document reports what the test says (and hears the same event).
BACKGROUND_TAB = """
window.__hidden = false;
Object.defineProperty(document, "visibilityState", {
  get: () => (window.__hidden ? "hidden" : "visible"),
});
Object.defineProperty(document, "hidden", {get: () => window.__hidden});
window.__setHidden = (hidden) => {
  window.__hidden = hidden;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


async def _agent_takes_chat(agent: Page, visitor: Page, base: str, first: str) -> None:
    """The agent (signed in) goes available; a new visitor writes ``first``; the agent accepts."""
    await agent.select_option("#state-select", "available")
    await expect(agent.locator("#state-label")).to_contain_text("vailable")
    await visitor.goto(f"{base}/chat")
    await visitor.click("#prechat-skip")
    await visitor.fill("#chat-input", first)
    await visitor.press("#chat-input", "Enter")
    card = agent.locator(".offer-card")
    await expect(card).to_be_visible()
    await card.locator(".offer-accept").click()
    await expect(agent.locator("#work-list .work-item")).to_have_count(1)


async def test_agent_sees_delivered_then_read_live_and_after_a_reload(
    browser: Any, live_hub: Running
) -> None:
    await live_hub.add_user("alice@example.com", "Alice Agent")
    errors: list[str] = []
    agent_ctx = await browser.new_context(locale="en-US")
    visitor_ctx = await browser.new_context()
    await visitor_ctx.add_init_script(BACKGROUND_TAB)
    agent = await agent_ctx.new_page()
    visitor = await visitor_ctx.new_page()
    for page in (agent, visitor):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(agent, live_hub.base, "alice@example.com")
    await _agent_takes_chat(agent, visitor, live_hub.base, "Is my order on its way?")

    await visitor.evaluate("window.__setHidden(true)")  # the visitor switched tabs
    await agent.fill("#composer", "Yes, it ships today.")
    await agent.press("#composer", "Enter")
    await expect(visitor.locator("#chat-messages .from-agent .chat-body")).to_have_text(
        "Yes, it ships today."
    )
    receipt = agent.locator("#messages .message-out .message-receipt")
    await expect(receipt).to_have_text("Delivered")  # arrived, not yet seen
    assert (await receipt.get_attribute("title") or "").startswith("Delivered ")
    # The customer's own line has no receipt.
    await expect(agent.locator("#messages .message-in .message-receipt")).to_have_count(0)

    await visitor.evaluate("window.__setHidden(false)")  # back on the chat tab: seen
    await expect(receipt).to_have_text("Read")
    title = await receipt.get_attribute("title") or ""
    assert title.startswith("Delivered ") and "\nRead " in title

    # Stored: a reload of the console shows the same.
    await agent.reload()
    await expect(agent.locator("#messages .message-out .message-receipt")).to_have_text("Read")
    assert errors == []
    await agent_ctx.close()
    await visitor_ctx.close()


async def test_work_item_wait_turns_due_then_late_and_clears_on_reply(
    browser: Any, tmp_path: Path
) -> None:
    queues = "[{name: support, channels: [webchat], wrap_up_s: 60, reply_target_s: 8}]"
    async with serve(settings_for(tmp_path, HUB_QUEUES=queues)) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        agent_ctx = await browser.new_context(locale="en-US")
        visitor_ctx = await browser.new_context()
        agent = await agent_ctx.new_page()
        visitor = await visitor_ctx.new_page()
        for page in (agent, visitor):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(agent, running.base, "alice@example.com")
        await _agent_takes_chat(agent, visitor, running.base, "Hello?")

        wait = agent.locator("#work-list .work-wait")
        await expect(wait).to_have_attribute("data-level", "ok")
        assert "(target 0:08)" in (await wait.get_attribute("aria-label") or "")
        await expect(wait).to_have_attribute("data-level", "near", timeout=10_000)  # from 6 s
        await expect(wait).to_contain_text("reply due")
        await expect(wait).to_have_attribute("data-level", "late", timeout=10_000)  # after 8 s
        await expect(wait).to_contain_text("late")
        assert "over the 0:08 target" in (await wait.get_attribute("title") or "")
        colours = await wait.evaluate("n => getComputedStyle(n).backgroundColor")
        assert colours not in ("", "rgba(0, 0, 0, 0)")  # late is filled red, not just text

        # A reply ends the wait; the customer writing again starts a new one.
        await agent.fill("#composer", "Sorry for the wait!")
        await agent.press("#composer", "Enter")
        await expect(wait).to_be_hidden()
        await visitor.fill("#chat-input", "No problem")
        await visitor.press("#chat-input", "Enter")
        await expect(wait).to_be_visible()
        await expect(wait).to_have_attribute("data-level", "ok")
        assert errors == []
        await agent_ctx.close()
        await visitor_ctx.close()


# The pure rule (agent_console/static/reply_sla.js) as a table, run in the browser it ships to.
RULE_CASES = [
    # (messages as (direction, author_kind, seconds ago), target_s, level or None)
    ([("in", "customer", 10)], 60, "ok"),
    ([("in", "customer", 45)], 60, "near"),  # exactly 75%
    ([("in", "customer", 44)], 60, "ok"),
    ([("in", "customer", 60)], 60, "near"),  # at the target: not yet late
    ([("in", "customer", 61)], 60, "late"),
    ([("in", "customer", 90), ("out", "agent", 80)], 60, None),  # answered: nobody waits
    ([("in", "customer", 90), ("out", "agent", 80), ("in", "customer", 5)], 60, "ok"),
    ([("in", "customer", 90), ("in", "customer", 5)], 60, "late"),  # from the first unanswered
    ([("in", "customer", 90), ("in", "system", 5)], 60, "late"),  # a whisper is not a reply
    ([("out", "agent", 90)], 60, None),
    ([], 60, None),
]


async def test_reply_wait_rule_table(browser: Any, live_hub: Running) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await page.goto(f"{live_hub.base}/console")
    results = await page.evaluate(
        """async (cases) => {
          const { replyWait } = await import("/console/static/reply_sla.js");
          const now = Date.parse("2026-11-24T10:00:00Z");
          return cases.map(([lines, target]) => {
            const messages = lines.map(([direction, author_kind, ago]) => ({
              direction, author_kind, whisper: author_kind === "system",
              created_at: new Date(now - ago * 1000).toISOString(),
            }));
            const wait = replyWait(messages, target, now);
            return wait === null ? null : wait.level;
          });
        }""",
        [[lines, target] for lines, target, _ in RULE_CASES],
    )
    assert results == [level for _, _, level in RULE_CASES]
    await ctx.close()
