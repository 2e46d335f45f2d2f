"""The customer panel in headless Chromium: an agent edits the record of the visitor they chat
with (name, tier, an inline refusal, a hostile name shown as text), then finds a known
customer by e-mail and links the conversation to them (a merge), after a confirmation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from hub.model import Role
from tests.browser.test_console_work import HOSTILE, accept_offer, agent_page
from tests.functional.conftest import Client, Running, connect, serve, settings_for
from tests.functional.test_customers_api import FIELDS

pytestmark = pytest.mark.browser


@pytest.fixture
async def hub_with_fields(tmp_path: Path) -> AsyncIterator[Running]:
    """A hub whose customers have the custom fields contract_end (date), seats, plan."""
    async with serve(settings_for(tmp_path, wrap_up_s=60, HUB_CUSTOMER_FIELDS=FIELDS)) as running:
        yield running


async def anonymous_visitor_writes(running: Running, text: str) -> Client:
    """A visitor who skipped the pre-chat form: no name, no e-mail."""
    visitor = await connect(running.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("message", {"body": text}))["ok"]
    return visitor


async def save_profile(page: Page, fields: dict[str, str]) -> None:
    """Open the edit form from the keyboard, fill ``fields`` (by their labels) and submit
    with Enter."""
    await page.focus("#customer-edit")
    await page.keyboard.press("Enter")
    form = page.locator("#customer-form")
    await expect(form).to_be_visible()
    await expect(page.locator("#customer-form-name")).to_be_focused()
    for label, value in fields.items():
        field = form.get_by_label(label, exact=True)
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    await page.press("#customer-form-name", "Enter")


async def test_agent_edits_the_customer_and_links_the_chat_to_a_known_one(
    browser: Any, hub_with_fields: Running
) -> None:
    live_hub = hub_with_fields
    await live_hub.add_user("alice@example.com", "Alice Agent")
    await live_hub.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
    admin = await live_hub.sign_in("ada@example.com")
    known = {"name": "Dana Known", "identities": [{"kind": "email", "value": "dana@example.com"}]}
    code, body = await live_hub.send("POST", "/api/v1/customers", admin, json=known)
    assert code == 201, body
    dana = body["customer"]["customer_id"]

    async with agent_page(browser, live_hub, "alice@example.com") as page:
        visitor = await anonymous_visitor_writes(live_hub, "Where is my parcel?")
        await accept_offer(page, "Where is my parcel?")
        _, listed = await live_hub.get("/api/v1/interactions", admin)
        (interaction,) = listed["interactions"]
        iid, visitor_id = interaction["interaction_id"], interaction["customer_id"]
        work_name = page.locator("#work-list .work-customer")
        await expect(page.locator("#customer-name")).to_have_text("Anonymous visitor")
        await expect(work_name).to_have_text("Anonymous visitor")
        full_record = page.locator("#customer-full-record")
        await expect(full_record).to_have_attribute("href", f"/console/customers/{visitor_id}")
        await expect(full_record).to_have_attribute("target", "_blank")

        # Edit: the panel, the work item and the thread title follow; the hub has it.
        await save_profile(
            page,
            {
                "Name": "Erin Example",
                "Tier": "important",
                "Tags": "parcel, late",
                "plan": "pro",
                "contract end": "2026-12-31",
            },
        )
        await expect(page.locator("#customer-form")).to_be_hidden()
        await expect(page.locator("#customer-name")).to_have_text("Erin Example")
        await expect(page.locator("#customer-tier")).to_have_text("important")
        await expect(page.locator("#customer-tags .customer-tag")).to_have_text(["parcel", "late"])
        await expect(page.locator("#customer-custom dt")).to_have_text(["contract end", "plan"])
        await expect(page.locator("#customer-custom dd")).to_have_text(["2026-12-31", "pro"])
        await expect(work_name).to_have_text("Erin Example")
        await expect(page.locator("#thread-title")).to_have_text("Erin Example")
        _, record = await live_hub.get(f"/api/v1/customers/{visitor_id}", admin)
        assert (record["name"], record["tier"], record["tags"], record["custom"]) == (
            "Erin Example",
            "important",
            ["parcel", "late"],
            {"contract_end": "2026-12-31", "plan": "pro"},
        )

        # A refusal is shown inline, in the hub's words; Escape leaves the record as it was.
        await save_profile(page, {"Language": "not a language"})
        error = page.locator("#customer-form-error")
        await expect(error).to_contain_text("language must be a language tag")
        await expect(page.locator("#customer-form")).to_be_visible()
        await page.press("#customer-form-language", "Escape")
        await expect(page.locator("#customer-form")).to_be_hidden()
        await expect(page.locator("#customer-edit")).to_be_focused()
        _, record = await live_hub.get(f"/api/v1/customers/{visitor_id}", admin)
        assert record["language"] is None

        # A hostile name typed into the form is a name, never markup.
        await save_profile(page, {"Name": HOSTILE, "plan": ""})
        await expect(page.locator("#customer-name")).to_have_text(HOSTILE)
        await expect(work_name).to_have_text(HOSTILE)
        await expect(page.locator("#customer-custom dt")).to_have_text(["contract end"])

        # Search by e-mail, and link the conversation to the customer found.
        await page.click("#customer-link > summary")
        await page.fill("#link-query", "dana@example.com")
        await page.press("#link-query", "Enter")
        result = page.locator("#link-results .link-result")
        await expect(result).to_have_count(1)
        await expect(result.locator(".link-result-name")).to_have_text("Dana Known")
        await expect(result.locator(".link-result-identities")).to_have_text("dana@example.com")
        await result.locator(".link-result-button").click()
        confirm = page.locator("#link-confirm")
        await expect(confirm).to_be_visible()
        await expect(page.locator("#link-confirm-yes")).to_be_focused()
        await expect(confirm).to_contain_text(f"The record of {HOSTILE}")
        await expect(confirm).to_contain_text("moves to Dana Known")
        await expect(confirm).to_contain_text("An administrator can undo this")
        assert await page.locator("#customer-panel img").count() == 0
        assert await page.evaluate("window.__pwned") is None
        await page.click("#link-confirm-yes")

        await expect(page.locator("#customer-name")).to_have_text("Dana Known")
        await expect(work_name).to_have_text("Dana Known")
        await expect(page.locator("#thread-title")).to_have_text("Dana Known")
        current = page.locator(f'#customer-history .history-item[data-interaction-id="{iid}"]')
        await expect(current).to_have_class("history-item is-current")
        await expect(page.locator("#customer-identities")).to_contain_text("dana@example.com")
        await expect(page.locator("#customer-identities .identity")).to_have_count(2)
        await expect(full_record).to_have_attribute("href", f"/console/customers/{dana}")
        _, record = await live_hub.get(f"/api/v1/customers/{dana}", admin)
        assert [i["interaction_id"] for i in record["interactions"]] == [iid]
        assert (await live_hub.get(f"/api/v1/customers/{visitor_id}", admin))[0] == 404

        # Another load of the console sees the linked customer too.
        await page.reload()
        await expect(work_name).to_have_text("Dana Known")
        await work_name.click()
        await expect(page.locator("#customer-name")).to_have_text("Dana Known")
        # Closing it: the wrap-up is Dana's too.
        await page.click("#close-conversation")
        await expect(page.locator("#work-list .work-state")).to_contain_text("wrap-up")
        await expect(work_name).to_have_text("Dana Known")
        assert await page.evaluate("window.__pwned") is None
        await visitor.close()


async def test_a_customer_edited_in_one_tab_or_by_the_api_changes_in_the_other_tab(
    browser: Any, hub_with_fields: Running
) -> None:
    live_hub = hub_with_fields
    await live_hub.add_user("alice@example.com", "Alice Agent")
    await live_hub.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
    admin = await live_hub.sign_in("ada@example.com")
    async with agent_page(browser, live_hub, "alice@example.com") as first:
        visitor = await anonymous_visitor_writes(live_hub, "Two tabs, one customer")
        await accept_offer(first, "Two tabs, one customer")
        second = await first.context.new_page()  # the same agent's second tab
        await second.goto(f"{live_hub.base}/console")
        await second.locator("#work-list .work-item").first.click()
        await expect(second.locator("#customer-name")).to_have_text("Anonymous visitor")

        await save_profile(first, {"Name": "Fay Fresh", "Tier": "important"})
        await expect(first.locator("#customer-name")).to_have_text("Fay Fresh")
        # The other tab follows without a reload: work item, thread title and panel.
        await expect(second.locator("#work-list .work-customer")).to_have_text("Fay Fresh")
        await expect(second.locator("#thread-title")).to_have_text("Fay Fresh")
        await expect(second.locator("#customer-name")).to_have_text("Fay Fresh")
        await expect(second.locator("#customer-tier")).to_have_text("important")

        # A change made elsewhere (an integration, through the API) reaches both.
        _, listed = await live_hub.get("/api/v1/interactions", admin)
        customer_id = listed["interactions"][0]["customer_id"]
        status, body = await live_hub.send(
            "PATCH", f"/api/v1/customers/{customer_id}", admin, json={"name": "Fay Synced"}
        )
        assert status == 200, body
        for page in (first, second):
            await expect(page.locator("#customer-name")).to_have_text("Fay Synced")
            await expect(page.locator("#work-list .work-customer")).to_have_text("Fay Synced")
        await visitor.close()
