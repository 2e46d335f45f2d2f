"""The browser phone and click-to-call in the console, in headless Chromium.

The real Twilio Voice JS SDK would dial out to Twilio, so the page gets a small stand-in for
``Twilio.Device`` at the vendored SDK's URL (Playwright ``page.route``): it records the token
it was given, reports ``registered``, and lets the test ring it. Everything else is real: the
hub, its token endpoint, the fake Twilio REST API that sees the legs placed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
from playwright.async_api import Page, Route, expect

from hub.model import Channel, Identity, IdentityKind
from hub.ports import InboundContact
from tests.browser.test_console_chat import sign_in
from tests.fakes.call_flow import AgentLeg, CallFlow
from tests.fakes.voice_hub import (
    ALICE_PHONE,
    API_KEY_SECRET,
    BROWSER_PHONE,
    VOICE_NUMBER,
    VoiceScene,
    voice_hub,
)

pytestmark = pytest.mark.browser

CUSTOMER = "+14155550142"

FAKE_SDK = """
(function () {
  class Emitter {
    constructor() { this.handlers = {}; }
    on(event, fn) { (this.handlers[event] = this.handlers[event] || []).push(fn); return this; }
    emit(event, ...args) { for (const fn of this.handlers[event] || []) fn(...args); }
  }
  class FakeCall extends Emitter {
    constructor(parameters) { super(); this.parameters = parameters; this.accepted = false; }
    accept() { this.accepted = true; this.emit("accept", this); }
    reject() { this.rejected = true; this.emit("reject"); }
  }
  class FakeDevice extends Emitter {
    constructor(token, options) {
      super();
      this.tokens = [token];
      this.options = options;
      window.fakePhone.device = this;
    }
    async register() { window.fakePhone.registered += 1; this.emit("registered"); }
    updateToken(token) { this.tokens.push(token); }
    destroy() { window.fakePhone.destroyed += 1; }
  }
  window.fakePhone = {
    device: null, registered: 0, destroyed: 0, calls: [],
    ring(from) {
      const call = new FakeCall({ From: from });
      this.calls.push(call);
      this.device.emit("incoming", call);
    },
  };
  window.Twilio = { Device: FakeDevice, Call: FakeCall };
})();
"""


async def fake_sdk(route: Route) -> None:
    await route.fulfill(status=200, content_type="text/javascript", body=FAKE_SDK)


async def console(scene: VoiceScene, browser: Any, errors: list[str]) -> Page:
    context = await browser.new_context()
    page: Page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.route("**/static/vendor/twilio.min.js", fake_sdk)
    await sign_in(page, scene.running.base, "alice@example.com")
    return page


async def test_agent_takes_a_call_in_the_browser(browser: Any, tmp_path: Path) -> None:
    async with voice_hub(tmp_path, **BROWSER_PHONE) as scene:
        alice = await scene.running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        page = await console(scene, browser, errors)
        await expect(page.locator("#device-chooser")).to_be_visible()
        await expect(page.locator("#device-select")).to_have_value("phone")

        await page.select_option("#device-select", "browser")
        await expect(page.locator("#device-status")).to_have_text("Browser phone ready")
        token = await page.evaluate("window.fakePhone.device.tokens[0]")
        claims = jwt.decode(token, API_KEY_SECRET, algorithms=["HS256"])
        assert claims["grants"]["identity"] == f"agent-{alice}"
        # Before it expires the SDK asks for a new one, and gets it.
        await page.evaluate("window.fakePhone.device.emit('tokenWillExpire')")
        await page.wait_for_function("() => window.fakePhone.device.tokens.length === 2")

        await page.select_option("#state-select", "available")
        await expect(page.locator("#state-label")).to_contain_text("vailable")
        flow = scene.call()
        await flow.ring()
        await flow.press("1")
        card = page.locator(".offer-card")
        await expect(card).to_be_visible(timeout=5000)
        await card.locator(".offer-accept").click()
        leg = await scene.agent_leg(flow, 1)
        assert leg.placed["To"] == f"client:agent-{alice}"  # the browser, not ALICE_PHONE

        # Twilio rings the registered device: the console offers to answer.
        await page.evaluate(f"window.fakePhone.ring({VOICE_NUMBER!r})")
        incoming = page.locator("#incoming-call")
        await expect(incoming).to_be_visible()
        await expect(page.locator("#incoming-call-text")).to_have_text(
            f"Incoming call ({VOICE_NUMBER})"
        )
        await page.click("#incoming-answer")
        await expect(incoming).to_be_hidden()
        assert await page.evaluate("window.fakePhone.calls[0].accepted") is True
        await leg.answer()  # Twilio reports the answered leg
        await expect(page.locator("#call-state")).to_have_text("On the call")

        # The choice is the server's: a reload registers the browser phone again.
        await page.reload()
        await expect(page.locator("#device-select")).to_have_value("browser")
        await expect(page.locator("#device-status")).to_have_text("Browser phone ready")
        assert errors == []
        await page.context.close()


async def test_agent_calls_a_customer_from_the_customer_panel(browser: Any, tmp_path: Path) -> None:
    async with voice_hub(tmp_path) as scene:
        await scene.running.add_user("alice@example.com", "Alice Agent")
        errors: list[str] = []
        page = await console(scene, browser, errors)
        await page.select_option("#state-select", "available")
        await expect(page.locator("#state-label")).to_contain_text("vailable")
        # The customer chats first; the agent takes the chat and sees their record.
        await scene.running.hub.inbound.receive(
            InboundContact(
                channel=Channel.WEBCHAT,
                identity=Identity(IdentityKind.PHONE, CUSTOMER),
                thread_key="chat-1",
                body="Could you call me?",
            ),
            queue_name="support",
        )
        card = page.locator(".offer-card")
        await expect(card).to_be_visible(timeout=5000)
        await card.locator(".offer-accept").click()
        call_button = page.get_by_role("button", name=f"Call {CUSTOMER}")
        await expect(call_button).to_be_visible()

        await call_button.click()
        state = page.locator("#call-state")
        await expect(state).to_have_text("Ringing you first (then the customer)…")
        await scene.api.wait_for(1, "/Calls.json")
        flow = CallFlow(scene.twilio, CUSTOMER, VOICE_NUMBER)
        agent_leg = AgentLeg(flow, scene.api.placed_calls[0])
        assert (agent_leg.placed["To"], agent_leg.placed["From"]) == (ALICE_PHONE, VOICE_NUMBER)
        await agent_leg.answer()
        await expect(state).to_have_text("Calling the customer…")
        await scene.api.wait_for(2, "/Calls.json")
        customer_leg = AgentLeg(flow, scene.api.placed_calls[1])
        assert (customer_leg.placed["To"], customer_leg.placed["From"]) == (CUSTOMER, VOICE_NUMBER)
        await customer_leg.answer()
        await expect(state).to_have_text("On the call")
        await expect(page.locator("#call-hold")).to_be_visible()
        await expect(page.locator("#call-timer")).to_be_visible()
        await page.click("#call-hangup")
        await expect(state).to_have_text("Call ended (you hung up)")
        hung = scene.api.calls_to(f"/Calls/{customer_leg.sid}.json")[-1]
        assert hung.form["Status"] == "completed"
        assert errors == []
        await page.context.close()
