"""An agent gets an email in the console, reads it safely, replies; the relay gets it threaded."""

from __future__ import annotations

import asyncio
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.test_console_chat import sign_in
from tests.functional.test_email_support import email_settings, send, serve, sink_server

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="window.__pwned=1">'


def customer_mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Carol Customer <carol@example.org>"
    msg["To"] = "support@example.com"
    msg["Subject"] = "Broken kettle"
    msg["Message-ID"] = "<kettle-1@example.org>"
    msg.set_content(f"My kettle stopped working. {HOSTILE}\n\nOn Mon, Bob wrote:\n> earlier text\n")
    msg.add_alternative(
        f"<p>My kettle <b>stopped</b> working.</p>{HOSTILE}<script>window.__pwned=2</script>",
        subtype="html",
    )
    msg.add_attachment(b"JPEGDATA", maintype="image", subtype="jpeg", filename="kettle.jpg")
    return msg


async def test_agent_reads_email_and_replies_threaded(browser: Any, tmp_path: Path) -> None:
    async with sink_server() as sink:
        canned = (
            "[{shortcut: kettle, title: New kettle, channels: [email],"
            " text: 'Sorry about that, {customer.name}! A new kettle is on its way.'}]"
        )
        settings = email_settings(
            tmp_path, relay_port=sink.port, wrap_up_s=60, env={"HUB_CANNED_RESPONSES": canned}
        )
        async with serve(settings) as running:
            await running.add_user("alice@example.com", "Alice Agent")
            errors: list[str] = []
            context = await browser.new_context()
            page = await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            thread_fetches: list[str] = []
            page.on(
                "request",
                lambda r: thread_fetches.append(r.url) if r.url.endswith("/email") else None,
            )
            frames: list[str] = []
            page.on(
                "websocket",
                lambda ws: ws.on(
                    "framereceived", lambda f: frames.append(f if isinstance(f, str) else "")
                ),
            )
            await sign_in(page, running.base, "alice@example.com")
            await page.select_option("#state-select", "available")
            await expect(page.locator("#state-label")).to_contain_text("vailable")

            await send(settings, customer_mail())
            card = page.locator(".offer-card")
            await expect(card).to_be_visible(timeout=5000)
            await expect(card.locator(".offer-customer")).to_contain_text("Carol Customer")
            await expect(card.locator(".offer-subject")).to_have_text("Broken kettle")
            await card.locator(".offer-accept").click()

            view = page.locator("#email-view")
            await expect(view).to_be_visible()
            await expect(page.locator("#composer-form")).to_be_hidden()
            await expect(page.locator("#email-subject")).to_have_text("Broken kettle")
            first = page.locator("#email-messages .email-message").first
            await expect(first.locator(".email-from")).to_have_text(
                "Carol Customer <carol@example.org>"
            )
            await expect(first.locator(".email-body")).to_contain_text(HOSTILE)  # as text
            await expect(first.locator(".email-quoted")).to_contain_text("Show quoted text")
            await expect(first.locator(".email-attachment-link")).to_contain_text("kettle.jpg")
            await first.locator(".email-html summary").click()
            frame = first.locator("iframe.email-html-frame")
            assert await frame.get_attribute("sandbox") == ""
            inner = page.frame_locator("#email-messages iframe.email-html-frame").first
            await expect(inner.locator("b")).to_have_text("stopped")
            assert await inner.locator("script").count() == 0
            assert await page.evaluate("window.__pwned") is None
            assert await page.locator("#email-messages img").count() == 0

            subject = page.locator("#email-reply-subject")
            await expect(subject).to_have_value("Re: Broken kettle [#1]")
            reply = page.locator("#email-reply-body")
            await reply.press_sequentially("/ket")  # the email composer has canned responses too
            await expect(page.locator("#email-canned-list .canned-shortcut")).to_have_text(
                ["/kettle"]
            )
            await reply.press("Enter")
            text = "Sorry about that, Carol Customer! A new kettle is on its way."
            await expect(reply).to_have_value(text)
            sink.hold = asyncio.Event()  # the relay answers only when released
            await page.click("#email-reply-send")
            sent = page.locator("#email-messages .email-out .email-status")
            await expect(sent).to_have_text("queued", timeout=5000)
            fetched = len(thread_fetches)
            sink.hold.set()
            await sink.wait(1)
            _, rcpt, msg = sink.received[0]
            assert rcpt == ["carol@example.org"]
            assert msg["In-Reply-To"] == "<kettle-1@example.org>"
            assert msg["References"] == "<kettle-1@example.org>"
            assert msg["Subject"] == "Re: Broken kettle [#1]"
            assert msg["Reply-To"].addresses[0].addr_spec == "support+c1@example.com"
            body = msg.get_body(("plain",)).get_content()
            assert body.startswith(text)
            # "sent" arrives over the socket: no reload, no new fetch of the thread.
            await expect(sent).to_have_text("sent", timeout=5000)
            assert len(thread_fetches) == fetched, thread_fetches
            assert any("message_details" in f and '"sent"' in f for f in frames)
            assert errors == []
            await context.close()


async def test_supervisor_whisper_shows_in_the_email_thread(browser: Any, tmp_path: Path) -> None:
    from hub.model import Role
    from tests.functional.conftest import connect

    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port, wrap_up_s=60)
        async with serve(settings) as running:
            await running.add_user("alice@example.com", "Alice Agent")
            await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
            errors: list[str] = []
            context = await browser.new_context()
            page = await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await sign_in(page, running.base, "alice@example.com")
            await page.select_option("#state-select", "available")
            await send(settings, customer_mail())
            await page.locator(".offer-card .offer-accept").click()
            emails = page.locator("#email-messages .email-message")
            await expect(emails).to_have_count(1)

            sam = await connect(
                running.base, "/supervisor", token=await running.sign_in("sam@example.com")
            )
            (held,) = (await sam.call("current_interactions"))["interactions"]
            body = "<i>Offer a new kettle</i>"
            ack = await sam.call(
                "whisper", {"interaction_id": held["interaction_id"], "body": body}
            )
            assert ack["ok"], ack
            whisper = page.locator("#email-messages .email-whisper")
            await expect(whisper.locator(".email-from")).to_have_text("Whisper from Sam Supervisor")
            await expect(whisper.locator(".email-body")).to_have_text(body)  # as text
            await expect(emails).to_have_count(2)  # after the customer's email, not instead
            await expect(emails.last).to_have_class(re.compile("email-whisper"))
            assert await page.locator("#email-messages i").count() == 0
            assert errors == []
            await sam.close()
            await context.close()
