"""The console works from the keyboard alone: accept, reply, close and Ready, with a visible
focus ring on the way; and every control, on the console and the wallboard, has a name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from hub.model import Role
from tests.browser.test_console_chat import sign_in
from tests.browser.test_console_work import visitor_writes
from tests.functional.conftest import PASSWORD, Running, serve, settings_for

pytestmark = pytest.mark.browser

# The accessible name a screen reader would read for each visible control (a simplified
# accessible-name computation: aria-labelledby, aria-label, <label>, text, title).
UNNAMED_CONTROLS = """() => [
  ...document.querySelectorAll("button, select, textarea, input, a[href]")]
  .filter((node) => node.getClientRects().length > 0 && !node.closest("[hidden]"))
  .filter((node) => {
    const by = (node.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
    const name = by.map((id) => document.getElementById(id)?.textContent || "").join(" ")
      || node.getAttribute("aria-label")
      || [...(node.labels || [])].map((l) => l.textContent).join(" ")
      || (node.tagName === "SELECT" ? "" : node.textContent)
      || node.getAttribute("title") || "";
    return name.trim() === "";
  })
  .map((node) => node.outerHTML.slice(0, 120))"""

FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
}"""


async def tab_to(page: Page, selector: str, *, backwards: bool = False, limit: int = 8) -> int:
    """Press Tab (or Shift+Tab) until ``selector`` has the focus; how many presses it took."""
    target = page.locator(selector)
    for presses in range(1, limit + 1):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if await target.evaluate("node => node === document.activeElement"):
            return presses
    raise AssertionError(f"{selector} not reached in {limit} presses of Tab")


async def test_accept_reply_close_ready_from_the_keyboard(browser: Any, tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, wrap_up_s=60)) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, running.base, "alice@example.com")
        await page.select_option("#state-select", "available")
        await expect(page.locator("#state-label")).to_contain_text("vailable")
        assert await page.evaluate(UNNAMED_CONTROLS) == []

        visitor, _ = await visitor_writes(running, "Carol Customer", "can you help?")
        await expect(page.locator(".offer-card")).to_be_visible()
        await tab_to(page, "#help-button")  # out of the state picker, to a plain control
        await page.keyboard.press("a")
        await expect(page.locator("#work-list .work-item")).to_have_count(1)
        await expect(page.locator("#composer")).to_be_focused()  # straight into the reply box
        assert await page.evaluate(UNNAMED_CONTROLS) == []

        await page.keyboard.type("Of course, one moment")
        await page.keyboard.press("Enter")
        await visitor.wait_for("message", lambda m: m["message"]["body"] == "Of course, one moment")

        await tab_to(page, "#close-conversation", backwards=True, limit=5)
        ring = await page.evaluate(FOCUS_RING)
        assert ring["style"] != "none" and ring["width"] >= 2, ring
        await page.keyboard.press("Enter")
        await expect(page.locator("#end-wrap-up")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#work-list .work-item")).to_have_count(0)
        await expect(page.locator("#offers")).to_be_focused()  # where a / d take the next one

        # Ready for the next one: the next offer is accepted with the keyboard too.
        other, _ = await visitor_writes(running, "Dan Customer", "me next")
        await expect(page.locator(".offer-card")).to_be_visible()
        await page.keyboard.press("a")
        await expect(page.locator("#composer")).to_be_focused()
        assert errors == []
        for client in (visitor, other):
            await client.close()
        await context.close()


async def test_every_wallboard_control_has_a_name(browser: Any, live_hub: Running) -> None:
    await live_hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    await live_hub.add_user("alice@example.com", "Alice Agent")
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(f"{live_hub.base}/console/supervisor")
    await page.fill("#email", "sam@example.com")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#agents-table tr", has_text="Alice Agent")).to_be_visible()
    assert await page.evaluate(UNNAMED_CONTROLS) == []
    await context.close()
