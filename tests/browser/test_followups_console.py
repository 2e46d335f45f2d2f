"""Follow-ups in headless Chromium: an agent schedules two from the customer panel of the chat
they hold, sees them listed (a hostile note shown as text), cancels one, finds the other under
"My follow-ups"; once the chat is over, a follow-up that comes due is offered to them with its
note on the card and in the thread, as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_console_work import HOSTILE, accept_offer, agent_page, visitor_writes
from tests.functional.conftest import Running

pytestmark = pytest.mark.browser


async def schedule_in_panel(page: Page, due: str, note: str) -> None:
    form = page.locator("#followup-form")
    await form.get_by_label("Follow up at").fill(due)
    await form.get_by_label("Note").fill(note)
    await form.get_by_role("button", name="Follow up").click()


async def test_agent_schedules_lists_and_cancels_follow_ups_from_the_customer_panel(
    browser: Any, live_hub: Running
) -> None:
    await live_hub.add_user("alice@example.com", "Alice Agent")
    token = await live_hub.sign_in("alice@example.com")
    async with agent_page(browser, live_hub, "alice@example.com") as page:
        visitor, _ = await visitor_writes(live_hub, "Carol Customer", "Refund please")
        await accept_offer(page, "Refund please")
        _, listed = await live_hub.get("/api/v1/interactions", token)
        (chat,) = listed["interactions"]
        await expect(page.locator("#customer-followups")).to_be_visible()
        await expect(page.locator("#followup-empty")).to_be_visible()

        tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:30")
        await schedule_in_panel(page, tomorrow, f"Check the refund {HOSTILE}")
        items = page.locator("#followup-list .followup")
        await expect(items).to_have_count(1)
        await expect(items.first.locator(".followup-note")).to_have_text(
            f"Check the refund {HOSTILE}"
        )
        await expect(page.locator("#followup-note")).to_have_value("")  # the form is reset
        await schedule_in_panel(page, tomorrow.replace("09:30", "11:00"), "Second call")
        await expect(items).to_have_count(2)

        # A refusal is shown in the form, naming the field.
        await schedule_in_panel(page, "2020-01-01T09:00", "Too late")
        await expect(page.locator("#followup-error")).to_contain_text(
            "due_at must be in the future"
        )
        await expect(items).to_have_count(2)

        second = items.filter(has_text="Second call")
        await second.get_by_role("button", name="Cancel").click()
        await expect(second).to_have_attribute("data-state", "cancelled")
        await expect(second.get_by_role("button", name="Cancel")).to_have_count(0)
        first = items.filter(has_text="Check the refund")
        await expect(first.get_by_role("button", name="Cancel")).to_be_visible()

        # The agent's own upcoming follow-ups, in the top bar.
        await expect(page.locator("#my-followups-count")).to_have_text("1")
        await page.click("#my-followups-toggle")
        mine = page.locator("#my-followups-list .followup")
        await expect(mine).to_have_count(1)
        await expect(mine.locator(".followup-note")).to_have_text(f"Check the refund {HOSTILE}")

        # The hub has them on Carol's chat: one scheduled for 09:30 local time, one cancelled.
        customer = chat["customer_id"]
        _, kept = await live_hub.get(f"/api/v1/customers/{customer}/followups", token)
        states = {f["note"]: f["state"] for f in kept["followups"]}
        assert states == {f"Check the refund {HOSTILE}": "scheduled", "Second call": "cancelled"}
        assert {f["conversation_id"] for f in kept["followups"]} == {chat["conversation_id"]}
        assert await page.evaluate("window.__pwned") is None
        await visitor.close()


async def test_due_follow_up_is_offered_with_its_note_as_text(
    browser: Any, live_hub: Running
) -> None:
    await live_hub.add_user("alice@example.com", "Alice Agent")
    token = await live_hub.sign_in("alice@example.com")
    async with agent_page(browser, live_hub, "alice@example.com") as page:
        visitor, _ = await visitor_writes(live_hub, "Carol Customer", "Refund please")
        await accept_offer(page, "Refund please")
        _, listed = await live_hub.get("/api/v1/interactions", token)
        (chat,) = listed["interactions"]
        assert (await visitor.call("close", {}))["ok"]  # Carol leaves; the thread is free

        due = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        status, body = await live_hub.send(
            "POST",
            f"/api/v1/customers/{chat['customer_id']}/followups",
            token,
            json={"due_at": due, "note": f"Ring back {HOSTILE}"},
        )
        assert status == 201, body
        text = f"Follow-up scheduled by Alice Agent: Ring back {HOSTILE}"
        card = page.locator(".offer-card", has_text="Follow-up scheduled by")
        await expect(card.locator(".offer-preview")).to_have_text(text)
        await card.locator(".offer-accept").click()
        await expect(page.locator("#messages .message-system .message-body").last).to_have_text(
            text
        )
        assert await page.evaluate("window.__pwned") is None
        await visitor.close()
