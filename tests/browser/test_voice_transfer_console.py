"""In the browser: an agent transfers a live call warm (consults a colleague, then completes),
and a supervisor listens to, whispers on and leaves a live call from the wallboard; the fake
Twilio API sees the conference participants the hub adds, changes and removes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from hub.model import Role
from tests.browser.test_console_chat import sign_in
from tests.fakes.voice_hub import BOB_PHONE, CAROL_PHONE, voice_hub
from tests.functional.test_voice_transfer import CONFERENCE, PARTICIPANTS, on_the_call

pytestmark = pytest.mark.browser


async def test_agent_consults_a_colleague_and_completes_the_transfer(
    browser: Any, tmp_path: Path
) -> None:
    async with voice_hub(tmp_path) as scene:
        await scene.running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        context = await browser.new_context()
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, scene.running.base, "alice@example.com")
        await page.select_option("#state-select", "available")
        await expect(page.locator("#state-label")).to_contain_text("vailable")
        bob = await scene.agent("bob@example.com", "Bob")
        bob_id = str((await scene.running.hub.store.user_by_email("bob@example.com"))[0].user_id)  # type: ignore[index]

        flow = scene.call()
        await flow.ring()
        await flow.press("1")
        interaction_id = int((flow.enqueue.text or "").removeprefix("interaction-"))
        await page.locator(".offer-card .offer-accept").click()
        leg = await scene.agent_leg(flow, 1)
        await leg.answer()
        state = page.locator("#call-state")
        await expect(state).to_have_text("On the call")
        await leg.conference_event("conference-start", CONFERENCE)

        target = page.locator("#call-consult-target")
        await expect(target.locator(f'option[value="{bob_id}"]')).to_have_text("Bob (available)")
        await target.select_option(bob_id)
        await page.click("#call-consult")
        consult_state = page.locator("#call-consult-state")
        await expect(consult_state).to_have_text("Calling Bob… · customer on hold")
        await expect(page.locator("#call-consult-complete")).to_be_disabled()
        consult = await scene.added_participant(flow, 1)
        assert (consult.placed["To"], consult.placed["Label"]) == (BOB_PHONE, "consult")
        [hold] = scene.api.calls_to(f"{PARTICIPANTS}/{flow.sid}.json")
        assert hold.form["Hold"] == "true"

        await consult.answer()
        await expect(consult_state).to_have_text("Talking with Bob · customer on hold")
        await page.click("#call-consult-complete")
        await expect(page.locator("#call-panel")).to_be_hidden()  # the call is Bob's now
        assigned = await bob.next("assigned")
        assert assigned["interaction_id"] == interaction_id
        assert assigned["voice"]["stage"] == "connected"
        [gone] = await scene.api.wait_for(1, f"{PARTICIPANTS}/{leg.sid}.json", method="DELETE")
        assert gone.method == "DELETE"
        assert errors == []
        await context.close()


async def test_supervisor_listens_whispers_and_stops_from_the_wallboard(
    browser: Any, tmp_path: Path
) -> None:
    async with voice_hub(tmp_path) as scene:
        await scene.running.add_user("carol@example.com", "Carol", Role.SUPERVISOR)
        errors: list[str] = []
        context = await browser.new_context()
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, scene.running.base, "carol@example.com")
        await page.goto(f"{scene.running.base}/console/supervisor")
        await expect(page.locator("#calls-empty")).to_be_visible()

        _, flow, interaction_id, leg = await on_the_call(scene)
        row = page.locator(f'#calls-table tr[data-interaction-id="{interaction_id}"]')
        await expect(row).to_be_visible()
        await expect(row.locator("th")).to_have_text("Alice")
        await expect(row.locator(".c-customer")).to_have_text(flow.from_number)

        await row.locator(".call-listen").click()
        await expect(row.locator(".c-monitor")).to_have_text("Carol listening")
        monitor = await scene.added_participant(flow, 1)
        assert (monitor.placed["To"], monitor.placed["Muted"]) == (CAROL_PHONE, "true")

        await row.locator(".call-whisper").click()
        await expect(row.locator(".c-monitor")).to_have_text("Carol whispering")
        [coach] = scene.api.calls_to(f"{PARTICIPANTS}/{monitor.sid}.json")
        assert (coach.form["Coaching"], coach.form["CallSidToCoach"]) == ("true", leg.sid)

        await row.locator(".call-stop").click()
        await expect(row.locator(".c-monitor")).to_have_text("—")
        await scene.api.wait_for(1, f"{PARTICIPANTS}/{monitor.sid}.json", method="DELETE")

        # The caller hangs up: the call leaves the list.
        await leg.conference_event("participant-leave", CONFERENCE, flow.sid)
        await expect(row).to_be_hidden()
        await expect(page.locator("#calls-empty")).to_be_visible()
        assert errors == []
        await context.close()
