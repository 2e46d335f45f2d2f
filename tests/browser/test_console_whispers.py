"""A supervisor's whispers stay in the agent's thread: one sent while the agent's console was
closed is there when they open it (chat and email), among the messages by time and labelled
in the agent's language, and a whisper is never shown twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from hub.model import Role
from tests.browser.test_console_chat import sign_in
from tests.browser.test_console_email import customer_mail
from tests.functional.conftest import Client, Running, connect
from tests.functional.test_email_support import email_settings, send, serve, sink_server

pytestmark = pytest.mark.browser


async def whisper(sam: Client, interaction_id: int, body: str) -> None:
    ack = await sam.call("whisper", {"interaction_id": interaction_id, "body": body})
    assert ack["ok"], ack


async def open_console(context: Any, base: str, errors: list[str]) -> Page:
    """The agent opens the console again in the same browser (still signed in)."""
    page: Page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{base}/console")
    await expect(page.locator("#connection-status")).to_have_text("connected")
    return page


async def test_whispers_sent_while_the_console_was_closed_are_in_the_chat(
    browser: Any, live_hub: Running
) -> None:
    hub = live_hub
    await hub.add_user("alice@example.com", "Alice Agent")
    await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    errors: list[str] = []
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, hub.base, "alice@example.com")
    await page.select_option("#state-select", "available")
    visitor = await connect(hub.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("message", {"body": "where is my parcel?"}))["ok"]
    await page.locator(".offer-card .offer-accept").click()
    await expect(page.locator("#messages .message")).to_have_count(1)
    await page.close()  # the agent closes the console

    sam = await connect(hub.base, "/supervisor", token=await hub.sign_in("sam@example.com"))
    (held,) = (await sam.call("current_interactions"))["interactions"]
    iid = held["interaction_id"]
    await whisper(sam, iid, "Offer a refund")
    assert (await visitor.call("message", {"body": "hello? anyone?"}))["ok"]
    await whisper(sam, iid, "<i>Mind the tone</i>")

    page = await open_console(context, hub.base, errors)
    lines = page.locator("#messages .message")
    await expect(lines.locator(".message-body")).to_have_text(
        ["where is my parcel?", "Offer a refund", "hello? anyone?", "<i>Mind the tone</i>"]
    )
    whispers = page.locator("#messages .message-system")
    await expect(whispers.locator(".message-author")).to_have_text(
        ["Whisper from Sam Supervisor", "Whisper from Sam Supervisor"]
    )
    assert await page.locator("#messages i").count() == 0  # customer-invisible text, as text

    # A live whisper joins them once; the thread drawn again (another language) has no twin.
    await whisper(sam, iid, "Third time lucky")
    await expect(whispers).to_have_count(3)
    await page.select_option("#language-select", "zh-CN")
    await expect(whispers.locator(".message-author")).to_have_text(["Sam Supervisor 的悄悄话"] * 3)
    await expect(lines).to_have_count(5)
    note_ids = await whispers.evaluate_all("(nodes) => nodes.map((n) => n.dataset.noteId)")
    assert len(set(note_ids)) == 3, note_ids
    assert not [m for m in visitor.pending("message") if "refund" in str(m)]
    assert errors == []
    await sam.close()
    await visitor.close()
    await context.close()


async def test_a_whisper_sent_while_the_console_was_closed_is_in_the_email_thread(
    browser: Any, tmp_path: Path
) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port, wrap_up_s=60)
        async with serve(settings) as running:
            await running.add_user("alice@example.com", "Alice Agent")
            await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
            errors: list[str] = []
            context = await browser.new_context()
            page = await context.new_page()
            await sign_in(page, running.base, "alice@example.com")
            await page.select_option("#state-select", "available")
            await send(settings, customer_mail())
            await page.locator(".offer-card .offer-accept").click()
            await expect(page.locator("#email-messages .email-message")).to_have_count(1)
            await page.close()

            sam = await connect(
                running.base, "/supervisor", token=await running.sign_in("sam@example.com")
            )
            (held,) = (await sam.call("current_interactions"))["interactions"]
            await whisper(sam, held["interaction_id"], "Offer a new kettle")

            page = await open_console(context, running.base, errors)
            emails = page.locator("#email-messages .email-message")
            await expect(emails).to_have_count(2)
            last = emails.last
            await expect(last.locator(".email-from")).to_have_text("Whisper from Sam Supervisor")
            await expect(last.locator(".email-body")).to_have_text("Offer a new kettle")
            await expect(page.locator("#email-messages .email-whisper")).to_have_count(1)
            assert errors == []
            await sam.close()
            await context.close()
