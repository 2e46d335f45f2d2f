"""An agent takes a phone call in the console: accepting rings their phone (the fake Twilio API
sees the call placed), answering bridges the caller into the conference, and the console shows
the call's state, a running timer and the controls, which reach Twilio's REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.test_console_chat import sign_in
from tests.fakes.call_flow import twiml_of
from tests.fakes.voice_hub import ALICE_PHONE, HOLD_MUSIC, voice_hub

pytestmark = pytest.mark.browser


async def test_agent_accepts_a_call_and_controls_it(browser: Any, tmp_path: Path) -> None:
    async with voice_hub(tmp_path) as scene:
        await scene.running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        context = await browser.new_context()
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, scene.running.base, "alice@example.com")
        await page.select_option("#state-select", "available")
        await expect(page.locator("#state-label")).to_contain_text("vailable")

        flow = scene.call()
        await flow.ring()
        await flow.press("1")
        interaction_id = int((flow.enqueue.text or "").removeprefix("interaction-"))
        card = page.locator(".offer-card")
        await expect(card).to_be_visible(timeout=5000)
        await card.locator(".offer-accept").click()

        state = page.locator("#call-state")
        await expect(state).to_have_text("Ringing your phone…")
        await expect(page.locator("#composer-form")).to_be_hidden()  # no typing to a call
        leg = await scene.agent_leg(flow, 1)
        assert leg.placed["To"] == ALICE_PHONE
        await leg.answer()
        await expect(state).to_have_text("On the call")
        [moved] = await scene.api.wait_for(1, f"/Calls/{flow.sid}.json")
        conference = twiml_of(moved.form["Twiml"]).find(".//Dial/Conference")
        assert conference is not None and conference.text == f"interaction-{interaction_id}"
        conference_sid = "CF" + "c" * 32
        await leg.conference_event("conference-start", conference_sid)

        timer = page.locator("#call-timer")
        await expect(timer).to_be_visible()
        await expect(timer).to_have_text("0:01", timeout=3000)  # it runs
        participants = f"/Conferences/{conference_sid}/Participants"

        await page.click("#call-hold")
        await expect(state).to_have_text("On the call · customer on hold")
        await expect(page.locator("#call-hold")).to_have_text("Resume")
        [hold] = await scene.api.wait_for(1, f"{participants}/{flow.sid}.json")
        assert (hold.form["Hold"], hold.form["HoldUrl"]) == ("true", HOLD_MUSIC)
        await page.click("#call-hold")
        await expect(page.locator("#call-hold")).to_have_text("Hold")
        await page.click("#call-mute")
        await expect(page.locator("#call-mute")).to_have_text("Unmute")
        [mute] = await scene.api.wait_for(1, f"{participants}/{leg.sid}.json")
        assert mute.form["Muted"] == "true"

        await page.click("#call-hangup")
        await expect(state).to_have_text("Call ended (you hung up)")
        ended = scene.api.calls_to(f"/Calls/{flow.sid}.json")[-1]
        assert ended.form["Status"] == "completed"
        await expect(page.locator("#call-hangup")).to_be_hidden()
        await expect(page.locator("#end-wrap-up")).to_be_visible()
        assert errors == []
        await context.close()
