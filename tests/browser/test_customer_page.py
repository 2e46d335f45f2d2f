"""The customer page in headless Chromium: one customer writes by chat, e-mail and SMS; a
supervisor finds them by their phone number written the national way and by part of their
name, from the keyboard, and reads the whole story on one page, newest first (messages, the
private note, the agent's reply), the hostile name as text; an agent who never served the
customer is told so."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.async_api import Page, expect

from hub.config import load_settings
from hub.model import Role
from tests.fakes.sms_hub import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER,
    HUB_NUMBER,
    SmsScene,
    environ,
    sms_config,
)
from tests.fakes.twilio_api import FakeTwilioApi
from tests.fakes.twilio_webhooks import TwilioSide
from tests.functional.conftest import PASSWORD, Client, connect, free_port, serve
from tests.functional.test_email_support import mail, send, sink_server

pytestmark = pytest.mark.browser

NAME = "Carol Example <img src=x onerror=alert(1)>"
NATIONAL = "(415) 555-0123"  # CUSTOMER, +14155550123, as a person in the US writes it


@contextlib.asynccontextmanager
async def three_channel_hub(tmp_path: Path) -> AsyncIterator[SmsScene]:
    """A hub taking web chat and e-mail (queue support) and SMS (queue texts)."""
    api = FakeTwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    api.add_number(HUB_NUMBER)
    await api.start()
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = sms_config(public_url=public, api_base_url=api.base_url, wrap_up_s=0)
    config["queues"][0]["channels"] = ["webchat", "email"]
    config["queues"][0]["csat"] = {"enabled": True, "channels": ["webchat"]}
    config["email"] = {"domain": "hub.example.com", "addresses": {"support@example.com": "support"}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    try:
        async with sink_server() as sink:
            env = environ(tmp_path, port)
            env["HUB_EMAIL__SMTP_PORT"] = str(free_port())
            env["HUB_EMAIL__RELAY_PORT"] = str(sink.port)
            async with serve(load_settings(path, env)) as running:
                scene = SmsScene(
                    running, api, TwilioSide(running.base, public, AUTH_TOKEN, ACCOUNT_SID)
                )
                try:
                    yield scene
                finally:
                    for client in scene.clients:
                        await client.close()
    finally:
        await api.close()


async def signed_in_page(browser: Any, base: str, path: str, email: str, alerts: list[str]) -> Page:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page: Page = await ctx.new_page()
    page.on("pageerror", lambda exc: alerts.append(f"error: {exc}"))
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    await page.goto(f"{base}{path}")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{base}{path}")
    return page


async def chat_with_reply_and_note(scene: SmsScene, alice: Client) -> tuple[int, Client]:
    """A visitor chats; Alice answers, replies, writes a private note and closes; the
    visitor rates the chat."""
    visitor = await connect(scene.running.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("message", {"body": "My parcel is late"}))["ok"]
    offer = await alice.next("offer")
    iid = offer["interaction_id"]
    assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
    ack = await alice.call("send_message", {"interaction_id": iid, "body": "It leaves today."})
    assert ack.get("ok"), ack
    ack = await alice.call("add_note", {"interaction_id": iid, "body": "Promised a refund"})
    assert ack.get("ok"), ack
    assert (await alice.call("close", {"interaction_id": iid}))["ok"]
    await alice.wait_for("interaction_updated", lambda u: u.get("state") == "ended")
    await visitor.next("survey")
    ack = await visitor.call(
        "rate", {"interaction_id": iid, "score": 4, "comment": "Quick, thanks"}
    )
    assert ack.get("ok"), ack
    return offer["customer"]["customer_id"], visitor


async def test_supervisor_finds_a_customer_and_reads_every_channel_newest_first(
    browser: Any, tmp_path: Path
) -> None:
    alerts: list[str] = []
    async with three_channel_hub(tmp_path) as scene:
        hub = scene.running
        await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        await hub.add_user("ben@example.com", "Ben Agent")
        sam = await hub.sign_in("sam@example.com")
        alice = await scene.agent("alice@example.com", "Alice Agent")
        customer = {
            "name": NAME,
            "company": "Example Ltd",
            "tier": "important",
            "identities": [
                {"kind": "email", "value": "carol@example.org"},
                {"kind": "phone", "value": CUSTOMER},
            ],
        }
        code, body = await hub.send("POST", "/api/v1/customers", sam, json=customer)
        assert code == 201, body
        carol = body["customer"]["customer_id"]

        # Chat first (an anonymous visitor, linked to Carol afterwards), then e-mail, then SMS.
        visitor_id, visitor = await chat_with_reply_and_note(scene, alice)
        code, body = await hub.send(
            "POST", f"/api/v1/customers/{carol}/merge", sam, json={"from_customer_id": visitor_id}
        )
        assert code == 200, body
        await send(
            hub.hub.settings,
            mail(
                sender="Carol <carol@example.org>",
                subject="Invoice 17",
                body="Invoice 17 is wrong.",
            ),
        )
        answer = await scene.twilio.sms(
            from_number=CUSTOMER, to_number=HUB_NUMBER, body="Call me back?"
        )
        assert answer.status == 200
        # Alice answers the text; Twilio reports the reply delivered.
        offer = await alice.wait_for("offer", lambda o: o["channel"] == "sms")
        sms_iid = offer["interaction_id"]
        assert (await alice.call("accept", {"interaction_id": sms_iid}))["ok"]
        ack = await alice.call(
            "send_message", {"interaction_id": sms_iid, "body": "Calling you now."}
        )
        assert ack.get("ok"), ack
        [sent] = await scene.api.wait_for(1)
        delivered = await scene.twilio.status(
            sent.form["StatusCallback"], sid=scene.api.messages[0]["sid"], status="delivered"
        )
        assert delivered.status < 300
        await alice.wait_for("message_details", lambda d: d["sms"]["status"] == "delivered")
        _, record = await hub.get(f"/api/v1/customers/{carol}", sam)
        assert sorted(i["channel"] for i in record["interactions"]) == ["email", "sms", "webchat"]

        page = await signed_in_page(
            browser, hub.base, "/console/supervisor", "sam@example.com", alerts
        )
        await page.click("#customers-link")  # from the wallboard's top bar
        await page.wait_for_url(f"{hub.base}/console/customers")
        box = page.locator("#search-query")
        await expect(box).to_be_focused()
        results = page.locator("#search-results .customer-result")

        # The phone number as written at home finds the customer stored as +14155550123.
        await box.fill(NATIONAL)
        await box.press("Enter")
        await expect(results).to_have_count(1)
        await expect(results.locator(".customer-result-name")).to_have_text(NAME)
        await expect(results.locator(".customer-result-company")).to_have_text("Example Ltd")
        await expect(results.locator(".tier-badge")).to_have_text("important")
        await expect(results.locator(".customer-result-identities")).to_have_text(
            f"carol@example.org · {CUSTOMER}"
        )
        sms_at = max(i["created_at"] for i in record["interactions"])  # the SMS, last
        last_contact = await page.evaluate(
            "iso => { const d = new Date(iso), p = (n) => String(n).padStart(2, '0');"
            " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `"
            " + `${p(d.getHours())}:${p(d.getMinutes())}`; }",
            sms_at,
        )
        await expect(results.locator(".customer-result-last")).to_have_text(
            f"Last contact {last_contact}"
        )

        # In Chinese, the list's words follow at once; the customer's stay as they are.
        await page.select_option("#language-select", "zh-CN")
        await expect(results.locator(".customer-result-last")).to_have_text(
            f"最近联系 {last_contact}"
        )
        await expect(results.locator(".customer-result-name")).to_have_text(NAME)
        await page.select_option("#language-select", "en")
        await expect(page.locator("#search-go")).to_have_text("Search")

        # Part of the name, then down to the result and Enter opens the record.
        await page.locator("body").click(position={"x": 5, "y": 300})
        await page.keyboard.press("/")
        await expect(box).to_be_focused()
        await box.fill("ol exam")
        await box.press("Enter")
        await expect(results).to_have_count(1)
        await expect(page.locator("#search-status")).to_have_text("1 customer")
        await box.press("ArrowDown")
        await expect(results.locator("a")).to_be_focused()
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{hub.base}/console/customers/{carol}")

        await expect(page.locator("#record-name")).to_have_text(NAME)
        await expect(page.locator("#record-tier")).to_have_text("important")
        await expect(page.locator("#record-identities")).to_contain_text(CUSTOMER)
        items = page.locator("#record-timeline .record-interaction")
        await expect(items).to_have_count(3)
        channels = await items.evaluate_all("nodes => nodes.map(n => n.dataset.channel)")
        assert channels == ["sms", "email", "webchat"]  # newest first
        await expect(items.nth(0).locator(".channel-badge")).to_contain_text("sms")
        await expect(items.nth(0).locator(".history-queue")).to_have_text("texts")

        sms, email, chat = items.nth(0), items.nth(1), items.nth(2)
        await sms.locator("summary").click()
        await expect(sms.locator(".record-messages .message-in .message-body")).to_have_text(
            "Call me back?"
        )
        # The reply's delivery, as Twilio last reported it.
        await expect(sms.locator(".message-out .message-body")).to_have_text("Calling you now.")
        await expect(sms.locator(".message-out .sms-status")).to_have_text("delivered")
        await expect(sms.locator(".message-receipt")).to_have_count(0)  # a chat's "Sent"
        await email.locator("summary").click()
        await expect(email.locator(".record-subject")).to_have_text("Invoice 17")
        await expect(email.locator(".message-in .message-body")).to_contain_text(
            "Invoice 17 is wrong."
        )
        await chat.locator("summary").click()
        await expect(chat.locator(".history-agent")).to_have_text("Alice Agent")
        await expect(chat.locator(".history-state")).to_have_text("ended")
        await expect(chat.locator(".history-rating-score")).to_have_text("4/5")
        await expect(chat.locator(".history-rating-comment")).to_have_text("Quick, thanks")
        steps = await chat.locator(".record-step").evaluate_all(
            "nodes => nodes.map(n => n.dataset.step)"
        )
        assert steps[0] == "queued" and "assigned" in steps and steps[-1] == "ended", steps
        lines = chat.locator(".record-messages > li")
        await expect(lines.locator(".message-body")).to_have_text(
            ["My parcel is late", "It leaves today.", "Promised a refund"]
        )
        note = chat.locator(".message-private")
        await expect(note).to_have_count(1)
        await expect(note.locator(".note-label")).to_have_text("Private note")
        await expect(note.locator(".message-author")).to_have_text("Alice Agent")
        await expect(chat.locator(".message-out .message-author")).to_have_text("Alice Agent")
        await expect(chat.locator(".message-out .message-receipt")).to_have_text("Sent")
        await expect(page.locator("#record-notes .note-body")).to_have_text(["Promised a refund"])

        # The name stayed text: no element was built from it, nothing ran.
        assert await page.locator("main img").count() == 0
        assert alerts == []

        # The visitor's record, merged into Carol's, says where it went and links there.
        await page.goto(f"{hub.base}/console/customers/{visitor_id}")
        status = page.locator("#record-status")
        await expect(status).to_contain_text("merged into another customer")
        await status.get_by_role("link", name=f"customer #{carol}").click()
        await page.wait_for_url(f"{hub.base}/console/customers/{carol}")
        await expect(page.locator("#record-name")).to_have_text(NAME)

        # An agent who never served Carol is told why there is nothing to see.
        ben_page = await signed_in_page(
            browser, hub.base, f"/console/customers/{carol}", "ben@example.com", alerts
        )
        await expect(ben_page.locator("#record-status")).to_contain_text("not one of yours")
        await expect(ben_page.locator("#record")).to_be_hidden()
        # And a record that does not exist says so, for anyone.
        await ben_page.goto(f"{hub.base}/console/customers/999999")
        await expect(ben_page.locator("#record-status")).to_contain_text("no such customer")
        assert alerts == []
        await visitor.close()
