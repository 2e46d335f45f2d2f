"""The end-of-chat rating card: the visitor rates with the keyboard and the agent's customer
panel shows the rating and comment (as text) at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.test_console_chat import HOSTILE, sign_in
from tests.functional.conftest import Running, serve, settings_for
from tests.functional.test_csat import CSAT_QUEUES

pytestmark = pytest.mark.browser


@pytest.fixture
async def csat_hub(tmp_path: Path) -> AsyncIterator[Running]:
    async with serve(settings_for(tmp_path, HUB_QUEUES=CSAT_QUEUES)) as running:
        yield running


async def test_visitor_rates_chat_and_agent_panel_shows_it(browser: Any, csat_hub: Running) -> None:
    await csat_hub.add_user("alice@example.com", "Alice Agent")
    errors: list[str] = []
    agent_ctx = await browser.new_context()
    visitor_ctx = await browser.new_context()
    agent = await agent_ctx.new_page()
    visitor = await visitor_ctx.new_page()
    for page in (agent, visitor):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    await sign_in(agent, csat_hub.base, "alice@example.com")
    await agent.select_option("#state-select", "available")
    await expect(agent.locator("#state-label")).to_contain_text("vailable")
    await visitor.goto(f"{csat_hub.base}/chat")
    await visitor.fill("#prechat-name", "Carol Customer")
    await visitor.click("#prechat-start")
    await visitor.fill("#chat-input", "My parcel is late")
    await visitor.press("#chat-input", "Enter")
    await agent.locator(".offer-card .offer-accept").click()
    await expect(agent.locator("#customer-name")).to_contain_text("Carol Customer")
    survey = visitor.locator("#chat-survey")
    await expect(survey).to_be_hidden()

    await agent.click("#close-conversation")
    await expect(visitor.locator("#chat-status")).to_contain_text("closed")
    await expect(survey).to_be_visible()
    await expect(survey.locator(".survey-send")).to_be_disabled()
    # Keyboard only: the scale is one radio group, arrows move along it.
    await survey.locator('input[name="score"][value="1"]').focus()
    for _ in range(3):
        await visitor.keyboard.press("ArrowRight")
    await expect(survey.locator('input[name="score"][value="4"]')).to_be_checked()
    await expect(survey.locator(".survey-picked")).to_have_text("4 of 5: Good")
    await visitor.locator("#survey-comment").fill(HOSTILE)
    await survey.locator(".survey-send").focus()
    await visitor.keyboard.press("Enter")
    await expect(survey.locator(".survey-thanks")).to_have_text("Thank you! You rated us 4 of 5.")

    rated = agent.locator("#customer-history .history-rating")
    await expect(rated).to_have_count(1)
    await expect(rated.locator(".history-rating-score")).to_have_text("4/5")
    await expect(rated.locator(".history-rating-comment")).to_have_text(HOSTILE)
    assert await agent.locator("#customer-history img").count() == 0

    # Changed within the window: the panel follows.
    await survey.locator(".survey-change").click()
    await survey.locator('label.survey-score:has(input[value="2"])').click()
    await survey.locator(".survey-send").click()
    await expect(survey.locator(".survey-thanks")).to_contain_text("2 of 5")
    await expect(rated.locator(".history-rating-score")).to_have_text("2/5")
    await expect(rated).to_have_class("history-line history-rating is-low")
    assert errors == []
    await agent_ctx.close()
    await visitor_ctx.close()
