"""Offers an agent does not take: declined from the keyboard, and one left to run out its
countdown. Each card goes, the agent is told why, and the hub records what happened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from hub.model import Role
from tests.browser.test_console_chat import sign_in
from tests.functional.conftest import Running, serve, settings_for
from tests.functional.test_chat_flow import visitor

pytestmark = pytest.mark.browser
OFFER_TIMEOUT_S = 4


@pytest.fixture
async def quick_offers(tmp_path: Path) -> AsyncIterator[Running]:
    async with serve(settings_for(tmp_path, offer_timeout_s=OFFER_TIMEOUT_S)) as running:
        yield running


async def test_decline_from_the_keyboard_and_a_countdown_that_runs_out(
    browser: Any, quick_offers: Running
) -> None:
    running = quick_offers
    await running.add_user("alice@example.com", "Alice Agent")
    await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
    errors: list[str] = []
    page = await (await browser.new_context()).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, running.base, "alice@example.com")
    await page.select_option("#state-select", "available")
    await expect(page.locator("#state-label")).to_contain_text("vailable")

    # Declined with `d`: the card goes at once and this chat is not offered to her again.
    carol, _ = await visitor(running)
    assert (await carol.call("message", {"body": "Decline me please"}))["ok"]
    card = page.locator(".offer-card")
    await expect(card).to_have_count(1)
    await expect(card.locator(".offer-preview")).to_contain_text("Decline me please")
    declined_id = await card.get_attribute("data-interaction-id")
    await page.locator("body").press("d")
    await expect(page.locator(".offer-card")).to_have_count(0)

    # Left alone: the countdown goes down to nothing, then the card goes and she is told.
    dan, _ = await visitor(running)
    assert (await dan.call("message", {"body": "Let this one run out"}))["ok"]
    await expect(card).to_have_count(1)
    await expect(card.locator(".offer-preview")).to_contain_text("Let this one run out")
    expired_id = await card.get_attribute("data-interaction-id")
    countdown = card.locator(".offer-countdown")
    first = int(await countdown.inner_text())
    assert 1 <= first <= OFFER_TIMEOUT_S
    await expect(countdown).not_to_have_text(str(first))  # it ticks
    assert int(await countdown.inner_text()) < first
    await expect(page.locator(".offer-card")).to_have_count(
        0, timeout=OFFER_TIMEOUT_S * 1000 + 3000
    )
    await expect(page.locator(".toast").last).to_contain_text("the offer timed out")
    await expect(page.locator("#work-list .work-item")).to_have_count(0)  # nothing was taken

    token = await running.sign_in("ada@example.com")
    status, body = await running.get("/api/v1/interactions?channel=webchat", token)
    assert status == 200, body
    steps = {
        str(i["interaction_id"]): [s["step"] for s in i["steps"]] for i in body["interactions"]
    }
    assert "declined" in steps[declined_id] and "assigned" not in steps[declined_id]
    assert any("expired" in s for s in steps[expired_id]), steps[expired_id]
    assert "assigned" not in steps[expired_id]
    assert errors == []
    for client in (carol, dan):
        await client.close()
