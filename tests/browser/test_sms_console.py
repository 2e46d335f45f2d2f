"""An agent takes a text message in the console and replies; the reply reaches Twilio (the fake
API) from the number the customer wrote to, and its delivery shows on the message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.test_console_chat import sign_in
from tests.fakes.sms_hub import CUSTOMER, HUB_NUMBER, sms_hub

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="window.__pwned=1">'


async def test_agent_accepts_sms_and_replies_through_twilio(browser: Any, tmp_path: Path) -> None:
    async with sms_hub(tmp_path, wrap_up_s=60) as scene:
        await scene.running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        context = await browser.new_context()
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, scene.running.base, "alice@example.com")
        await page.select_option("#state-select", "available")
        await expect(page.locator("#state-label")).to_contain_text("vailable")

        await scene.twilio.sms(
            from_number=CUSTOMER,
            to_number=HUB_NUMBER,
            body=HOSTILE,
            media=[("https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME1", "image/jpeg")],
        )
        card = page.locator(".offer-card")
        await expect(card).to_be_visible(timeout=5000)
        await card.locator(".offer-accept").click()
        await expect(page.locator("#work-list .work-item")).to_have_count(1)
        await expect(page.locator("#thread-title")).to_have_text(CUSTOMER)
        incoming = page.locator("#messages .message-in")
        await expect(incoming.locator(".message-body")).to_have_text(HOSTILE)  # text, not HTML
        link = incoming.locator("a.sms-media-link")
        await expect(link).to_have_text("Attachment 1 (image/jpeg)")
        assert await link.get_attribute("rel") == "noopener noreferrer"
        assert await page.locator("#messages img").count() == 0
        assert await page.evaluate("window.__pwned") is None

        counter = page.locator("#sms-counter")
        await page.fill("#composer", "x" * 1601)
        await expect(counter).to_have_text("1,601 / 1,600")
        await expect(counter).to_have_class("sms-counter is-over")
        await page.press("#composer", "Enter")
        await expect(page.locator("#composer-error")).to_contain_text("at most 1,600")
        assert scene.api.calls_to("/Messages.json") == []

        await page.fill("#composer", "Thanks, we are on it.")
        await expect(counter).to_have_text("21 / 1,600")
        await page.press("#composer", "Enter")
        [call] = await scene.api.wait_for(1)
        assert (call.form["From"], call.form["To"]) == (HUB_NUMBER, CUSTOMER)
        assert call.form["Body"] == "Thanks, we are on it."
        status = page.locator("#messages .message-out .sms-status")
        await expect(status).to_have_text("queued")

        callback = call.form["StatusCallback"]
        twilio_sid = scene.api.messages[0]["sid"]
        await scene.twilio.status(callback, sid=twilio_sid, status="delivered")
        await expect(status).to_have_text("delivered")

        await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body="STOP")
        await expect(page.locator("#sms-opt-out")).to_contain_text("opted out")
        await expect(page.locator("#composer")).to_be_disabled()
        await expect(page.locator("#send")).to_be_disabled()
        assert errors == []
        await context.close()
