"""The supervisor runs the floor from the wallboard: live tiles and agent rows, threshold
colours, set-state and log-out on an agent's console, whisper, CSV export, a screenshot."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from hub.config import load_settings
from hub.model import Role
from tests.browser.test_console_chat import sign_in
from tests.functional.conftest import PASSWORD, Client, Running, connect, free_port, serve

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
CONFIG = """
queues:
  - name: support
    channels: [webchat]
    offer_timeout_s: 30
    wrap_up_s: 0
    sla_s: 20
    wallboard: {longest_wait_warn_s: 1, longest_wait_alert_s: 3600}
  - name: billing
    channels: [webchat]
    requires: "billing >= 1"
routing:
  presence_grace_s: 30
"""


@pytest.fixture
async def floor_hub(tmp_path: Path) -> AsyncIterator[Running]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    settings = load_settings(
        config,
        {
            "HUB_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
            "HUB_HTTP__PORT": str(free_port()),
            "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
        },
    )
    async with serve(settings) as running:
        yield running


async def open_wallboard(browser: Any, hub: Running, errors: list[str]) -> Page:
    await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    page: Page = await ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{hub.base}/console/supervisor")
    await page.fill("#email", "sam@example.com")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{hub.base}/console/supervisor")
    return page


async def chat(hub: Running, body: str) -> Client:
    visitor = await connect(hub.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("message", {"body": body}))["ok"]
    return visitor


async def test_wallboard_runs_the_floor(browser: Any, floor_hub: Running) -> None:
    hub = floor_hub
    errors: list[str] = []
    await hub.add_user("alice@example.com", "Alice Agent")
    page = await open_wallboard(browser, hub, errors)
    tile = page.locator('.wb-tile[data-queue="support"]')
    await expect(tile.locator(".q-waiting")).to_have_text("0")
    await expect(tile).not_to_have_class(re.compile("is-warning"))
    alice_row = page.locator("#agents-table tr", has_text="Alice Agent")
    await expect(alice_row.locator(".a-state")).to_contain_text("offline")

    # A chat arrives: the tile counts it, and its longest wait crosses the 1 s warning.
    visitor = await chat(hub, "my order is late")
    await expect(tile.locator(".q-waiting")).to_have_text("1")
    await expect(tile.locator(".q-offered")).to_have_text("1")
    await expect(tile).to_have_class(re.compile("is-warning"))
    await expect(tile.locator(".wb-status")).to_have_text("Warning")

    # Alice signs in and goes available: her row changes live; she takes the chat.
    token = await hub.sign_in("alice@example.com")
    alice = await connect(hub.base, "/agent", token=token)
    await alice.next("hello")
    await alice.call("set_state", {"state": "available"})
    await expect(alice_row.locator(".a-state")).to_contain_text("available")
    offer = await alice.next("offer")
    assert (await alice.call("accept", {"interaction_id": offer["interaction_id"]}))["ok"]
    await expect(tile.locator(".q-waiting")).to_have_text("0")
    await expect(tile.locator(".q-answered")).to_have_text("1")
    await expect(tile.locator(".q-sl")).to_have_text("100%")
    await expect(tile).not_to_have_class(re.compile("is-warning"))
    await expect(alice_row.locator(".a-load")).to_contain_text("webchat 1/3")
    await expect(tile.locator(".q-busy")).to_have_text("1")

    # Nobody has the billing skill: filtered to billing, the table is empty.
    await page.select_option("#agent-queue-filter", "billing")
    await expect(page.locator("#agents-table tbody tr")).to_have_count(0)
    await expect(page.locator('.wb-tile[data-queue="billing"] .q-busy')).to_have_text("0")
    await page.select_option("#agent-queue-filter", "")
    await expect(alice_row).to_be_visible()

    # Live view: the supervisor reads the thread and whispers; only Alice gets it.
    watch = page.locator(".wb-watch", has_text=f"#{offer['interaction_id']}")
    await watch.click()
    await expect(page.locator("#live-messages .wb-line-body").first).to_have_text(
        "my order is late"
    )
    assert (await visitor.call("message", {"body": "<b>still there?</b>"}))["ok"]
    await expect(page.locator("#live-messages .wb-line-body").last).to_have_text(
        "<b>still there?</b>"
    )
    await page.fill("#whisper-body", "Offer a refund")
    await page.click("#whisper-send")
    whisper = await alice.wait_for(
        "message", lambda m: m["message"]["author_kind"] == "system", timeout=5
    )
    assert whisper["message"]["body"] == "Offer a refund"
    assert whisper["message"]["author_name"] == "Sam Supervisor"  # the console writes the label
    assert whisper["message"]["whisper"] is True
    assert whisper["interaction_id"] == offer["interaction_id"]
    assert not [m for m in visitor.pending("message") if "refund" in str(m)]

    DOCS.mkdir(exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(DOCS / "wallboard.png"))

    # Set state from the wallboard: Alice's console hears she is away.
    await alice_row.locator(".a-set-state").select_option("away:lunch")
    state = await alice.wait_for("state", lambda s: s["reason"] == "lunch")
    assert state["state"] == "away"
    await expect(alice_row.locator(".a-state")).to_contain_text("away (lunch)")

    # Refused actions explain themselves under the table: nobody can be made available
    # without a console open (offers would expire unseen).
    sam_row = page.locator("#agents-table tr", has_text="Sam Supervisor")
    await sam_row.locator(".a-set-state").select_option("available")
    await expect(page.locator("#agents-error")).to_have_text(
        "Sam Supervisor has no console open; only they can become available"
    )
    await expect(sam_row.locator(".a-state")).to_contain_text("offline")

    # Log out: her console is told, disconnected, and her session no longer works.
    await alice_row.locator(".a-logout").click()
    told = await alice.next("logged_out")
    assert told["by"] == "Sam Supervisor"
    await expect(alice_row.locator(".a-state")).to_contain_text("offline")
    status, _ = await hub.get("/api/v1/me", token)
    assert status == 401

    # The day's interactions as CSV from the header link.
    href = await page.locator("#csv-export").get_attribute("href")
    assert href is not None and href.startswith("/api/v1/reports/interactions.csv?date=")
    async with page.expect_download() as download_info:
        await page.click("#csv-export")
    download = await download_info.value
    rows = list(csv.DictReader(io.StringIO(Path(await download.path()).read_text())))
    assert [r["interaction_id"] for r in rows] == [str(offer["interaction_id"])]
    assert rows[0]["agent_name"] == "Alice Agent"
    assert rows[0]["queue"] == "support" and rows[0]["channel"] == "webchat"
    assert errors == []
    await visitor.close()
    await page.context.close()


async def test_supervisor_actions_reach_the_agent_console(browser: Any, floor_hub: Running) -> None:
    """Whisper shows in the agent's thread, set state moves their selector, log out sends
    their console to the sign-in page."""
    hub = floor_hub
    await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    alice_id = await hub.add_user("alice@example.com", "Alice Agent")
    errors: list[str] = []
    ctx = await browser.new_context()
    agent = await ctx.new_page()
    agent.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(agent, hub.base, "alice@example.com")
    await agent.select_option("#state-select", "available")
    await expect(agent.locator("#state-label")).to_contain_text("vailable")
    visitor = await chat(hub, "where is my parcel?")
    card = agent.locator(".offer-card")
    await card.locator(".offer-accept").click()
    await expect(agent.locator("#work-list .work-item")).to_have_count(1)

    sam = await connect(hub.base, "/supervisor", token=await hub.sign_in("sam@example.com"))
    current = await sam.call("current_interactions")
    (held,) = current["interactions"]
    assert held["agent_name"] == "Alice Agent"
    ack = await sam.call(
        "whisper", {"interaction_id": held["interaction_id"], "body": "<i>Offer a refund</i>"}
    )
    assert ack["ok"], ack
    whisper = agent.locator("#messages .message-system", has_text="Whisper from Sam Supervisor")
    await expect(whisper.locator(".message-body")).to_have_text("<i>Offer a refund</i>")
    assert await agent.locator("#messages i").count() == 0
    assert not [m for m in visitor.pending("message") if "refund" in str(m)]

    ack = await sam.call(
        "set_agent_state", {"agent_id": alice_id, "state": "away", "reason": "lunch"}
    )
    assert ack["ok"], ack
    await expect(agent.locator("#state-select")).to_have_value("away:lunch")

    assert (await sam.call("log_out_agent", {"agent_id": alice_id}))["ok"]
    await agent.wait_for_url(re.compile(r"/login"))
    assert errors == []
    for client in (sam, visitor):
        await client.close()
    await ctx.close()
