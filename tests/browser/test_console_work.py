"""The console's work tools in headless Chromium: wrap-up with a required disposition,
canned responses with placeholders, a transfer note, the language switch, the help overlay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_console_chat import sign_in
from tests.fakes.console_hub import ZH_HELLO, console_hub
from tests.functional.conftest import Client, Running, connect

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="window.__pwned=1">'


@asynccontextmanager
async def agent_page(browser: Any, running: Running, email: str) -> AsyncIterator[Page]:
    """A signed-in, available agent's console; fails the test on any page error."""
    errors: list[str] = []
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, running.base, email)
    await page.select_option("#state-select", "available")
    await expect(page.locator("#state-label")).to_contain_text("vailable")
    try:
        yield page
    finally:
        await context.close()
    assert errors == []


async def visitor_writes(running: Running, name: str, text: str) -> tuple[Client, str]:
    visitor = await connect(running.base, "/chat", auth={})
    session = await visitor.next("session")
    assert (await visitor.call("profile", {"name": name}))["ok"]
    assert (await visitor.call("message", {"body": text}))["ok"]
    return visitor, session["token"]


async def accept_offer(page: Page, preview: str) -> None:
    card = page.locator(".offer-card", has_text=preview)
    await expect(card).to_be_visible()
    await card.locator(".offer-accept").click()
    await expect(page.locator("#messages .message-in .message-body").last).to_have_text(preview)


@dataclass
class Chatting:
    running: Running
    page: Page
    visitor: Client


@asynccontextmanager
async def alice_chatting(
    browser: Any, tmp_path: Path, customer: str, text: str
) -> AsyncIterator[Chatting]:
    """Alice's console holding the chat a visitor named ``customer`` opened with ``text``."""
    async with console_hub(tmp_path) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        async with agent_page(browser, running, "alice@example.com") as page:
            visitor, _ = await visitor_writes(running, customer, text)
            await accept_offer(page, text)
            try:
                yield Chatting(running, page, visitor)
            finally:
                await visitor.close()


async def test_ready_needs_the_required_disposition_and_the_record_shows_it(
    browser: Any, tmp_path: Path
) -> None:
    async with console_hub(tmp_path) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        async with agent_page(browser, running, "alice@example.com") as page:
            visitor, token = await visitor_writes(running, "Carol Customer", "parcel lost")
            await accept_offer(page, "parcel lost")
            await page.click("#close-conversation")

            panel = page.locator("#wrap-up-panel")
            await expect(panel).to_be_visible()
            options = page.locator("#wrap-up-disposition option")
            await expect(options).to_have_text(
                ["Choose a disposition (required)…", "resolved", "follow up", "no answer"]
            )
            await page.click("#end-wrap-up")
            error = page.locator("#wrap-up-error")
            await expect(error).to_have_text("Choose a disposition first: this queue requires one.")
            await expect(page.locator("#work-list .work-item")).to_have_count(1)
            await expect(page.locator("#wrap-up-disposition")).to_be_focused()

            await page.select_option("#wrap-up-disposition", "follow_up")
            await page.fill("#wrap-up-note", "Courier calls back <b>Monday</b>")
            await page.locator("#wrap-up-note").blur()
            await expect(page.locator("#wrap-up-saved")).to_have_text("Saved")
            await expect(error).to_be_hidden()
            await page.click("#end-wrap-up")
            await expect(page.locator("#work-list .work-item")).to_have_count(0)

            # She writes again: the new offer pops her record, the last contact's outcome on it.
            await visitor.close()
            visitor = await connect(running.base, "/chat", auth={"token": token})
            await visitor.next("session")
            assert (await visitor.call("message", {"body": "any news?"}))["ok"]
            await expect(page.locator(".offer-card")).to_be_visible()
            history = page.locator("#customer-history .history-item")
            await expect(history).to_have_count(2)  # the offered contact and the ended one
            past = history.filter(has_text="ended")
            await expect(past.locator(".history-disposition")).to_have_text("follow up")
            await expect(past.locator(".history-wrap-up-note")).to_have_text(
                "Courier calls back <b>Monday</b>"
            )
            await visitor.close()


async def test_canned_response_by_shortcut_fills_placeholders(browser: Any, tmp_path: Path) -> None:
    async with alice_chatting(browser, tmp_path, "Carol Customer", "hi there") as chat:
        page, visitor = chat.page, chat.visitor
        composer = page.locator("#composer")
        await composer.press_sequentially("/")
        listed = page.locator("#canned-list .canned-shortcut")
        await expect(listed).to_have_text(["/hello", "/bye"])  # /refund is for email only
        await composer.press("Escape")
        await expect(page.locator("#canned-list")).to_be_hidden()
        await expect(composer).to_have_value("/")

        await composer.fill("")
        await composer.press_sequentially("Sure. /b")
        await expect(listed).to_have_text(["/bye"])
        await composer.press("Enter")
        await expect(composer).to_have_value(
            "Sure. Thank you, Carol Customer! Alice Agent from {team} signing off."
        )

        await composer.fill("")
        await composer.press_sequentially("/")
        await composer.press("ArrowDown")
        await composer.press("ArrowDown")  # wraps back to the first
        await expect(page.locator("#canned-list [aria-selected=true]")).to_contain_text("/hello")
        await composer.press("Enter")
        text = "Hello Carol Customer, this is Alice. How can I help?"
        await expect(composer).to_have_value(text)
        await composer.press("Enter")  # the list is closed: Enter sends
        got = await visitor.wait_for("message", lambda m: m["message"]["direction"] == "out")
        assert got["message"]["body"] == text


async def test_canned_placeholder_with_hostile_customer_name_stays_text(
    browser: Any, tmp_path: Path
) -> None:
    async with alice_chatting(browser, tmp_path, HOSTILE, "hello") as chat:
        page = chat.page
        composer = page.locator("#composer")
        await composer.press_sequentially("/hel")
        await composer.press("Enter")
        text = f"Hello {HOSTILE}, this is Alice. How can I help?"
        await expect(composer).to_have_value(text)
        await composer.press("Enter")
        sent = page.locator("#messages .message-out .message-body").last
        await expect(sent).to_have_text(text)
        assert await page.locator("#messages img, .canned-list img, #thread-title img").count() == 0
        assert await page.evaluate("window.__pwned") is None


async def test_transfer_note_is_seen_by_the_receiving_agent(browser: Any, tmp_path: Path) -> None:
    async with console_hub(tmp_path) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        await running.add_user("bob@example.com", "Bob Agent")
        async with (
            agent_page(browser, running, "alice@example.com") as alice,
            agent_page(browser, running, "bob@example.com") as bob,
        ):
            # Bob became available last, so Alice (longest idle) is offered the chat.
            visitor, _ = await visitor_writes(running, "Carol Customer", "refund please")
            await accept_offer(alice, "refund please")
            await expect(bob.locator(".offer-card")).to_have_count(0)

            await alice.click("#transfer")
            await alice.select_option("#transfer-target", label="Agent: Bob Agent (available)")
            note = f"Wants a refund for order 42 {HOSTILE}"
            await alice.fill("#transfer-note", note)
            await alice.click("#transfer-submit")
            await expect(alice.locator("#work-list .work-item")).to_have_count(0)

            card = bob.locator(".offer-card")
            await expect(card.locator(".transfer-note-label")).to_have_text(
                "Transfer note from Alice Agent"
            )
            await expect(card.locator(".transfer-note-body")).to_have_text(note)
            await card.locator(".offer-accept").click()
            in_thread = bob.locator("#messages .message-transfer-note")
            await expect(in_thread.locator(".message-body")).to_have_text(note)
            await expect(in_thread.locator(".message-author")).to_have_text(
                "Transfer note from Alice Agent"
            )
            assert await bob.locator("#messages img, .offer-card img").count() == 0
            assert await bob.evaluate("window.__pwned") is None
            assert all(note not in str(m) for m in visitor.pending("message"))
            await visitor.close()


async def test_language_switch_to_chinese_persists_and_leaves_customer_text(
    browser: Any, tmp_path: Path
) -> None:
    async with alice_chatting(browser, tmp_path, "Carol Customer", "Where is my order?") as chat:
        page, running = chat.page, chat.running
        await expect(page.locator("#work-title")).to_have_text("My conversations")

        await page.select_option("#language-select", "zh-CN")
        await expect(page.locator("#work-title")).to_have_text("我的会话")
        await expect(page.locator("#close-conversation")).to_have_text("结束会话")
        await expect(page.locator("#send")).to_have_text("发送")
        await expect(page.locator("#state-label")).to_contain_text("空闲")
        await expect(page.locator("#connection-status")).to_have_text("已连接")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        # Customer text and names are never translated.
        await expect(page.locator("#messages .message-in .message-body")).to_have_text(
            "Where is my order?"
        )
        await expect(page.locator("#thread-title")).to_have_text("Carol Customer")
        # The Chinese version of a canned response is offered.
        composer = page.locator("#composer")
        await composer.press_sequentially("/hello")
        await composer.press("Enter")
        await expect(composer).to_have_value(
            ZH_HELLO.replace("{customer.name}", "Carol Customer").replace(
                "{agent.first_name}", "Alice"
            )
        )
        await composer.fill("")

        await page.reload()
        await expect(page.locator("#work-title")).to_have_text("我的会话")
        await expect(page.locator("#language-select")).to_have_value("zh-CN")
        await expect(page.locator("#messages .message-in .message-body")).to_have_text(
            "Where is my order?"
        )

        # Saved on the account: another browser (English, nothing stored) opens in Chinese.
        other = await browser.new_context(locale="en-US")
        fresh = await other.new_page()
        await sign_in(fresh, running.base, "alice@example.com")
        await expect(fresh.locator("#work-title")).to_have_text("我的会话")
        await expect(fresh.locator("#offers-empty")).to_contain_text("暂无待接分配")
        await other.close()

        await page.keyboard.press("Escape")
        await page.locator("#work-title").click()
        await page.keyboard.press("?")
        await expect(page.locator("#help-overlay")).to_be_visible()
        await expect(page.locator("#help-title")).to_have_text("键盘快捷键")
        await page.keyboard.press("Escape")
        await expect(page.locator("#help-overlay")).to_be_hidden()


async def test_sign_in_page_follows_the_browsers_language(browser: Any, tmp_path: Path) -> None:
    async with console_hub(tmp_path) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        context = await browser.new_context(locale="zh-CN")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{running.base}/login")
        await expect(page.locator("#login-submit")).to_have_text("登录")
        await expect(page.locator("label[for=email]")).to_have_text("邮箱")
        await expect(page.locator("#language-select")).to_have_value("zh-CN")
        await page.fill("#email", "alice@example.com")
        await page.fill("#password", "not the password")
        await page.click("#login-submit")
        await expect(page.locator("#login-error")).to_have_text("邮箱或密码不正确。")

        await page.select_option("#language-select", "en")
        await expect(page.locator("#login-submit")).to_have_text("Sign in")
        await page.reload()  # this browser remembers the choice
        await expect(page.locator("label[for=password]")).to_have_text("Password")
        await context.close()
        assert errors == []
