"""A supervisor opens the historical reports from the wallboard: today's table and charts
from real traffic, grouped by agent, in another language, and the CSV link for the same
view."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.test_wallboard import chat, floor_hub, open_wallboard  # noqa: F401 (fixture)
from tests.functional.conftest import Running, connect

pytestmark = pytest.mark.browser


async def test_history_page_shows_todays_table_and_chart(browser: Any, floor_hub: Running) -> None:  # noqa: F811
    hub = floor_hub
    errors: list[str] = []
    await hub.add_user("alice@example.com", "Alice Agent")
    alice = await connect(hub.base, "/agent", token=await hub.sign_in("alice@example.com"))
    await alice.next("hello")
    assert (await alice.call("set_state", {"state": "available"}))["ok"]
    answered = await chat(hub, "my order is late")
    offer = await alice.next("offer")
    iid = offer["interaction_id"]
    assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
    assert (await alice.call("close", {"interaction_id": iid}))["ok"]
    await alice.wait_for("interaction_updated", lambda u: u.get("state") == "ended")
    assert (await alice.call("set_state", {"state": "away"}))["ok"]
    gone = await chat(hub, "hello? anyone?")
    assert (await gone.call("close", {}))["ok"]

    page = await open_wallboard(browser, hub, errors)
    await page.click("#history-link")
    await page.wait_for_url(f"{hub.base}/console/supervisor/history")
    await expect(page.locator("#history-rows tr")).to_have_count(1)
    await page.select_option("#history-interval", "day")  # one row even across an hour
    await page.click("#history-show")
    rows = page.locator("#history-rows tr")
    await expect(rows).to_have_count(1)  # one day, one queue
    await expect(rows.first.locator("td").first).not_to_contain_text(":")
    cells = rows.first.locator("td")
    await expect(cells.nth(1)).to_have_text("support")
    # offered 2, answered 1 (at once, within the 20 s target), abandoned 1: 1 of 2 settled
    await expect(cells.nth(2)).to_have_text("2")
    await expect(cells.nth(3)).to_have_text("1")
    await expect(cells.nth(4)).to_have_text("1")
    await expect(cells.nth(5)).to_have_text("50%")
    await expect(page.locator("#history-chart-contacts .uplot canvas")).to_have_count(1)
    await expect(page.locator("#history-chart-sl .uplot canvas")).to_have_count(1)
    today = await page.input_value("#history-from")
    assert len(today) == 10 and await page.input_value("#history-to") == today

    await page.select_option("#history-group", "agent")
    await page.click("#history-show")
    await expect(page.locator("#history-group-col")).to_have_text("Agent")
    agent_row = page.locator("#history-rows tr", has_text="Alice Agent")
    await expect(agent_row.locator("td").nth(8)).to_have_text("1")  # handled
    await expect(page.locator("#history-rows tr", has_text="(no agent)")).to_have_count(1)
    href = await page.get_attribute("#history-csv", "href")
    assert href is not None and "format=csv" in href and "group=agent" in href
    status, text = await hub.get(href, await hub.sign_in("sam@example.com"))
    assert status == 200 and "Alice Agent" in text

    await page.select_option("#language-select", "zh-CN")
    await expect(page.locator(".topbar-sub")).to_have_text("历史报表")
    await expect(page.locator("#history-group-col")).to_have_text("坐席")
    await expect(
        page.locator("#history-rows tr", has_text="\uff08\u65e0\u5750\u5e2d\uff09")
    ).to_have_count(1)

    assert (await hub.get("/api/v1/reports/history"))[0] == 401  # signed out: refused
    assert errors == []
    for client in (alice, answered, gone):
        await client.close()
